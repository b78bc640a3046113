//! vitrine: product photo styling with quantised feed-forward style networks, on the GPU through wgpu (WebGPU in
//! the browser, Vulkan/Metal/DX12 natively) or on the CPU.
//!
//! ```no_run
//! use vitrine::{Backend, Model, Options, StyleSpec, Styler};
//! let mut styler = Styler::new(Model::builtin()?, Backend::Auto)?;
//! let (width, height, rgba) = (64, 64, vec![255u8; 64 * 64 * 4]);
//! let options = Options { style: StyleSpec::Preset(19), ..Options::default() };
//! let styled: Vec<u8> = styler.stylize(width, height, &rgba, &options)?;
//! # Ok::<(), vitrine::Error>(())
//! ```
//!
//! See ARCHITECTURE.md for how the parts fit together.

pub mod cpu;
mod error;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod graph;
pub mod model;
pub mod pixels;
pub mod style;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
pub use graph::{Shape, Tensor};
pub use model::Model;
pub use style::{StyleParams, StyleSpec};

use pixels::{Finish, RGBA};

/// Which executor runs the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// A hardware GPU if one can be had, else the CPU. Software GPU adapters (lavapipe, SwiftShader) run the
    /// shaders on the CPU more slowly than the CPU executor does, so they are passed over.
    #[default]
    Auto,
    /// The GPU, or an error.
    Gpu,
    Cpu,
}

/// Bounds on image size, checked before anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_side: u32,
    pub max_pixels: u64,
}

impl Default for Limits {
    /// 4096 a side and 8 megapixels: a 32-channel activation of that size is 1 GiB of f32.
    fn default() -> Self {
        Limits { max_side: 4096, max_pixels: 8 * 1024 * 1024 }
    }
}

/// How to style one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub style: StyleSpec,
    /// 0 keeps the photo, 1 is the full style.
    pub strength: f32,
    /// Styled brightness, the photo's own colours.
    pub preserve_color: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { style: StyleSpec::Preset(0), strength: 1.0, preserve_color: false }
    }
}

/// The executor for `backend`, and why `Backend::Auto` settled on the CPU if it did.
async fn open_engine(model: &Model, backend: Backend) -> Result<(Engine, Option<String>)> {
    Ok(match backend {
        Backend::Cpu => (Engine::Cpu, None),
        #[cfg(feature = "gpu")]
        Backend::Gpu => (Engine::Gpu(Box::new(gpu::GpuExecutor::new(&model.graph).await?)), None),
        #[cfg(not(feature = "gpu"))]
        Backend::Gpu => return Err(Error::GpuUnavailable { reason: "this build of vitrine has no GPU support".into() }),
        #[cfg(feature = "gpu")]
        Backend::Auto => match gpu::GpuExecutor::new_hardware(&model.graph).await {
            Ok(executor) => (Engine::Gpu(Box::new(executor)), None),
            Err(Error::GpuUnavailable { reason }) => (Engine::Cpu, Some(reason)),
            Err(e) => (Engine::Cpu, Some(e.to_string())),
        },
        #[cfg(not(feature = "gpu"))]
        Backend::Auto => (Engine::Cpu, Some("this build of vitrine has no GPU support".into())),
    })
}

enum Engine {
    Cpu,
    #[cfg(feature = "gpu")]
    Gpu(Box<gpu::GpuExecutor>),
}

/// A model bound to an executor. Keep one per page or process: the GPU executor caches pipelines and buffers.
pub struct Styler {
    model: Model,
    limits: Limits,
    backend: Backend,
    engine: Engine,
    /// Why `Backend::Auto` settled on the CPU, if it did.
    fallback_reason: Option<String>,
}

impl Styler {
    /// Binds `model` to `backend`. Natively this blocks while a GPU device is created.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(model: Model, backend: Backend) -> Result<Self> {
        pollster::block_on(Self::new_async(model, backend))
    }

    /// Binds `model` to `backend` without blocking (the browser's way).
    pub async fn new_async(model: Model, backend: Backend) -> Result<Self> {
        let (engine, fallback_reason) = open_engine(&model, backend).await?;
        Ok(Styler { model, limits: Limits::default(), backend, engine, fallback_reason })
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// "gpu" or "cpu".
    pub fn backend_name(&self) -> &'static str {
        match self.engine {
            Engine::Cpu => "cpu",
            #[cfg(feature = "gpu")]
            Engine::Gpu(_) => "gpu",
        }
    }

    /// Why the GPU was not used under `Backend::Auto`.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    #[cfg(feature = "gpu")]
    pub fn gpu(&self) -> Option<&gpu::GpuExecutor> {
        match &self.engine {
            Engine::Gpu(executor) => Some(executor),
            Engine::Cpu => None,
        }
    }

    /// Checks a request without running it: the image size against the network and the limits, the pixel
    /// buffer's length, the style and the strength.
    pub fn check(&self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<f32>> {
        let min_side = self.model.min_side;
        if width < min_side || height < min_side {
            return Err(Error::ImageTooSmall { width, height, min_side });
        }
        let Limits { max_side, max_pixels } = self.limits;
        if width > max_side || height > max_side || width as u64 * height as u64 > max_pixels {
            return Err(Error::ImageTooLarge { width, height, max_side, max_pixels });
        }
        let expected = width as usize * height as usize * RGBA;
        if rgba.len() != expected {
            return Err(Error::PixelBuffer { width, height, expected, got: rgba.len() });
        }
        if !(0.0..=1.0).contains(&options.strength) {
            return Err(Error::Strength { value: options.strength });
        }
        options.style.resolve(self.model.style_count)
    }

    async fn run_network(&mut self, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        match &mut self.engine {
            Engine::Cpu => cpu::run(&self.model.graph, input.clone(), params),
            #[cfg(feature = "gpu")]
            Engine::Gpu(executor) => executor.run(&self.model.graph, input, params).await,
        }
    }

    fn gpu_lost(&self) -> bool {
        match &self.engine {
            Engine::Cpu => false,
            #[cfg(feature = "gpu")]
            Engine::Gpu(executor) => executor.is_lost(),
        }
    }

    /// Styles an RGBA8 image and returns RGBA8 of the same size, alpha unchanged.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn stylize(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        pollster::block_on(self.stylize_async(width, height, rgba, options))
    }

    /// Styles an RGBA8 image without blocking (the browser's way).
    pub async fn stylize_async(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        let weights = self.check(width, height, rgba, options)?;
        let params = StyleParams::mix(&self.model.graph, &weights);
        let (w, h) = (width as usize, height as usize);
        let (padded_w, padded_h) = self.model.padded_size(width, height);
        let input = pixels::prepare(rgba, w, h, padded_w, padded_h);
        let stylized = match self.run_network(&input, &params).await {
            // A lost device never comes back, but a new one may be had (after a driver reset, say): open the
            // backend again and run this image once more, so the caller loses nothing.
            Err(Error::GpuFailed { .. }) if self.gpu_lost() => {
                let (engine, fallback_reason) = open_engine(&self.model, self.backend).await?;
                self.engine = engine;
                self.fallback_reason = fallback_reason;
                self.run_network(&input, &params).await?
            }
            // Too large for this GPU's buffers: under Auto, this one image runs on the CPU instead.
            Err(Error::GpuBufferLimit { .. }) if self.backend == Backend::Auto => {
                cpu::run(&self.model.graph, input, &params)?
            }
            result => result?,
        };
        let finish = Finish { strength: options.strength, preserve_color: options.preserve_color };
        Ok(pixels::finish(&stylized, rgba, w, h, finish))
    }
}
