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

pub mod backdrop;
pub mod cpu;
mod engine;
mod error;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod graph;
pub mod memory;
pub mod model;
pub mod pixels;
pub mod style;
pub mod tiling;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use backdrop::{Applied, Background, BackgroundReport};
pub use error::{Error, Result};
pub use graph::{Shape, Tensor};
pub use model::{Model, StyleInput};
pub use style::{StyleFile, StyleParams, StyleSpec};

use engine::Engine;
use pixels::{Finish, RGBA};
use tiling::{ExecutorKind, TileLimits, TilePlan, TileRunner};

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
    /// What becomes of a plain studio backdrop: by default (`Auto`) it is kept and the product painted as itself;
    /// `Paint` paints the whole photo.
    pub background: Background,
}

impl Default for Options {
    fn default() -> Self {
        Options { style: StyleSpec::Preset(0), strength: 1.0, preserve_color: false, background: Background::Auto }
    }
}

/// A styled photo and what was done with its backdrop.
#[derive(Clone, Debug, PartialEq)]
pub struct Stylized {
    /// RGBA8 of the photo's size.
    pub rgba: Vec<u8>,
    pub background: BackgroundReport,
    /// The size the network ran at: the photo's, or the product's box when a studio backdrop was kept.
    pub network_size: (u32, u32),
}

/// The style predictor bound to its own engine: pictures in, style vectors out.
struct Predictor {
    model: Model,
    engine: Engine,
    side: usize,
}

/// A model bound to an engine. Keep one per page or process: the GPU executor caches pipelines and buffers.
///
/// The parts it ties together: request checks and style mixing here, the backend and its recovery in
/// `engine::Engine`, how an image of a size runs in `tiling` (the planner, and the runner that carries a plan out).
pub struct Styler {
    model: Model,
    limits: Limits,
    backend: Backend,
    engine: Engine,
    /// For a style-vector model: makes vectors from pictures, and the photo's own vector for strength.
    predictor: Option<Predictor>,
    tile_limits: TileLimits,
    /// Streams tiles of this side even when the whole image fits (the browser's `tileSize`; tests, tuning).
    tile_size: Option<usize>,
    tiles: TileRunner,
}

impl Styler {
    /// Binds `model` to `backend`. Natively this blocks while a GPU device is created.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(model: Model, backend: Backend) -> Result<Self> {
        pollster::block_on(Self::new_async(model, backend))
    }

    /// Binds `model` to `backend` without blocking (the browser's way).
    pub async fn new_async(model: Model, backend: Backend) -> Result<Self> {
        let engine = Engine::open(&model.graph, backend).await?;
        Ok(Styler {
            model,
            limits: Limits::default(),
            backend,
            engine,
            predictor: None,
            tile_limits: TileLimits::for_this_process(),
            tile_size: None,
            tiles: TileRunner::default(),
        })
    }

    /// Memory bounds for large photos (see `tiling`); the GPU's own buffer limit is always respected.
    pub fn with_tile_limits(mut self, limits: TileLimits) -> Self {
        self.tile_limits = limits;
        self
    }

    /// Styles every image in streamed tiles of `side` pixels, even when it fits whole (the browser's `tileSize`:
    /// for tests and tuning). `side` must be a positive multiple of the model's spatial multiple.
    pub fn with_tile_size(mut self, side: Option<usize>) -> Result<Self> {
        if let Some(side) = side {
            tiling::check_tile_size(side, self.model.spatial_multiple)?;
        }
        self.tile_size = side;
        Ok(self)
    }

    /// How an image of this size would run: whole, layered or in streamed tiles, and its memory bounds. The size
    /// is checked against the network and the limits first.
    pub fn tile_plan(&self, width: u32, height: u32) -> Result<TilePlan> {
        self.check_size(width, height, self.model.min_side)?;
        plan_image(&self.model, self.tile_limits, self.tile_size, self.engine.executor(), width, height)
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
        let out = predictor.graph.infer_shapes(side, side)?.map(|shapes| shapes[predictor.graph.output()].channels);
        if out != Some(length) {
            return Err(Error::StyleKind {
                reason: format!("the predictor makes vectors of {out:?} numbers, the model takes {length}"),
            });
        }
        let engine = Engine::open(&predictor.graph, self.backend).await?;
        self.predictor = Some(Predictor { model: predictor, engine, side });
        Ok(())
    }

    pub fn has_predictor(&self) -> bool {
        self.predictor.is_some()
    }

    /// The side of the square a style picture is scaled to for the predictor, once one is attached: a picture
    /// need not be decoded much larger.
    pub fn style_picture_side(&self) -> Option<u32> {
        self.predictor.as_ref().map(|predictor| predictor.side as u32)
    }

    /// The style vector of a picture (any size; its centred square is used), for `StyleSpec::Vector`.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn style_vector(&mut self, width: u32, height: u32, rgba: &[u8]) -> Result<Vec<f32>> {
        pollster::block_on(self.style_vector_async(width, height, rgba))
    }

    /// The style vector of a picture, without blocking.
    pub async fn style_vector_async(&mut self, width: u32, height: u32, rgba: &[u8]) -> Result<Vec<f32>> {
        self.check_image(width, height, rgba, 1)?;
        let Some(predictor) = self.predictor.as_mut() else {
            return Err(Error::StyleKind { reason: "making a style vector needs the style predictor model".into() });
        };
        let input = pixels::prepare_style_picture(rgba, width as usize, height as usize, predictor.side);
        let (graph, no_style) = (&predictor.model.graph, StyleParams(Vec::new()));
        let vector = predictor.engine.run(graph, async |executor| executor.run(graph, &input, &no_style).await).await?;
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
        match self.engine.executor().kind() {
            ExecutorKind::Cpu => "cpu",
            ExecutorKind::Gpu => "gpu",
        }
    }

    /// How activations are stored where the network runs: "f16" on a GPU with `shader-f16` whose plan takes the
    /// network, else "f32" (the CPU always).
    pub fn precision(&self) -> &'static str {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = self.engine.executor().gpu() {
            if gpu.takes_pixels(&self.model.graph) {
                return gpu.precision().name();
            }
        }
        "f32"
    }

    /// Why the GPU was not used under `Backend::Auto`.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.engine.fallback_reason()
    }

    #[cfg(feature = "gpu")]
    pub fn gpu(&self) -> Option<&gpu::GpuExecutor> {
        self.engine.executor().gpu()
    }

    /// How many times a lost GPU device was replaced by a new one during this styler's runs.
    pub fn gpu_reopens(&self) -> u32 {
        self.engine.reopens()
    }

    /// Records GPU plans with `kernels` (the fused ones unless told otherwise), for benchmarks that compare kernels
    /// in one page or process. A GPU opened again after a loss starts on the fused kernels.
    #[cfg(feature = "gpu")]
    #[doc(hidden)]
    pub fn use_gpu_kernels(&mut self, kernels: gpu::KernelSet) {
        if let Some(gpu) = self.engine.executor_mut().gpu_mut() {
            gpu.use_kernels(kernels);
        }
    }

    /// Checks an image's size against a smallest side and the limits.
    fn check_size(&self, width: u32, height: u32, min_side: u32) -> Result<()> {
        if width < min_side || height < min_side {
            return Err(Error::ImageTooSmall { width, height, min_side });
        }
        let Limits { max_side, max_pixels } = self.limits;
        if width > max_side || height > max_side || u64::from(width) * u64::from(height) > max_pixels {
            return Err(Error::ImageTooLarge { width, height, max_side, max_pixels });
        }
        Ok(())
    }

    /// Checks an image's size as `check_size` does, and its pixel buffer's length.
    fn check_image(&self, width: u32, height: u32, rgba: &[u8], min_side: u32) -> Result<()> {
        self.check_size(width, height, min_side)?;
        // Limits may be raised past what this machine can address: such an image is too large, whatever they say.
        let Some(expected) = (width as usize).checked_mul(height as usize).and_then(|n| n.checked_mul(RGBA)) else {
            let Limits { max_side, .. } = self.limits;
            let max_pixels = (usize::MAX / RGBA) as u64;
            return Err(Error::ImageTooLarge { width, height, max_side, max_pixels });
        };
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

    /// Styles an RGBA8 image and returns RGBA8 of the same size (alpha unchanged, but for a transparent backdrop).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn stylize(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        Ok(self.stylize_report(width, height, rgba, options)?.rgba)
    }

    /// `stylize`, with what was done with the backdrop.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn stylize_report(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Stylized> {
        pollster::block_on(self.stylize_report_async(width, height, rgba, options))
    }

    /// Styles an RGBA8 image without blocking (the browser's way).
    pub async fn stylize_async(&mut self, width: u32, height: u32, rgba: &[u8], options: &Options) -> Result<Vec<u8>> {
        Ok(self.stylize_report_async(width, height, rgba, options).await?.rgba)
    }

    /// Styles an RGBA8 image without blocking, with what was done with the backdrop. A product on a plain studio
    /// backdrop (unless `options.background` is `Paint`) is painted as itself: the network runs on the product's
    /// box with every instance norm's statistics weighted by the product's matte, and the painted product is
    /// composited through the matte as the mode says.
    pub async fn stylize_report_async(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        options: &Options,
    ) -> Result<Stylized> {
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
            // `check` refuses every other pairing with a message that says what to pass instead.
            (_, StyleInput::Vector(_) | StyleInput::None) => {
                return Err(Error::internal("a style the model cannot take passed the request's check"));
            }
        };
        let finish = Finish { strength: pixel_strength, preserve_color: options.preserve_color };
        let mode = options.background;
        let analysis = match mode {
            Background::Paint => None,
            Background::Auto | Background::Keep | Background::White | Background::Transparent => {
                Some(backdrop::analyse(width, height, rgba))
            }
        };
        let (matte, bounds, fraction) = match analysis {
            Some(backdrop::Analysis::Product { matte, bounds, fraction }) => (matte, bounds, fraction),
            whole => {
                let reason = match whole {
                    Some(backdrop::Analysis::Whole { reason }) => Some(reason),
                    _ => None,
                };
                let styled = self.paint(width, height, rgba, &params, None, finish).await?;
                let background = backdrop::painted(mode, reason);
                return Ok(Stylized { rgba: styled, background, network_size: (width, height) });
            }
        };
        let multiple = self.model.spatial_multiple as u32;
        let area = backdrop::network_box(&matte, bounds, self.model.min_side, multiple);
        let crop = backdrop::crop_mirrored(rgba, width, height, 4, area);
        let crop_matte = backdrop::crop_mirrored(&matte.alpha, width, height, 1, area);
        let plane = crop_matte.iter().map(|&a| f32::from(a) / 255.0).collect();
        let weights = cpu::NormWeights::new(area.width as usize, area.height as usize, plane)?;
        let styled = self.paint(area.width, area.height, &crop, &params, Some(&weights), finish).await?;
        let composited = backdrop::composite(rgba, &matte, area, &styled, mode);
        let background = backdrop::composited(mode, fraction);
        Ok(Stylized { rgba: composited, background, network_size: (area.width, area.height) })
    }

    /// The network on a whole `width x height` photo (checked), finished: RGBA8 of the same size. `weights`
    /// weigh each pixel in the instance norms' statistics.
    async fn paint(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        params: &StyleParams,
        weights: Option<&cpu::NormWeights>,
        finish: Finish,
    ) -> Result<Vec<u8>> {
        let (w, h) = (width as usize, height as usize);
        let (padded_w, padded_h) = self.model.padded_size(width, height);
        let Styler { model, engine, tiles, tile_limits, tile_size, .. } = self;
        let graph = &model.graph;
        let job = async |executor: &mut engine::Executor| {
            let plan = plan_image(model, *tile_limits, *tile_size, executor, width, height)?;
            // A whole image on a GPU whose plan takes pixels goes up and comes back as RGBA8.
            #[cfg(feature = "gpu")]
            if plan.mode == tiling::Mode::Whole && weights.is_none() {
                if let Some(gpu) = executor.gpu_mut().filter(|gpu| gpu.takes_pixels(graph)) {
                    let styled = gpu.run_rgba(graph, rgba, (w, h), (padded_h, padded_w), params).await?;
                    return Ok(Styled::Rgba(styled));
                }
            }
            let input = pixels::prepare(rgba, w, h, padded_w, padded_h);
            Ok(Styled::Planar(tiles.run(&plan, executor, graph, &input, params, weights).await?))
        };
        let styled = engine.run(graph, job).await?;
        Ok(match styled {
            Styled::Planar(tensor) => pixels::finish(&tensor, rgba, w, h, finish),
            Styled::Rgba(styled) => pixels::finish_rgba(&styled, rgba, w, h, finish),
        })
    }
}

/// The network's result: a planar tensor at the padded size, or the photo's size in RGBA8 (from the GPU).
enum Styled {
    Planar(Tensor),
    #[cfg_attr(not(feature = "gpu"), allow(dead_code))]
    Rgba(Vec<u8>),
}

/// How `model` runs an image of `width x height` on `executor` (a checked size) within `tile_limits`.
fn plan_image(
    model: &Model,
    tile_limits: TileLimits,
    tile_size: Option<usize>,
    executor: &engine::Executor,
    width: u32,
    height: u32,
) -> Result<TilePlan> {
    let (padded_w, padded_h) = model.padded_size(width, height);
    let limits = TileLimits { max_buffer: executor.buffer_limit().min(tile_limits.max_buffer), ..tile_limits };
    tiling::plan(&model.graph, padded_h, padded_w, model.spatial_multiple, executor.kind(), limits, tile_size)
}
