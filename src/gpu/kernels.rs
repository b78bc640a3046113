//! The compute kernels, their shaders, and a cache of pipelines keyed by kernel, each built once per device.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Invocations per workgroup for every kernel, passed to the shaders as the `WG` override and used for every dispatch
/// count. 64 is a multiple of the usual SIMD widths (8 on lavapipe, 32 and 64 on discrete GPUs), fits the 256
/// invocations WebGPU guarantees, and keeps the norm reduction's shared memory small.
pub const WORKGROUP_SIZE: u32 = 64;

/// Shared-memory slots of the norm and pool reductions, which halve the workgroup each step.
pub const REDUCTION_CAPACITY: u32 = 256;
const _: () = assert!(WORKGROUP_SIZE.is_power_of_two() && WORKGROUP_SIZE <= REDUCTION_CAPACITY);

/// `conv2d_oc4`: neighbouring pixels of a row per invocation (for 4 output channels, one `vec4` each). The shader
/// keeps one accumulator per pixel by name, so this cannot change without it.
pub const OC4_PIXELS: u32 = 4;
/// `conv2d_depthwise`: neighbouring pixels of a row per invocation (two `vec4` accumulators).
pub const DEPTHWISE_PIXELS: u32 = 8;

/// What every shader shares with Rust, prepended to each shader file by the loader, so no number or index rule is
/// written twice: the workgroup size (an override, set again at pipeline creation), the reduction capacity, the
/// conv kernels' block widths, and the linear index of a 2-D folded grid (see `grid`).
pub fn prelude() -> String {
    format!(
        "// Prepended by gpu::kernels::prelude(): shared with the Rust side.\n\
         override WG: u32 = {WORKGROUP_SIZE}u;\n\
         const REDUCTION_CAPACITY: u32 = {REDUCTION_CAPACITY}u;\n\
         const OC4_PIXELS: u32 = {OC4_PIXELS}u;\n\
         const DEPTHWISE_PIXELS: u32 = {DEPTHWISE_PIXELS}u;\n\
         fn linear_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {{\n    return gid.y * groups.x * WG + gid.x;\n}}\n\n"
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Conv2d,
    Conv2dOc4,
    Conv2dDepthwise,
    NormStats,
    NormApply,
    Relu,
    Clip,
    Sigmoid,
    Add,
    ChannelAffine,
    Upsample,
    GlobalAvgPool,
}

impl Kernel {
    #[cfg(test)]
    pub const ALL: [Kernel; 12] = [
        Kernel::Conv2d,
        Kernel::Conv2dOc4,
        Kernel::Conv2dDepthwise,
        Kernel::NormStats,
        Kernel::NormApply,
        Kernel::Relu,
        Kernel::Clip,
        Kernel::Sigmoid,
        Kernel::Add,
        Kernel::ChannelAffine,
        Kernel::Upsample,
        Kernel::GlobalAvgPool,
    ];

    /// The shader as compiled: the prelude, then the kernel family's file.
    pub fn source(self) -> String {
        prelude() + self.file()
    }

    /// The kernel family's own WGSL file (several kernels share one).
    pub fn file(self) -> &'static str {
        match self {
            Kernel::Conv2d | Kernel::Conv2dOc4 | Kernel::Conv2dDepthwise => include_str!("shaders/conv2d.wgsl"),
            Kernel::NormStats | Kernel::NormApply => include_str!("shaders/norm.wgsl"),
            Kernel::Relu | Kernel::Clip | Kernel::Sigmoid | Kernel::Add | Kernel::ChannelAffine => {
                include_str!("shaders/elementwise.wgsl")
            }
            Kernel::Upsample => include_str!("shaders/upsample.wgsl"),
            Kernel::GlobalAvgPool => include_str!("shaders/pool.wgsl"),
        }
    }

    pub fn entry(self) -> &'static str {
        match self {
            Kernel::Conv2d => "conv2d",
            Kernel::Conv2dOc4 => "conv2d_oc4",
            Kernel::Conv2dDepthwise => "conv2d_depthwise",
            Kernel::NormStats => "norm_stats",
            Kernel::NormApply => "norm_apply",
            Kernel::Relu => "relu",
            Kernel::Clip => "clip",
            Kernel::Sigmoid => "sigmoid",
            Kernel::Add => "add",
            Kernel::ChannelAffine => "channel_affine",
            Kernel::Upsample => "upsample_nearest",
            Kernel::GlobalAvgPool => "global_avg_pool",
        }
    }
}

/// Workgroups for `workgroups` groups of work, folded into 2-D when one dimension's limit is too small. Shaders
/// rebuild the linear index as `y * num_workgroups.x * WG + x` (or `y * num_workgroups.x + x` per workgroup) and
/// bounds-check it, so the padding groups of the last row do nothing.
pub fn grid(workgroups: u64, max_per_dimension: u32) -> Result<(u32, u32)> {
    let max = u64::from(max_per_dimension.max(1));
    let x = workgroups.clamp(1, max);
    let y = workgroups.div_ceil(x).max(1);
    if y > max {
        return Err(Error::GpuFailed { reason: format!("{workgroups} workgroups exceed this GPU's dispatch limit") });
    }
    Ok((x as u32, y as u32))
}

/// Workgroups for one invocation per element.
pub fn grid_for_elements(elements: u64, max_per_dimension: u32) -> Result<(u32, u32)> {
    grid(elements.div_ceil(u64::from(WORKGROUP_SIZE)), max_per_dimension)
}

/// Shader modules and pipelines, created on first use and kept for the device's life.
pub struct Pipelines {
    modules: HashMap<&'static str, wgpu::ShaderModule>,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
}

impl Pipelines {
    pub fn new() -> Self {
        Pipelines { modules: HashMap::new(), pipelines: HashMap::new() }
    }

    pub fn get(&mut self, device: &wgpu::Device, kernel: Kernel) -> &wgpu::ComputePipeline {
        let modules = &mut self.modules;
        self.pipelines.entry(kernel).or_insert_with(|| {
            let module = modules.entry(kernel.file()).or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.entry()),
                    source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
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

    pub fn built(&self, kernel: Kernel) -> Option<&wgpu::ComputePipeline> {
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
