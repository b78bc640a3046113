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
pub mod tiling;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
pub use graph::{Shape, Tensor};
pub use model::{Model, StyleInput};
pub use style::{StyleFile, StyleParams, StyleSpec};

use graph::Graph;
use pixels::{Finish, RGBA};
use tiling::{Executor, Mode, StatsPass, TileLimits, TilePlan};

/// `run_planned` is only called for tiled plans.
fn unreachable_whole() -> Result<Tensor> {
    Err(Error::graph("a whole-image plan runs through the engine, not the tiler"))
}

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
    /// 8192 a side and 64 megapixels natively, 4096 and 16 megapixels in the browser. Larger photos than the
    /// device's buffers or the host budget take run in tiles (see `tiling`), so these bound the image buffers only.
    fn default() -> Self {
        if cfg!(target_arch = "wasm32") {
            Limits { max_side: 4096, max_pixels: 16 << 20 }
        } else {
            Limits { max_side: 8192, max_pixels: 64 << 20 }
        }
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
#[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
async fn open_engine(model: &Model, backend: Backend) -> Result<(Engine, Option<String>)> {
    Ok(match backend {
        Backend::Cpu => (Engine::Cpu, None),
        #[cfg(feature = "gpu")]
        Backend::Gpu => (Engine::Gpu(Box::new(gpu::GpuExecutor::new(&model.graph).await?)), None),
        #[cfg(not(feature = "gpu"))]
        Backend::Gpu => {
            return Err(Error::GpuUnavailable { reason: "this build of vitrine has no GPU support".into() })
        }
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

impl Engine {
    async fn run(&mut self, model: &Model, input: &Tensor, params: &StyleParams) -> Result<Tensor> {
        match self {
            Engine::Cpu => cpu::run(&model.graph, input.clone(), params),
            #[cfg(feature = "gpu")]
            Engine::Gpu(executor) => executor.run(&model.graph, input, params).await,
        }
    }

    fn lost(&self) -> bool {
        match self {
            Engine::Cpu => false,
            #[cfg(feature = "gpu")]
            Engine::Gpu(executor) => executor.is_lost(),
        }
    }

    /// Runs `model`, recovering from what a GPU can run into: a lost device never comes back, but a new one may be
    /// had (after a driver reset, say), so the backend is opened again and the input run once more, and the caller
    /// loses nothing; an input too large for the GPU's buffers runs on the CPU under `Backend::Auto`.
    async fn run_recovering(
        &mut self,
        model: &Model,
        backend: Backend,
        input: &Tensor,
        params: &StyleParams,
    ) -> Result<(Tensor, Option<Option<String>>)> {
        match self.run(model, input, params).await {
            Err(Error::GpuFailed { .. }) if self.lost() => {
                let (engine, fallback_reason) = open_engine(model, backend).await?;
                *self = engine;
                Ok((self.run(model, input, params).await?, Some(fallback_reason)))
            }
            Err(Error::GpuBufferLimit { .. }) if backend == Backend::Auto => {
                Ok((cpu::run(&model.graph, input.clone(), params)?, None))
            }
            result => Ok((result?, None)),
        }
    }
}

/// The style predictor bound to its own executor: pictures in, style vectors out.
struct Predictor {
    model: Model,
    engine: Engine,
    side: usize,
}

/// A model bound to an executor. Keep one per page or process: the GPU executor caches pipelines and buffers.
pub struct Styler {
    model: Model,
    limits: Limits,
    backend: Backend,
    engine: Engine,
    /// Why `Backend::Auto` settled on the CPU, if it did.
    fallback_reason: Option<String>,
    /// For a style-vector model: makes vectors from pictures, and the photo's own vector for strength.
    predictor: Option<Predictor>,
    tile_limits: TileLimits,
    /// Streams tiles of this side even when the whole image fits (tests, tuning).
    force_tile: Option<usize>,
    /// The model with its norms frozen to given statistics, on the GPU, for streamed tiles (made on first use).
    #[cfg(feature = "gpu")]
    frozen_gpu: Option<Box<gpu::GpuExecutor>>,
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
        Ok(Styler {
            model,
            limits: Limits::default(),
            backend,
            engine,
            fallback_reason,
            predictor: None,
            tile_limits: TileLimits::default(),
            force_tile: None,
            #[cfg(feature = "gpu")]
            frozen_gpu: None,
        })
    }

    /// Memory bounds for large photos (see `tiling`); the GPU's own buffer limit is always respected.
    pub fn with_tile_limits(mut self, limits: TileLimits) -> Self {
        self.tile_limits = limits;
        self
    }

    /// Styles every image in streamed tiles of `side` pixels, even when it fits whole: for tests and tuning.
    pub fn with_forced_tiles(mut self, side: Option<usize>) -> Self {
        self.force_tile = side;
        self
    }

    /// How an image of this size would run: whole, layered or in streamed tiles, and its memory bounds.
    pub fn tile_plan(&self, width: u32, height: u32) -> Result<TilePlan> {
        let (padded_w, padded_h) = self.model.padded_size(width, height);
        let (executor, max_buffer) = match &self.engine {
            Engine::Cpu => (Executor::Cpu, u64::MAX),
            #[cfg(feature = "gpu")]
            Engine::Gpu(gpu) => (Executor::Gpu, gpu.buffer_limit()),
        };
        let limits = TileLimits { max_buffer: max_buffer.min(self.tile_limits.max_buffer), ..self.tile_limits };
        tiling::plan(
            &self.model.graph,
            padded_h,
            padded_w,
            self.model.spatial_multiple,
            executor,
            limits,
            self.force_tile,
        )
    }

    /// Runs the network on a whole prepared image as `plan` says.
    async fn run_planned(&mut self, plan: &TilePlan, input: Tensor, params: &StyleParams) -> Result<Tensor> {
        let graph = &self.model.graph;
        #[cfg(feature = "gpu")]
        let gpu = match &mut self.engine {
            Engine::Gpu(gpu) => Some(&mut **gpu),
            Engine::Cpu => None,
        };
        match &plan.mode {
            Mode::Whole => unreachable_whole(),
            Mode::Layered => {
                let (output, _) = tiling::run_layered(
                    graph,
                    input,
                    params,
                    #[cfg(feature = "gpu")]
                    gpu,
                    false,
                )
                .await?;
                Ok(output)
            }
            Mode::Streamed { stats: pass, tiles, .. } => {
                let shape = input.shape;
                // Tiles run the graph with frozen norms on an executor of their own, so its plans (cached by size)
                // never stand in for the whole graph's.
                #[cfg(feature = "gpu")]
                if gpu.is_some() && self.frozen_gpu.is_none() {
                    self.frozen_gpu = Some(Box::new(gpu::GpuExecutor::new(graph).await?));
                }
                #[cfg(feature = "gpu")]
                let mut tile_gpu = self.frozen_gpu.as_deref_mut().filter(|_| gpu.is_some());
                let stats = match pass {
                    StatsPass::Layered => {
                        let layered = tiling::run_layered(
                            graph,
                            input.clone(),
                            params,
                            #[cfg(feature = "gpu")]
                            gpu,
                            true,
                        );
                        layered.await?.1
                    }
                    StatsPass::PerNorm => {
                        let run_prefix = async |graph: &Graph, upto: usize, tile: Tensor, params: &StyleParams| {
                            #[cfg(feature = "gpu")]
                            if let Some(tile_gpu) = tile_gpu.as_deref_mut() {
                                return tile_gpu.run_prefix(graph, upto, &tile, params).await;
                            }
                            cpu::run(&graph.prefix(upto)?, tile, params)
                        };
                        tiling::per_norm_stats(graph, params, &input, tiles, run_prefix).await?
                    }
                };
                let (frozen, frozen_params) = tiling::freeze_norms(graph, params, &stats)?;
                let mut output = Tensor::zeros(Shape::new(3, shape.height, shape.width));
                for &(crop, kept) in tiles {
                    let part = tiling::crop(&input, crop);
                    #[cfg(feature = "gpu")]
                    let styled = match tile_gpu.as_deref_mut() {
                        Some(tile_gpu) => tile_gpu.run(&frozen, &part, &frozen_params).await?,
                        None => cpu::run(&frozen, part, &frozen_params)?,
                    };
                    #[cfg(not(feature = "gpu"))]
                    let styled = cpu::run(&frozen, part, &frozen_params)?;
                    tiling::paste(&mut output, &styled, crop, kept);
                }
                Ok(output)
            }
        }
    }

    /// Adds the style predictor to a style-vector model's styler (natively this blocks while a device is created).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn with_predictor(mut self, predictor: Model) -> Result<Self> {
        pollster::block_on(self.attach_predictor(predictor))?;
        Ok(self)
    }

    /// Adds the style predictor: `style_vector` then works, and strength below 1 follows Magenta, blending the
    /// style's vector with the photo's own.
    pub async fn attach_predictor(&mut self, predictor: Model) -> Result<()> {
        let StyleInput::Vector(length) = self.model.style_input else {
            return Err(Error::StyleKind { reason: "only a style-vector model takes a style predictor".into() });
        };
        let side = match predictor.input_size {
            Some((h, w)) if h == w && predictor.style_input == StyleInput::None => h,
            _ => return Err(Error::StyleKind { reason: format!("`{}` is not a style predictor", predictor.name) }),
        };
        let out = predictor.graph.infer_shapes(side, side)?.map(|shapes| shapes[predictor.graph.output].channels);
        if out != Some(length) {
            return Err(Error::StyleKind {
                reason: format!("the predictor makes vectors of {out:?} numbers, the model takes {length}"),
            });
        }
        let (engine, _) = open_engine(&predictor, self.backend).await?;
        self.predictor = Some(Predictor { model: predictor, engine, side });
        Ok(())
    }

    pub fn has_predictor(&self) -> bool {
        self.predictor.is_some()
    }

    /// The style vector of a picture (any size; its centred square is used), for `StyleSpec::Vector`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn style_vector(&mut self, width: u32, height: u32, rgba: &[u8]) -> Result<Vec<f32>> {
        pollster::block_on(self.style_vector_async(width, height, rgba))
    }

    /// The style vector of a picture, without blocking.
    pub async fn style_vector_async(&mut self, width: u32, height: u32, rgba: &[u8]) -> Result<Vec<f32>> {
        self.check_image(width, height, rgba, 1)?;
        let backend = self.backend;
        let Some(predictor) = self.predictor.as_mut() else {
            return Err(Error::StyleKind { reason: "making a style vector needs the style predictor model".into() });
        };
        let input = pixels::prepare_style_picture(rgba, width as usize, height as usize, predictor.side);
        let (vector, _) =
            predictor.engine.run_recovering(&predictor.model, backend, &input, &StyleParams(Vec::new())).await?;
        Ok(vector.data)
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

    /// Checks an image's size against a smallest side and the limits, and its pixel buffer's length.
    fn check_image(&self, width: u32, height: u32, rgba: &[u8], min_side: u32) -> Result<()> {
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
        Ok(())
    }

    /// Checks a request without running it: the image size against the network and the limits, the pixel
    /// buffer's length, the style against the model and the strength.
    pub fn check(&self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<()> {
        self.check_image(width, height, rgba, self.model.min_side)?;
        if !(0.0..=1.0).contains(&options.strength) {
            return Err(Error::Strength { value: options.strength });
        }
        match (self.model.style_input, &options.style) {
            (StyleInput::Presets(count), spec) => spec.resolve(count).map(drop),
            (StyleInput::Vector(length), StyleSpec::Vector(vector)) => {
                style::check_vector(vector, length)?;
                if options.strength < 1.0 && self.predictor.is_none() {
                    return Err(Error::StyleKind {
                        reason: "strength below 1 with a style vector blends in the photo's own vector, which needs the style predictor model".into(),
                    });
                }
                Ok(())
            }
            (StyleInput::Vector(_), _) => Err(Error::StyleKind {
                reason: "this model paints with a style vector, not a preset; pass a style vector or a style picture"
                    .into(),
            }),
            (StyleInput::None, _) => Err(Error::StyleKind {
                reason: "the style predictor makes style vectors; it does not style photos".into(),
            }),
        }
    }

    /// Styles an RGBA8 image and returns RGBA8 of the same size, alpha unchanged.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn stylize(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        pollster::block_on(self.stylize_async(width, height, rgba, options))
    }

    /// Styles an RGBA8 image without blocking (the browser's way).
    pub async fn stylize_async(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        self.check(width, height, rgba, options)?;
        // A preset mix fades the pixels for strength; a style vector follows Magenta and blends vectors instead.
        let (params, pixel_strength) = match (&options.style, self.model.style_input) {
            (StyleSpec::Vector(vector), _) => {
                let vector = if options.strength < 1.0 {
                    let own = self.style_vector_async(width, height, rgba).await?;
                    style::interpolate_vectors(vector, &own, options.strength)
                } else {
                    vector.clone()
                };
                (StyleParams::project(&self.model.graph, &vector), 1.0)
            }
            (spec, StyleInput::Presets(count)) => {
                (StyleParams::mix(&self.model.graph, &spec.resolve(count)?), options.strength)
            }
            _ => return Err(Error::StyleKind { reason: "this model cannot take that style".into() }),
        };
        let (w, h) = (width as usize, height as usize);
        let (padded_w, padded_h) = self.model.padded_size(width, height);
        let input = pixels::prepare(rgba, w, h, padded_w, padded_h);
        let plan = self.tile_plan(width, height)?;
        let stylized = if plan.mode == Mode::Whole {
            let (stylized, reopened) = self.engine.run_recovering(&self.model, self.backend, &input, &params).await?;
            if let Some(fallback_reason) = reopened {
                self.fallback_reason = fallback_reason;
            }
            stylized
        } else {
            match self.run_planned(&plan, input.clone(), &params).await {
                // As for whole images: a lost device is reopened and the image run once more.
                Err(Error::GpuFailed { .. }) if self.engine.lost() => {
                    let (engine, fallback_reason) = open_engine(&self.model, self.backend).await?;
                    self.engine = engine;
                    self.fallback_reason = fallback_reason;
                    #[cfg(feature = "gpu")]
                    {
                        self.frozen_gpu = None;
                    }
                    let plan = self.tile_plan(width, height)?;
                    self.run_planned(&plan, input, &params).await?
                }
                result => result?,
            }
        };
        let finish = Finish { strength: pixel_strength, preserve_color: options.preserve_color };
        Ok(pixels::finish(&stylized, rgba, w, h, finish))
    }
}
