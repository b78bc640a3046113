//! The compute kernels, their shaders, and a cache of pipelines keyed by kernel, each built once per device.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Invocations per workgroup for every kernel, passed to the shaders as the `WG` override and used for every dispatch
/// count. 64 is a multiple of the usual SIMD widths (8 on lavapipe, 32 and 64 on discrete GPUs), fits the 256
/// invocations WebGPU guarantees, and keeps the norm reduction's shared memory small.
pub(crate) const WORKGROUP_SIZE: u32 = 64;

/// Shared-memory slots of the norm and pool reductions, which halve the workgroup each step.
pub(crate) const REDUCTION_CAPACITY: u32 = 256;
const _: () = assert!(WORKGROUP_SIZE.is_power_of_two() && WORKGROUP_SIZE <= REDUCTION_CAPACITY);

/// `conv2d_oc4`: neighbouring pixels of a row per invocation (for 4 output channels, one `vec4` each). The shader
/// keeps one accumulator per pixel by name, so this cannot change without it.
pub(crate) const OC4_PIXELS: u32 = 4;
/// `conv2d_depthwise`: neighbouring pixels of a row per invocation (two `vec4` accumulators).
pub(crate) const DEPTHWISE_PIXELS: u32 = 8;

/// What every shader shares with Rust, prepended to each shader file by the loader, so no number or index rule is
/// written twice: the workgroup size (an override, set again at pipeline creation), the reduction capacity, the
/// conv kernels' block widths, the linear index of a 2-D folded grid (see `grid`), and `padded_index`, the padding
/// rule every kernel that reads through padding follows (as `cpu` and `pixels::prepare` do).
pub(crate) fn prelude() -> String {
    format!(
        "// Prepended by gpu::kernels::prelude(): shared with the Rust side.\n\
         override WG: u32 = {WORKGROUP_SIZE}u;\n\
         const REDUCTION_CAPACITY: u32 = {REDUCTION_CAPACITY}u;\n\
         const OC4_PIXELS: u32 = {OC4_PIXELS}u;\n\
         const DEPTHWISE_PIXELS: u32 = {DEPTHWISE_PIXELS}u;\n\
         fn linear_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {{\n    return gid.y * groups.x * WG + gid.x;\n}}\n\
         // Index `i` of an axis of `n` values read through padding: itself inside, -1 for a zero, mirrored without\n\
         // repeating the edge for reflect (shape inference keeps the overhang below `n`, so one reflection does).\n\
         fn padded_index(i: i32, n: i32, reflect: bool) -> i32 {{\n    if (i >= 0 && i < n) {{\n        return i;\n    }}\n    \
         if (!reflect) {{\n        return -1;\n    }}\n    if (i < 0) {{\n        return -i;\n    }}\n    return 2 * (n - 1) - i;\n}}\n\n"
    )
}

/// How the fused plan stores activations: f32, or f16 where the device has `shader-f16` (arithmetic stays f32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    F32,
    F16,
}

impl Precision {
    /// Bytes of one stored pixel of one channel quad.
    pub(crate) const fn quad_bytes(self) -> u64 {
        match self {
            Precision::F32 => 16,
            Precision::F16 => 8,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
        }
    }

    /// The WGSL that makes `Act` the stored quad type.
    fn header(self) -> &'static str {
        match self {
            Precision::F32 => "alias Act = vec4<f32>;\n",
            Precision::F16 => "alias Act = vec4<f16>;\n",
        }
    }
}

/// Workgroup memory a tiled conv may use: WebGPU's default `maxComputeWorkgroupStorageSize`.
pub(crate) const WORKGROUP_STORAGE: u32 = 16384;

/// The shapes `conv_tiled` is compiled in: output pixels per workgroup (`width x height`), invocations, and output
/// quads per invocation; the invocations split into pixel groups (4 neighbouring pixels of a row) times
/// output-channel groups. Full and Half suit convs with many output channels (Half for stride 2, whose window would
/// not fit Full's memory), Wide and Narrow the last layers, which have 8 and 4 (or 3) output channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ConvTile {
    /// 16x16 pixels x 32 output channels, 256 invocations.
    Full,
    /// 16x8 pixels x 32 output channels, 128 invocations.
    Half,
    /// 16x16 pixels x 8 output channels, 64 invocations.
    Wide,
    /// 16x16 pixels x 4 output channels, 64 invocations.
    Narrow,
}

/// The widest kernel row `conv_tiled`'s weight staging holds.
pub(crate) const TILED_MAX_KERNEL: u32 = 9;

/// Output channels tiled weights are padded to: a multiple of every shape's channels per workgroup.
pub(crate) const TILED_CHANNEL_PADDING: u32 = 32;

impl ConvTile {
    pub(crate) const ALL: [ConvTile; 4] = [ConvTile::Full, ConvTile::Half, ConvTile::Wide, ConvTile::Narrow];

    /// Output pixels per workgroup: (width, height).
    pub(crate) const fn pixels(self) -> (u32, u32) {
        match self {
            ConvTile::Half => (16, 8),
            ConvTile::Full | ConvTile::Wide | ConvTile::Narrow => (16, 16),
        }
    }

    pub(crate) const fn invocations(self) -> u32 {
        match self {
            ConvTile::Full => 256,
            ConvTile::Half => 128,
            ConvTile::Wide | ConvTile::Narrow => 64,
        }
    }

    /// Output quads each invocation accumulates (4 pixels each).
    pub(crate) const fn quads_per_invocation(self) -> u32 {
        match self {
            ConvTile::Full | ConvTile::Half | ConvTile::Wide => 2,
            ConvTile::Narrow => 1,
        }
    }

    pub(crate) const fn pixel_groups(self) -> u32 {
        let (w, h) = self.pixels();
        w * h / 4
    }

    pub(crate) const fn channel_groups(self) -> u32 {
        self.invocations() / self.pixel_groups()
    }

    /// Output channels per workgroup.
    pub(crate) const fn out_channels(self) -> u32 {
        self.channel_groups() * self.quads_per_invocation() * 4
    }

    /// Pixels of the input window (a tile with its halo) the workgroup memory holds; the statistics reduction
    /// reuses it for two values per invocation.
    pub(crate) const fn window_capacity(self) -> u32 {
        576
    }

    /// Stored pixels of an upsampled input's window.
    pub(crate) const fn source_capacity(self) -> u32 {
        100
    }

    /// Weight words (4 input channels each) of one kernel row for the workgroup's output channels.
    pub(crate) const fn weight_capacity(self) -> u32 {
        self.out_channels() * TILED_MAX_KERNEL
    }

    /// The input window a tile of this shape reads for a `kernel_h x kernel_w` kernel at `stride`.
    pub(crate) const fn window(self, kernel_h: u32, kernel_w: u32, stride: u32) -> (u32, u32) {
        let (w, h) = self.pixels();
        ((w - 1) * stride + kernel_w, (h - 1) * stride + kernel_h)
    }

    /// Stored pixels an input upsampled by `factor` must hold for that window, at most.
    pub(crate) const fn source(self, kernel_h: u32, kernel_w: u32, stride: u32, factor: u32) -> (u32, u32) {
        let (w, h) = self.window(kernel_h, kernel_w, stride);
        ((w - 1) / factor + 2, (h - 1) / factor + 2)
    }

    /// Whether a conv of this kernel and stride, reading an input upsampled by `factor` (1: none), fits.
    pub(crate) fn fits(self, kernel_h: u32, kernel_w: u32, stride: u32, factor: u32) -> bool {
        let (ww, wh) = self.window(kernel_h, kernel_w, stride);
        let (sw, sh) = self.source(kernel_h, kernel_w, stride, factor.max(1));
        kernel_w <= TILED_MAX_KERNEL
            && u64::from(ww) * u64::from(wh) <= u64::from(self.window_capacity())
            && (factor <= 1 || u64::from(sw) * u64::from(sh) <= u64::from(self.source_capacity()))
    }

    fn header(self) -> String {
        let (w, h) = self.pixels();
        format!(
            "const TILE_W: u32 = {w}u;\nconst TILE_H: u32 = {h}u;\nconst INVOCATIONS: u32 = {}u;\n\
             const OC_GROUPS: u32 = {}u;\nconst OCQ: u32 = {}u;\nconst ACC: u32 = {}u;\n\
             const WINDOW_CAPACITY: u32 = {}u;\nconst SOURCE_CAPACITY: u32 = {}u;\nconst WEIGHT_CAPACITY: u32 = {}u;\n",
            self.invocations(),
            self.channel_groups(),
            self.quads_per_invocation(),
            4 * self.quads_per_invocation(),
            self.window_capacity(),
            self.source_capacity(),
            self.weight_capacity(),
        )
    }
}

// Each shape fills its workgroup exactly within WebGPU's 256 invocations, its pixel groups tile its rows, the
// statistics reduction fits its window, and its workgroup memory (window, source, weights, counts) fits the default
// limit.
const _: () = {
    let mut i = 0;
    while i < ConvTile::ALL.len() {
        let t = ConvTile::ALL[i];
        let (w, _) = t.pixels();
        assert!(
            w.is_multiple_of(4) && t.pixel_groups() * t.channel_groups() == t.invocations() && t.invocations() <= 256
        );
        assert!(t.window_capacity() >= 2 * t.invocations());
        assert!(TILED_CHANNEL_PADDING.is_multiple_of(t.out_channels()));
        let bytes = (t.window_capacity() + t.source_capacity()) * 16 + (t.weight_capacity() + t.invocations()) * 4;
        assert!(bytes <= WORKGROUP_STORAGE);
        i += 1;
    }
};

/// Where a fused plan's photo comes from, or where its result goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PixelFormat {
    /// RGBA8 words, byte 0 red.
    Rgba8,
    /// Planar f32, as `Tensor` holds it.
    Planar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    Conv2d,
    Conv2dOc4,
    Conv2dDepthwise,
    NormStats,
    /// `norm_stats` with each pixel counted by its weight.
    NormStatsWeighted,
    NormApply,
    Relu,
    Clip,
    Sigmoid,
    Add,
    ChannelAffine,
    Upsample,
    GlobalAvgPool,
    /// The fused plan's kernels.
    ConvTiled(ConvTile, Precision),
    NormFinish,
    Unpack(PixelFormat, Precision),
    Emit(PixelFormat, Precision),
}

impl Kernel {
    /// Every kernel in every variant.
    #[cfg(test)]
    pub(crate) fn all() -> Vec<Kernel> {
        let mut all = vec![
            Kernel::Conv2d,
            Kernel::Conv2dOc4,
            Kernel::Conv2dDepthwise,
            Kernel::NormStats,
            Kernel::NormStatsWeighted,
            Kernel::NormApply,
            Kernel::Relu,
            Kernel::Clip,
            Kernel::Sigmoid,
            Kernel::Add,
            Kernel::ChannelAffine,
            Kernel::Upsample,
            Kernel::GlobalAvgPool,
            Kernel::NormFinish,
        ];
        for precision in [Precision::F32, Precision::F16] {
            all.extend(ConvTile::ALL.map(|tile| Kernel::ConvTiled(tile, precision)));
            for format in [PixelFormat::Rgba8, PixelFormat::Planar] {
                all.extend([Kernel::Unpack(format, precision), Kernel::Emit(format, precision)]);
            }
        }
        all
    }

    /// The precision of what the kernel stores, where it has one.
    pub(crate) fn precision(self) -> Option<Precision> {
        match self {
            Kernel::ConvTiled(_, p) | Kernel::Unpack(_, p) | Kernel::Emit(_, p) => Some(p),
            _ => None,
        }
    }

    /// The shader as compiled: `enable f16` where it stores f16, the prelude, the variant's constants, the WGSL
    /// snippets it shares with other kernels, then the kernel family's file.
    pub(crate) fn source(self) -> String {
        let mut source = String::new();
        if self.precision() == Some(Precision::F16) {
            source.push_str("enable f16;\n");
        }
        source.push_str(&prelude());
        if let Some(precision) = self.precision() {
            source.push_str(precision.header());
        }
        if let Kernel::ConvTiled(tile, _) = self {
            source.push_str(&tile.header());
        }
        for snippet in self.snippets() {
            source.push_str(snippet);
        }
        source + self.file()
    }

    /// What the kernel's file shares with other kernels' files, each written once in a snippet of its own: the
    /// parameters unpack and emit take (`pixel_params.wgsl`), Chan's combination of norm statistics the tiled conv
    /// and the norm pass make them with (`moments.wgsl`), and how the tiled conv and emit load a value with its
    /// pending work done (`pending.wgsl`).
    pub(crate) fn snippets(self) -> &'static [&'static str] {
        const PIXEL_PARAMS: &str = include_str!("shaders/pixel_params.wgsl");
        const MOMENTS: &str = include_str!("shaders/moments.wgsl");
        const PENDING: &str = include_str!("shaders/pending.wgsl");
        match self {
            Kernel::ConvTiled(..) => &[MOMENTS, PENDING],
            Kernel::NormFinish => &[MOMENTS],
            Kernel::Unpack(..) => &[PIXEL_PARAMS],
            Kernel::Emit(..) => &[PIXEL_PARAMS, PENDING],
            _ => &[],
        }
    }

    /// The kernel family's own WGSL file (several kernels share one).
    pub(crate) fn file(self) -> &'static str {
        match self {
            Kernel::Conv2d | Kernel::Conv2dOc4 | Kernel::Conv2dDepthwise => include_str!("shaders/conv2d.wgsl"),
            Kernel::NormStats | Kernel::NormStatsWeighted | Kernel::NormApply => include_str!("shaders/norm.wgsl"),
            Kernel::Relu | Kernel::Clip | Kernel::Sigmoid | Kernel::Add | Kernel::ChannelAffine => {
                include_str!("shaders/elementwise.wgsl")
            }
            Kernel::Upsample => include_str!("shaders/upsample.wgsl"),
            Kernel::GlobalAvgPool => include_str!("shaders/pool.wgsl"),
            Kernel::ConvTiled(..) => include_str!("shaders/tiled.wgsl"),
            Kernel::NormFinish => include_str!("shaders/norm_finish.wgsl"),
            Kernel::Unpack(..) => include_str!("shaders/unpack.wgsl"),
            Kernel::Emit(..) => include_str!("shaders/emit.wgsl"),
        }
    }

    pub(crate) fn entry(self) -> &'static str {
        match self {
            Kernel::Conv2d => "conv2d",
            Kernel::Conv2dOc4 => "conv2d_oc4",
            Kernel::Conv2dDepthwise => "conv2d_depthwise",
            Kernel::NormStats => "norm_stats",
            Kernel::NormStatsWeighted => "norm_stats_weighted",
            Kernel::NormApply => "norm_apply",
            Kernel::Relu => "relu",
            Kernel::Clip => "clip",
            Kernel::Sigmoid => "sigmoid",
            Kernel::Add => "add",
            Kernel::ChannelAffine => "channel_affine",
            Kernel::Upsample => "upsample_nearest",
            Kernel::GlobalAvgPool => "global_avg_pool",
            Kernel::ConvTiled(..) => "conv_tiled",
            Kernel::NormFinish => "norm_finish",
            Kernel::Unpack(PixelFormat::Rgba8, _) => "unpack_rgba8",
            Kernel::Unpack(PixelFormat::Planar, _) => "unpack_planar",
            Kernel::Emit(PixelFormat::Rgba8, _) => "emit_rgba8",
            Kernel::Emit(PixelFormat::Planar, _) => "emit_planar",
        }
    }
}

/// Workgroups for `workgroups` groups of work, folded into 2-D when one dimension's limit is too small. Shaders
/// rebuild the linear index as `y * num_workgroups.x * WG + x` (or `y * num_workgroups.x + x` per workgroup) and
/// bounds-check it, so the padding groups of the last row do nothing.
pub(crate) fn grid(workgroups: u64, max_per_dimension: u32) -> Result<(u32, u32)> {
    let max = u64::from(max_per_dimension.max(1));
    let x = workgroups.clamp(1, max);
    let y = workgroups.div_ceil(x).max(1);
    if y > max {
        return Err(Error::GpuFailed { reason: format!("{workgroups} workgroups exceed this GPU's dispatch limit") });
    }
    Ok((x as u32, y as u32))
}

/// Workgroups for one invocation per element.
pub(crate) fn grid_for_elements(elements: u64, max_per_dimension: u32) -> Result<(u32, u32)> {
    grid(elements.div_ceil(u64::from(WORKGROUP_SIZE)), max_per_dimension)
}

/// Shader modules and pipelines, created on first use and kept for the device's life.
pub(crate) struct Pipelines {
    /// By source: kernels of one file and variant share a module.
    modules: HashMap<String, wgpu::ShaderModule>,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
}

impl Pipelines {
    pub(crate) fn new() -> Self {
        Pipelines { modules: HashMap::new(), pipelines: HashMap::new() }
    }

    pub(crate) fn get(&mut self, device: &wgpu::Device, kernel: Kernel) -> &wgpu::ComputePipeline {
        let modules = &mut self.modules;
        self.pipelines.entry(kernel).or_insert_with(|| {
            let source = kernel.source();
            let module = modules.entry(source.clone()).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.entry()),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                })
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.entry()),
                // The layout is derived from the entry point's bindings.
                layout: None,
                module,
                entry_point: Some(kernel.entry()),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("WG", f64::from(WORKGROUP_SIZE))],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            })
        })
    }

    pub(crate) fn built(&self, kernel: Kernel) -> Option<&wgpu::ComputePipeline> {
        self.pipelines.get(&kernel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_folds_into_two_dimensions() {
        assert_eq!(grid(1, 65535).ok(), Some((1, 1)));
        assert_eq!(grid(0, 65535).ok(), Some((1, 1)));
        assert_eq!(grid(65535, 65535).ok(), Some((65535, 1)));
        assert_eq!(grid(65536, 65535).ok(), Some((65535, 2)));
        assert!(grid(65535u64 * 65535 + 1, 65535).is_err());
        let (x, y) = grid_for_elements(10_000_000, 65535).unwrap_or((0, 0));
        assert!(u64::from(x) * u64::from(y) * u64::from(WORKGROUP_SIZE) >= 10_000_000);
    }
}
