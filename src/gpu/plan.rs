//! A plan for one input size: every tensor's buffer (reused once its value is dead), every dispatch with its bind
//! group and parameters, and the readback buffer. Built once per size; a run then only uploads and submits.
//! A conv-tile plan is the same for one conv node on an already padded tile.

use std::num::NonZeroU64;

use bytemuck::Pod;
use wgpu::util::DeviceExt;

use super::context::Context;
use super::kernels::{grid, grid_for_elements, Kernel, Pipelines, DEPTHWISE_PIXELS, OC4_PIXELS};
use super::uniforms::{ConvParams, EltParams, NormParams, PoolParams, UpsampleParams};
use super::weights::{conv_kernel, ConvBuffers};
use crate::error::{Error, Result};
use crate::graph::{Conv2d, Graph, Op, PadMode, Padding, Shape, INPUT_VALUE, MAX_VALUES_PER_TENSOR};

/// What a bind group slot holds, before buffers exist.
#[derive(Clone, Copy)]
enum Binding {
    /// Offset of this dispatch's parameters in the plan's uniform buffer, and their size.
    Uniform(u64, u64),
    Activation(usize),
    Weights(usize),
    ScaleBias(usize),
    Stats,
    Style,
}

enum Pending {
    Copy { src: usize, dst: usize, bytes: u64 },
    Dispatch { kernel: Kernel, bindings: Vec<Binding>, grid: (u32, u32) },
}

pub enum Step {
    Copy { src: usize, dst: usize, bytes: u64 },
    Dispatch { kernel: Kernel, bind_group: wgpu::BindGroup, grid: (u32, u32) },
}

/// What plans bind but do not own: the uploaded conv weights (by node) and style parameters, and whether convs run
/// the plain kernel where a faster one would take them.
pub struct Resources<'a> {
    pub convs: &'a [Option<ConvBuffers>],
    pub style: &'a wgpu::Buffer,
    pub plain_convs: bool,
}

pub struct Plan {
    pub steps: Vec<Step>,
    pub buffers: Vec<wgpu::Buffer>,
    pub input: usize,
    pub output: usize,
    pub output_shape: Shape,
    pub staging: wgpu::Buffer,
    /// Kept alive for the bind groups.
    _uniforms: wgpu::Buffer,
    _stats: wgpu::Buffer,
    /// Bumped on each use; the least recently used plan is dropped first.
    pub last_used: u64,
}

/// Activation buffers by size, handed out again once their value is dead.
struct Pool {
    sizes: Vec<u64>,
    free: Vec<usize>,
}

impl Pool {
    fn take(&mut self, bytes: u64) -> usize {
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
struct Uniforms {
    bytes: Vec<u8>,
    align: u64,
}

impl Uniforms {
    fn push<T: Pod>(&mut self, value: &T) -> Binding {
        let offset = (self.bytes.len() as u64).next_multiple_of(self.align);
        self.bytes.resize(offset as usize, 0);
        self.bytes.extend_from_slice(bytemuck::bytes_of(value));
        Binding::Uniform(offset, std::mem::size_of::<T>() as u64)
    }
}

fn u32_of(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::internal(format!("{what} ({value}) does not fit a GPU index")))
}

fn bytes_of_shape(shape: Shape) -> u64 {
    shape.len() as u64 * 4
}

impl Plan {
    pub fn build(
        ctx: &Context,
        pipelines: &mut Pipelines,
        res: &Resources,
        graph: &Graph,
        height: usize,
        width: usize,
    ) -> Result<Plan> {
        let shapes = graph
            .infer_shapes(height, width)?
            .ok_or_else(|| Error::internal(format!("a {width}x{height} input is too small for this network")))?;
        let last_uses = graph.last_uses();
        let max_groups = ctx.limits.max_compute_workgroups_per_dimension;
        let mut pool = Pool { sizes: Vec::new(), free: Vec::new() };
        let mut uniforms =
            Uniforms { bytes: Vec::new(), align: u64::from(ctx.limits.min_uniform_buffer_offset_alignment).max(16) };
        let mut value_buffer = vec![usize::MAX; graph.value_count()];
        let mut pending = Vec::new();
        let mut stats_len = 1usize;

        value_buffer[INPUT_VALUE] = pool.take(bytes_of_shape(shapes[INPUT_VALUE]));
        for (index, node) in graph.nodes().iter().enumerate() {
            let x = node.inputs[0];
            let (input, out) = (shapes[x], shapes[node.output]);
            let count = u32_of(out.len(), "an activation's length")?;
            let missing = || Error::internal(format!("{} reads a value that is not there", node.name));
            let source = *value_buffer.get(x).filter(|&&b| b != usize::MAX).ok_or_else(missing)?;
            // In-place ops reuse their input's buffer when this is its last reader; otherwise they work on a copy.
            let mut moved = false;
            let mut in_place = |pool: &mut Pool, pending: &mut Vec<Pending>, may_move: bool| {
                if may_move && last_uses[x] == index {
                    moved = true;
                    source
                } else {
                    let dst = pool.take(bytes_of_shape(out));
                    pending.push(Pending::Copy { src: source, dst, bytes: bytes_of_shape(out) });
                    dst
                }
            };
            let output = match &node.op {
                Op::Conv2d(conv) => {
                    let dst = pool.take(bytes_of_shape(out));
                    let step =
                        ConvStep { conv, node: index, pad: conv.pad, pad_mode: conv.pad_mode, input, out, source, dst };
                    pending.push(conv_dispatch(&step, res, &mut uniforms, max_groups)?);
                    dst
                }
                Op::UpsampleNearest { factor } => {
                    let dst = pool.take(bytes_of_shape(out));
                    let params = UpsampleParams {
                        channels: u32_of(input.channels, "channels")?,
                        in_height: u32_of(input.height, "height")?,
                        in_width: u32_of(input.width, "width")?,
                        factor: u32_of(*factor, "upsampling factor")?,
                    };
                    let bindings = vec![uniforms.push(&params), Binding::Activation(source), Binding::Activation(dst)];
                    let grid = grid_for_elements(u64::from(count), max_groups)?;
                    pending.push(Pending::Dispatch { kernel: Kernel::Upsample, bindings, grid });
                    dst
                }
                Op::InstanceNorm(norm) => {
                    let dst = in_place(&mut pool, &mut pending, true);
                    stats_len = stats_len.max(2 * out.channels);
                    let params = NormParams {
                        channels: u32_of(out.channels, "channels")?,
                        plane: u32_of(out.plane(), "plane size")?,
                        params_offset: u32_of(norm.params_offset, "style parameter offset")?,
                        eps: norm.eps,
                    };
                    let at = uniforms.push(&params);
                    let stats_bindings = vec![at, Binding::Activation(dst), Binding::Stats];
                    let stats_grid = grid(out.channels as u64, max_groups)?;
                    pending.push(Pending::Dispatch {
                        kernel: Kernel::NormStats,
                        bindings: stats_bindings,
                        grid: stats_grid,
                    });
                    let bindings = vec![at, Binding::Activation(dst), Binding::Stats, Binding::Style];
                    let grid = grid_for_elements(u64::from(count), max_groups)?;
                    pending.push(Pending::Dispatch { kernel: Kernel::NormApply, bindings, grid });
                    dst
                }
                Op::Relu | Op::Sigmoid | Op::Clip { .. } => {
                    let dst = in_place(&mut pool, &mut pending, true);
                    let (kernel, params) = match node.op {
                        Op::Relu => (Kernel::Relu, EltParams { count, ..EltParams::default() }),
                        Op::Clip { min, max } => (Kernel::Clip, EltParams { count, min, max, ..EltParams::default() }),
                        _ => (Kernel::Sigmoid, EltParams { count, ..EltParams::default() }),
                    };
                    let bindings = vec![uniforms.push(&params), Binding::Activation(dst)];
                    pending.push(Pending::Dispatch {
                        kernel,
                        bindings,
                        grid: grid_for_elements(u64::from(count), max_groups)?,
                    });
                    dst
                }
                Op::ChannelAffine { channels, params_offset } => {
                    // The kernel reads scale and shift unchecked: keep them inside the parameters.
                    if params_offset.checked_add(2 * channels).is_none_or(|end| end > graph.style_params_len()) {
                        return Err(Error::internal(format!("{} reads style parameters past their end", node.name)));
                    }
                    let dst = in_place(&mut pool, &mut pending, true);
                    let params = EltParams {
                        count,
                        plane: u32_of(out.plane(), "plane size")?,
                        channels: u32_of(*channels, "channels")?,
                        params_offset: u32_of(*params_offset, "style parameter offset")?,
                        ..EltParams::default()
                    };
                    let bindings = vec![uniforms.push(&params), Binding::Activation(dst), Binding::Style];
                    let grid = grid_for_elements(u64::from(count), max_groups)?;
                    pending.push(Pending::Dispatch { kernel: Kernel::ChannelAffine, bindings, grid });
                    dst
                }
                Op::GlobalAvgPool => {
                    let dst = pool.take(bytes_of_shape(out));
                    let params = PoolParams {
                        channels: u32_of(input.channels, "channels")?,
                        plane: u32_of(input.plane(), "plane size")?,
                        ..PoolParams::default()
                    };
                    let bindings = vec![uniforms.push(&params), Binding::Activation(source), Binding::Activation(dst)];
                    // One workgroup per channel.
                    let grid = grid(input.channels as u64, max_groups)?;
                    pending.push(Pending::Dispatch { kernel: Kernel::GlobalAvgPool, bindings, grid });
                    dst
                }
                Op::Add => {
                    let y = node.inputs[1];
                    let other = *value_buffer.get(y).filter(|&&b| b != usize::MAX).ok_or_else(missing)?;
                    // `x + x` cannot bind one buffer as both operands' roles, so it works on a copy.
                    let dst = in_place(&mut pool, &mut pending, y != x);
                    let bindings = vec![
                        uniforms.push(&EltParams { count, ..EltParams::default() }),
                        Binding::Activation(dst),
                        Binding::Activation(other),
                    ];
                    let grid = grid_for_elements(u64::from(count), max_groups)?;
                    pending.push(Pending::Dispatch { kernel: Kernel::Add, bindings, grid });
                    dst
                }
            };
            value_buffer[node.output] = output;
            let mut inputs = node.inputs.clone();
            inputs.dedup();
            for id in inputs {
                if last_uses[id] == index && !(moved && id == x) && id != graph.output() {
                    pool.free.push(value_buffer[id]);
                }
            }
        }
        let output = *value_buffer
            .get(graph.output())
            .filter(|&&b| b != usize::MAX)
            .ok_or_else(|| Error::internal("the graph output is never written"))?;
        let output_shape = shapes[graph.output()];

        let layout =
            Layout { pool, pending, uniforms, stats_len, input: value_buffer[INPUT_VALUE], output, output_shape };
        layout.realise(ctx, pipelines, res)
    }

    /// One conv node of `graph` on an input tile that is already padded (by the caller, with the image's own
    /// padding or its neighbours' pixels): zero padding on every side, so the output is the valid convolution.
    pub fn conv_tile(
        ctx: &Context,
        pipelines: &mut Pipelines,
        res: &Resources,
        conv: &Conv2d,
        node: usize,
        input: Shape,
    ) -> Result<Plan> {
        let out = conv_tile_shape(conv, input)?;
        let max_groups = ctx.limits.max_compute_workgroups_per_dimension;
        let mut pool = Pool { sizes: Vec::new(), free: Vec::new() };
        let mut uniforms =
            Uniforms { bytes: Vec::new(), align: u64::from(ctx.limits.min_uniform_buffer_offset_alignment).max(16) };
        let source = pool.take(bytes_of_shape(input));
        let dst = pool.take(bytes_of_shape(out));
        let step = ConvStep { conv, node, pad: Padding::default(), pad_mode: PadMode::Zero, input, out, source, dst };
        let pending = vec![conv_dispatch(&step, res, &mut uniforms, max_groups)?];
        let layout = Layout { pool, pending, uniforms, stats_len: 1, input: source, output: dst, output_shape: out };
        layout.realise(ctx, pipelines, res)
    }
}

/// The output of `conv` on an already padded input tile, or why the tile cannot be convolved.
pub fn conv_tile_shape(conv: &Conv2d, input: Shape) -> Result<Shape> {
    let w = &conv.weights;
    if input.channels != w.in_per_group * conv.groups {
        return Err(Error::internal(format!(
            "the conv takes {} channels, the tile has {}",
            w.in_per_group * conv.groups,
            input.channels
        )));
    }
    if input.height < w.kernel_h || input.width < w.kernel_w || conv.stride == 0 {
        return Err(Error::internal(format!(
            "a {}x{} tile is smaller than the {}x{} kernel",
            input.width, input.height, w.kernel_w, w.kernel_h
        )));
    }
    let stride = conv.stride;
    let out =
        Shape::new(w.out_channels, (input.height - w.kernel_h) / stride + 1, (input.width - w.kernel_w) / stride + 1);
    // The bound shape inference puts on every activation, which also keeps shader indices inside u32.
    if input.len().max(out.len()) > MAX_VALUES_PER_TENSOR {
        return Err(Error::internal(format!("a {input:?} tile or its {out:?} output is too large")));
    }
    Ok(out)
}

/// One convolution's dispatch: the conv, its node (for its uploaded weights), the padding it applies, shapes and
/// buffers.
struct ConvStep<'a> {
    conv: &'a Conv2d,
    node: usize,
    pad: Padding,
    pad_mode: PadMode,
    input: Shape,
    out: Shape,
    source: usize,
    dst: usize,
}

fn conv_dispatch(step: &ConvStep, res: &Resources, uniforms: &mut Uniforms, max_groups: u32) -> Result<Pending> {
    let ConvStep { conv, node, pad, pad_mode, input, out, source, dst } = *step;
    let w = &conv.weights;
    let params = ConvParams {
        in_channels: u32_of(input.channels, "channels")?,
        in_height: u32_of(input.height, "height")?,
        in_width: u32_of(input.width, "width")?,
        out_channels: u32_of(out.channels, "channels")?,
        out_height: u32_of(out.height, "height")?,
        out_width: u32_of(out.width, "width")?,
        in_per_group: u32_of(w.in_per_group, "channels per group")?,
        outs_per_group: u32_of(w.out_channels / conv.groups.max(1), "channels per group")?,
        kernel_h: u32_of(w.kernel_h, "kernel height")?,
        kernel_w: u32_of(w.kernel_w, "kernel width")?,
        stride: u32_of(conv.stride, "stride")?,
        // Bottom and right padding need no parameter: the output size stops the reads there.
        pad_top: u32_of(pad.top, "padding")?,
        pad_left: u32_of(pad.left, "padding")?,
        reflect: u32::from(pad_mode == PadMode::Reflect),
        has_bias: u32::from(w.bias.is_some()),
        ..ConvParams::default()
    };
    let kernel = conv_kernel(conv, res.plain_convs);
    // Invocations: one per 4 pixels of a row for 4 channels, per 8 pixels of a row for one channel, or per value.
    let work = match kernel {
        Kernel::Conv2dOc4 => (out.channels / 4 * out.height * out.width.div_ceil(OC4_PIXELS as usize)) as u64,
        Kernel::Conv2dDepthwise => (out.channels * out.height * out.width.div_ceil(DEPTHWISE_PIXELS as usize)) as u64,
        _ => out.len() as u64,
    };
    if res.convs.get(node).and_then(Option::as_ref).is_none() {
        return Err(Error::internal(format!("conv node {node} has no uploaded weights")));
    }
    let bindings = vec![
        uniforms.push(&params),
        Binding::Activation(source),
        Binding::Activation(dst),
        Binding::Weights(node),
        Binding::ScaleBias(node),
    ];
    Ok(Pending::Dispatch { kernel, bindings, grid: grid_for_elements(work, max_groups)? })
}

/// A plan's buffers by size and its dispatches, before anything is allocated on the device.
struct Layout {
    pool: Pool,
    pending: Vec<Pending>,
    uniforms: Uniforms,
    stats_len: usize,
    input: usize,
    output: usize,
    output_shape: Shape,
}

impl Layout {
    fn realise(self, ctx: &Context, pipelines: &mut Pipelines, res: &Resources) -> Result<Plan> {
        let Layout { pool, pending, mut uniforms, stats_len, input, output, output_shape } = self;
        // Everything is sized: check against the device before allocating anything.
        let limit = ctx.max_buffer();
        let largest = pool.sizes.iter().copied().chain([stats_len as u64 * 4]).max().unwrap_or(0);
        if largest > limit {
            return Err(Error::GpuBufferLimit { needed: largest, limit });
        }

        let device = &ctx.device;
        let buffers: Vec<wgpu::Buffer> = pool
            .sizes
            .iter()
            .map(|&size| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("activation"),
                    size,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let stats = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("norm statistics"),
            size: stats_len as u64 * 4,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        if uniforms.bytes.is_empty() {
            uniforms.bytes.resize(16, 0);
        }
        let uniform_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dispatch parameters"),
            contents: &uniforms.bytes,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes_of_shape(output_shape).max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut steps = Vec::with_capacity(pending.len());
        for step in pending {
            steps.push(match step {
                Pending::Copy { src, dst, bytes } => Step::Copy { src, dst, bytes },
                Pending::Dispatch { kernel, bindings, grid } => {
                    let entries: Vec<wgpu::BindGroupEntry> = bindings
                        .iter()
                        .enumerate()
                        .map(|(slot, binding)| {
                            let resource = match *binding {
                                Binding::Uniform(offset, size) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                    buffer: &uniform_buffer,
                                    offset,
                                    size: NonZeroU64::new(size),
                                }),
                                Binding::Activation(b) => buffers[b].as_entire_binding(),
                                Binding::Weights(node) | Binding::ScaleBias(node) => {
                                    let Some(conv) = res.convs.get(node).and_then(Option::as_ref) else {
                                        return Err(Error::internal("a conv has no uploaded weights"));
                                    };
                                    match binding {
                                        Binding::Weights(_) => conv.weights.as_entire_binding(),
                                        _ => conv.scale_bias.as_entire_binding(),
                                    }
                                }
                                Binding::Stats => stats.as_entire_binding(),
                                Binding::Style => res.style.as_entire_binding(),
                            };
                            Ok(wgpu::BindGroupEntry { binding: slot as u32, resource })
                        })
                        .collect::<Result<_>>()?;
                    let layout = pipelines.get(device, kernel).get_bind_group_layout(0);
                    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                        label: Some(kernel.entry()),
                        layout: &layout,
                        entries: &entries,
                    });
                    Step::Dispatch { kernel, bind_group, grid }
                }
            });
        }
        Ok(Plan {
            steps,
            buffers,
            input,
            output,
            output_shape,
            staging,
            _uniforms: uniform_buffer,
            _stats: stats,
            last_used: 0,
        })
    }
}
