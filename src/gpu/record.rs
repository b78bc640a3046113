//! The vocabulary plans are recorded in, below both recorders: what a dispatch binds (`Binding`), the steps
//! (`Pending`), activation buffers by size (`Pool`), dispatch parameters (`Uniforms`), the `Recorder` that lays them
//! down and the `Layout` it finishes as, with what it costs. The baseline recorder (`plan`) and the fused one
//! (`fused`) write into it and `plan` realises a layout on a device; nothing here knows either recorder.

use bytemuck::Pod;

use super::context::Context;
use super::cost::{kernel_name, Cost, PlanCost, StepCost};
use super::kernels::{Kernel, Precision};
use crate::error::{Error, Result};
use crate::graph::Shape;

/// What a bind group slot holds, before buffers exist.
#[derive(Clone, Copy)]
pub(super) enum Binding {
    /// Offset of this dispatch's parameters in the plan's uniform buffer, and their size.
    Uniform(u64, u64),
    Activation(usize),
    Weights(usize),
    ScaleBias(usize),
    Stats,
    Style,
    /// `conv_tiled`'s packing of a conv node's weights, and its padded scales and biases.
    TiledWeights(usize),
    TiledScaleBias(usize),
    /// The fused plan's per-tile norm statistics, and every norm's scale and shift.
    Partials,
    Affine,
    /// A placeholder for a slot a dispatch does not use (two, so two writable slots never share a buffer).
    Unused(usize),
    /// The baseline's weighted norm statistics: weight plane `n` of the plan (`Recorder::weight_plane`), bound as
    /// its own range of the norm weights buffer.
    NormWeights(usize),
    /// A slot the kernel's entry point does not declare: no entry at all.
    Absent,
}

pub(super) enum Pending {
    Copy { src: usize, dst: usize, bytes: u64 },
    Dispatch { kernel: Kernel, bindings: Vec<Binding>, grid: (u32, u32), node: String, cost: Cost },
}

/// Which kernels a whole-graph plan is recorded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelSet {
    /// The fused plan where the graph allows it (`fused::unsupported`), else the baseline.
    Fused,
    /// One kernel per op on planar f32: the first kernels, kept as the reference and for comparison.
    Baseline,
    /// The baseline with every conv the flat packing allows on the plain `conv2d` kernel: the reference the faster
    /// conv kernels are tested against.
    Plain,
}

impl KernelSet {
    pub fn name(self) -> &'static str {
        match self {
            KernelSet::Fused => "fused",
            KernelSet::Baseline => "baseline",
            KernelSet::Plain => "plain",
        }
    }
}

/// What a recording depends on besides the graph: the kernels and precision chosen, and the device's limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordOptions {
    pub(crate) kernels: KernelSet,
    pub(crate) precision: Precision,
    pub(crate) max_groups: u32,
    pub(crate) uniform_align: u64,
    /// Whether every instance norm's statistics are weighted per pixel (`cpu::NormWeights`), by planes uploaded
    /// with each run.
    pub(crate) weighted: bool,
}

impl RecordOptions {
    pub(crate) fn for_device(ctx: &Context, kernels: KernelSet, precision: Precision) -> Self {
        RecordOptions {
            kernels,
            precision,
            max_groups: ctx.limits.max_compute_workgroups_per_dimension,
            uniform_align: u64::from(ctx.limits.min_uniform_buffer_offset_alignment).max(16),
            weighted: false,
        }
    }

    /// WebGPU's default limits: what the cost model assumes without a device.
    pub(crate) fn portable(kernels: KernelSet, precision: Precision) -> Self {
        let limits = wgpu::Limits::default();
        RecordOptions {
            kernels,
            precision,
            max_groups: limits.max_compute_workgroups_per_dimension,
            uniform_align: u64::from(limits.min_uniform_buffer_offset_alignment).max(16),
            weighted: false,
        }
    }
}

/// What a whole-graph plan takes in and gives back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Io {
    /// A planar f32 tensor at the network's (padded) size, and the output tensor.
    Planar,
    /// A `width x height` photo as RGBA8 words (padded on the GPU), and the styled photo at that size as RGBA8.
    Rgba8 { width: usize, height: usize },
}

/// Activation buffers by size, handed out again once their value is dead.
#[derive(Default)]
pub(super) struct Pool {
    pub(crate) sizes: Vec<u64>,
    pub(crate) free: Vec<usize>,
}

impl Pool {
    pub(crate) fn take(&mut self, bytes: u64) -> usize {
        let bytes = bytes.max(4);
        let fitting =
            self.free.iter().enumerate().filter(|(_, &b)| self.sizes[b] >= bytes).min_by_key(|(_, &b)| self.sizes[b]);
        if let Some((slot, _)) = fitting {
            return self.free.swap_remove(slot);
        }
        // Nothing free is large enough: grow the largest free one rather than adding another buffer.
        if let Some((slot, _)) = self.free.iter().enumerate().max_by_key(|(_, &b)| self.sizes[b]) {
            let buffer = self.free.swap_remove(slot);
            self.sizes[buffer] = bytes;
            return buffer;
        }
        self.sizes.push(bytes);
        self.sizes.len() - 1
    }
}

/// Per-dispatch parameters laid out at the device's uniform offset alignment.
pub(super) struct Uniforms {
    bytes: Vec<u8>,
    align: u64,
}

impl Uniforms {
    pub(crate) fn new(align: u64) -> Self {
        Uniforms { bytes: Vec::new(), align }
    }

    pub(crate) fn push<T: Pod>(&mut self, value: &T) -> Binding {
        let offset = (self.bytes.len() as u64).next_multiple_of(self.align);
        self.bytes.resize(offset as usize, 0);
        self.bytes.extend_from_slice(bytemuck::bytes_of(value));
        Binding::Uniform(offset, std::mem::size_of::<T>() as u64)
    }

    /// The uniform buffer's contents: never empty, since a buffer cannot be.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        if self.bytes.is_empty() {
            self.bytes.resize(16, 0);
        }
        self.bytes
    }
}

pub(super) fn u32_of(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::internal(format!("{what} ({value}) does not fit a GPU index")))
}

pub(super) fn bytes_of_shape(shape: Shape) -> u64 {
    shape.len() as u64 * 4
}

/// One resolution's norm weights as a weighted plan holds them: `height x width` f32 values from byte `offset` of
/// the buffer the recorder put them in (`Recorder::weights_in_affine`). The run uploads `NormWeights::at` there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WeightPlane {
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) offset: u64,
}

impl WeightPlane {
    pub(crate) fn bytes(&self) -> u64 {
        (self.height * self.width) as u64 * 4
    }
}

/// The largest `min_storage_buffer_offset_alignment` WebGPU allows: a plane bound as a range of its buffer starts
/// at a multiple of it on every device.
pub(crate) const STORAGE_OFFSET_ALIGN: u64 = 256;

/// Buffers, uniforms and steps as a recorder lays them down.
pub(super) struct Recorder {
    pub(crate) pool: Pool,
    pub(crate) uniforms: Uniforms,
    pub(crate) pending: Vec<Pending>,
    /// Bytes of the baseline's norm statistics, the fused plan's tile statistics and its norms' scales and shifts.
    pub(crate) stats_bytes: u64,
    pub(crate) partials_bytes: u64,
    pub(crate) affine_bytes: u64,
    pub(crate) max_groups: u32,
    pub(crate) kernels: KernelSet,
    pub(crate) precision: Precision,
    /// A weighted plan's norm weights, one plane per resolution a norm runs at, laid out from `weights_start` at
    /// `weights_align` up to `weights_end`: in the affine buffer after the norms' scales and shifts (the fused plan,
    /// whose convs read them there) or in a buffer of their own (the baseline's).
    pub(crate) weight_planes: Vec<WeightPlane>,
    pub(crate) weights_in_affine: bool,
    pub(crate) weights_align: u64,
    pub(crate) weights_end: u64,
}

impl Recorder {
    pub(crate) fn new(opts: &RecordOptions) -> Self {
        Recorder {
            pool: Pool::default(),
            uniforms: Uniforms::new(opts.uniform_align),
            pending: Vec::new(),
            stats_bytes: 4,
            partials_bytes: 16,
            affine_bytes: 16,
            max_groups: opts.max_groups,
            kernels: opts.kernels,
            precision: opts.precision,
            weight_planes: Vec::new(),
            weights_in_affine: false,
            weights_align: STORAGE_OFFSET_ALIGN,
            weights_end: 0,
        }
    }

    /// Where the weight planes go: from byte `start` of the affine buffer at `align` (`in_affine`), else from the
    /// start of their own buffer, each plane bound as a range.
    pub(crate) fn place_weights(&mut self, in_affine: bool, start: u64, align: u64) {
        self.weights_in_affine = in_affine;
        self.weights_end = start;
        self.weights_align = align;
    }

    /// The index and byte offset of the weight plane at `height x width`, laid out on first asking.
    pub(crate) fn weight_plane(&mut self, height: usize, width: usize) -> (usize, u64) {
        if let Some(i) = self.weight_planes.iter().position(|p| p.height == height && p.width == width) {
            return (i, self.weight_planes[i].offset);
        }
        let offset = self.weights_end.next_multiple_of(self.weights_align);
        let plane = WeightPlane { height, width, offset };
        self.weights_end = offset + plane.bytes();
        self.weight_planes.push(plane);
        (self.weight_planes.len() - 1, offset)
    }

    /// The layout, given where the input goes (a tensor of `input_shape`, or the photo's RGBA8 words as `io`
    /// says) and where the output comes from.
    pub(crate) fn finish(
        self,
        (input, input_shape): (usize, Shape),
        output: usize,
        output_shape: Shape,
        io: Io,
    ) -> Layout {
        let (input_bytes, output_bytes) = match io {
            Io::Planar => (bytes_of_shape(input_shape), bytes_of_shape(output_shape)),
            Io::Rgba8 { width, height } => ((width * height) as u64 * 4, (width * height) as u64 * 4),
        };
        Layout { rec: self, input, output, output_shape, output_bytes, input_bytes }
    }
}

/// A plan's buffers by size and its steps, before anything is allocated on the device.
pub(crate) struct Layout {
    pub(super) rec: Recorder,
    pub(super) input: usize,
    pub(super) output: usize,
    pub(super) output_shape: Shape,
    pub(super) output_bytes: u64,
    pub(super) input_bytes: u64,
}

impl Layout {
    /// What the plan's steps cost, from their own records.
    pub(crate) fn cost(&self, width: usize, height: usize) -> PlanCost {
        let mut steps = Vec::with_capacity(self.rec.pending.len());
        let mut passes = 0;
        let mut in_pass = false;
        for step in &self.rec.pending {
            match step {
                Pending::Copy { bytes, .. } => {
                    in_pass = false;
                    let cost = Cost { read: *bytes, written: *bytes, flops: 0, whole_tensor: true };
                    steps.push(StepCost { node: "copy".into(), kernel: "copy".into(), workgroups: 0, cost });
                }
                Pending::Dispatch { kernel, grid, node, cost, .. } => {
                    if !in_pass {
                        passes += 1;
                        in_pass = true;
                    }
                    let workgroups = u64::from(grid.0) * u64::from(grid.1);
                    steps.push(StepCost { node: node.clone(), kernel: kernel_name(*kernel), workgroups, cost: *cost });
                }
            }
        }
        PlanCost {
            width,
            height,
            kernels: self.rec.kernels.name(),
            precision: self.rec.precision,
            steps,
            passes,
            upload: self.input_bytes + self.rec.weight_planes.iter().map(WeightPlane::bytes).sum::<u64>(),
            readback: self.output_bytes,
        }
    }
}
