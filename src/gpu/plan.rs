//! A plan for one input size: every tensor's buffer (reused once its value is dead), every dispatch with its bind
//! group and parameters, and the readback buffer. Built once per size; a run then only uploads and submits.
//! A conv-tile plan is the same for one conv node on an already padded tile.
//!
//! Recording (what runs, on which buffers of which sizes, and what each step costs, in `super::record`'s terms) is
//! apart from realising (allocating and binding on a device, here), so the cost model reads the very steps a run
//! would submit. Two recorders: the baseline one here (one kernel per op, planar f32) and the fused one
//! (`super::fused`); `record` picks one.

use std::num::NonZeroU64;

use wgpu::util::DeviceExt;

use super::context::Context;
use super::cost::{Cost, PlanCost};
use super::fused;
use super::kernels::{grid, grid_for_elements, Kernel, Pipelines, DEPTHWISE_PIXELS, OC4_PIXELS};
use super::record::{
    bytes_of_shape, u32_of, Binding, Io, KernelSet, Layout, Pending, Pool, RecordOptions, Recorder, Uniforms,
    WeightPlane,
};
use super::uniforms::{ConvParams, EltParams, NormParams, PoolParams, UpsampleParams};
use super::weights::{conv_kernel, ConvBuffers};
use crate::error::{Error, Result};
use crate::graph::{Conv2d, Graph, Op, PadMode, Padding, Shape, INPUT_VALUE, MAX_VALUES_PER_TENSOR};

pub(crate) enum Step {
    Copy {
        src: usize,
        dst: usize,
        bytes: u64,
    },
    /// `node` names what it runs, for per-dispatch timings.
    Dispatch {
        kernel: Kernel,
        bind_group: wgpu::BindGroup,
        grid: (u32, u32),
        // Read by `GpuExecutor::profile`, which timestamp queries make native-only.
        #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
        node: String,
    },
}

/// What plans bind but do not own: the uploaded conv weights (by node) and style parameters.
pub(crate) struct Resources<'a> {
    pub(crate) convs: &'a [Option<ConvBuffers>],
    pub(crate) style: &'a wgpu::Buffer,
}

pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    pub(crate) buffers: Vec<wgpu::Buffer>,
    pub(crate) input: usize,
    pub(crate) output: usize,
    /// What the output buffer holds: a tensor of this shape, or (for `Io::Rgba8`) RGBA8 words.
    pub(crate) output_shape: Shape,
    pub(crate) output_bytes: u64,
    pub(crate) staging: wgpu::Buffer,
    /// A weighted plan's norm weights, one plane per resolution, written before each run into `scratch[weights_at]`.
    pub(crate) weight_planes: Vec<WeightPlane>,
    weights_at: usize,
    /// Kept alive for the bind groups.
    _uniforms: wgpu::Buffer,
    scratch: Vec<wgpu::Buffer>,
    /// Bumped on each use; the least recently used plan is dropped first.
    pub(crate) last_used: u64,
}

fn elementwise(
    node: &str,
    count: u64,
    read_tensors: u64,
    grid: (u32, u32),
    kernel: Kernel,
    bindings: Vec<Binding>,
) -> Pending {
    let cost = Cost { read: read_tensors * count * 4, written: count * 4, flops: count, whole_tensor: true };
    Pending::Dispatch { kernel, bindings, grid, node: node.to_string(), cost }
}

impl Plan {
    /// The whole graph at `height x width` (the network's padded size), as `opts` and `io` say.
    pub(crate) fn build(
        ctx: &Context,
        pipelines: &mut Pipelines,
        res: &Resources,
        graph: &Graph,
        (height, width): (usize, usize),
        opts: &RecordOptions,
        io: Io,
    ) -> Result<Plan> {
        Plan::realise(record(graph, height, width, opts, io)?, ctx, pipelines, res)
    }

    /// One conv node of `graph` on an input tile that is already padded (by the caller, with the image's own
    /// padding or its neighbours' pixels): zero padding on every side, so the output is the valid convolution.
    pub(crate) fn conv_tile(
        ctx: &Context,
        pipelines: &mut Pipelines,
        res: &Resources,
        conv: &Conv2d,
        node: usize,
        input: Shape,
        opts: &RecordOptions,
    ) -> Result<Plan> {
        let out = conv_tile_shape(conv, input)?;
        let mut rec = Recorder::new(opts);
        let source = rec.pool.take(bytes_of_shape(input));
        let dst = rec.pool.take(bytes_of_shape(out));
        let step = ConvStep { conv, node, pad: Padding::default(), pad_mode: PadMode::Zero, input, out, source, dst };
        let pending = conv_dispatch(&step, &format!("conv node {node}"), opts, &mut rec.uniforms)?;
        rec.pending.push(pending);
        Plan::realise(rec.finish((source, input), dst, out, Io::Planar), ctx, pipelines, res)
    }

    /// Allocates and binds what `layout` records, on `ctx`'s device.
    fn realise(layout: Layout, ctx: &Context, pipelines: &mut Pipelines, res: &Resources) -> Result<Plan> {
        let Layout { rec, input, output, output_shape, output_bytes, .. } = layout;
        let Recorder {
            pool,
            pending,
            uniforms,
            stats_bytes,
            partials_bytes,
            affine_bytes,
            weight_planes,
            weights_in_affine,
            weights_end,
            ..
        } = rec;
        // The baseline's weight planes have a buffer of their own; the fused plan's sit in the affine buffer.
        let weights_bytes = if weights_in_affine { 0 } else { weights_end };
        // Everything is sized: check against the device before allocating anything.
        let limit = ctx.max_buffer();
        let largest = pool
            .sizes
            .iter()
            .copied()
            .chain([stats_bytes, partials_bytes, affine_bytes, weights_bytes])
            .max()
            .unwrap_or(0);
        if largest > limit {
            return Err(Error::GpuBufferLimit { needed: largest, limit });
        }

        let device = &ctx.device;
        let storage = |label: &str, size: u64| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let buffers: Vec<wgpu::Buffer> = pool.sizes.iter().map(|&size| storage("activation", size)).collect();
        // Norm statistics (baseline), tile statistics, norm scales and shifts (and the fused plan's norm weights),
        // two placeholders, the baseline's norm weights.
        let scratch = vec![
            storage("norm statistics", stats_bytes),
            storage("tile statistics", partials_bytes),
            storage("norm scales and shifts", affine_bytes),
            storage("unused slot", 16),
            storage("unused slot", 16),
            storage("norm weights", weights_bytes),
        ];
        let weights_at = if weights_in_affine { 2 } else { 5 };
        let uniform_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dispatch parameters"),
            contents: &uniforms.into_bytes(),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: output_bytes.next_multiple_of(4).max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut steps = Vec::with_capacity(pending.len());
        for step in pending {
            steps.push(match step {
                Pending::Copy { src, dst, bytes } => Step::Copy { src, dst, bytes },
                Pending::Dispatch { kernel, bindings, grid, node, .. } => {
                    let entries: Vec<wgpu::BindGroupEntry> = bindings
                        .iter()
                        .enumerate()
                        .filter(|(_, binding)| !matches!(binding, Binding::Absent))
                        .map(|(slot, binding)| {
                            let conv = |node: usize| {
                                res.convs
                                    .get(node)
                                    .and_then(Option::as_ref)
                                    .ok_or_else(|| Error::internal("a conv has no uploaded weights"))
                            };
                            let tiled = |node: usize| {
                                conv(node)?
                                    .tiled
                                    .as_ref()
                                    .ok_or_else(|| Error::internal("a conv has no weights for the tiled kernel"))
                            };
                            let resource = match *binding {
                                Binding::Uniform(offset, size) => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                    buffer: &uniform_buffer,
                                    offset,
                                    size: NonZeroU64::new(size),
                                }),
                                Binding::Activation(b) => buffers[b].as_entire_binding(),
                                Binding::Weights(node) => conv(node)?.weights.as_entire_binding(),
                                Binding::ScaleBias(node) => conv(node)?.scale_bias.as_entire_binding(),
                                Binding::TiledWeights(node) => tiled(node)?.weights.as_entire_binding(),
                                Binding::TiledScaleBias(node) => tiled(node)?.scale_bias.as_entire_binding(),
                                Binding::Stats => scratch[0].as_entire_binding(),
                                Binding::Partials => scratch[1].as_entire_binding(),
                                Binding::Affine => scratch[2].as_entire_binding(),
                                Binding::Unused(i) => scratch[3 + i.min(1)].as_entire_binding(),
                                Binding::NormWeights(n) => {
                                    let plane = weight_planes
                                        .get(n)
                                        .ok_or_else(|| Error::internal("a norm reads a weight plane never laid out"))?;
                                    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                        buffer: &scratch[5],
                                        offset: plane.offset,
                                        size: NonZeroU64::new(plane.bytes()),
                                    })
                                }
                                Binding::Absent => return Err(Error::internal("an absent binding was bound")),
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
                    Step::Dispatch { kernel, bind_group, grid, node }
                }
            });
        }
        Ok(Plan {
            steps,
            buffers,
            input,
            output,
            output_shape,
            output_bytes,
            staging,
            weight_planes,
            weights_at,
            _uniforms: uniform_buffer,
            scratch,
            last_used: 0,
        })
    }

    /// The buffer a weighted plan's weight planes are written into, each at its offset.
    pub(crate) fn weights_buffer(&self) -> &wgpu::Buffer {
        &self.scratch[self.weights_at]
    }
}

/// The steps of a whole-graph plan: the fused recorder's where `opts` asks for it and the graph allows it, else the
/// baseline's. An RGBA8 plan needs the fused recorder.
pub(crate) fn record(graph: &Graph, height: usize, width: usize, opts: &RecordOptions, io: Io) -> Result<Layout> {
    if opts.kernels == KernelSet::Fused && fused::unsupported(graph).is_none() {
        return fused::record(graph, height, width, opts, io);
    }
    if io != Io::Planar {
        return Err(Error::internal("only the fused plan takes RGBA8 pixels"));
    }
    record_baseline(graph, height, width, opts)
}

/// The cost of the whole-graph plan `record` makes, without a device.
pub(crate) fn cost(graph: &Graph, height: usize, width: usize, opts: &RecordOptions, io: Io) -> Result<PlanCost> {
    Ok(record(graph, height, width, opts, io)?.cost(width, height))
}

fn record_baseline(graph: &Graph, height: usize, width: usize, opts: &RecordOptions) -> Result<Layout> {
    let shapes = graph
        .infer_shapes(height, width)?
        .ok_or_else(|| Error::internal(format!("a {width}x{height} input is too small for this network")))?;
    let last_uses = graph.last_uses();
    let max_groups = opts.max_groups;
    let mut rec = Recorder::new(opts);
    // A weighted plan's planes, one per resolution a norm runs at: per node, the plane its statistics read.
    let mut planes = vec![None; graph.nodes().len()];
    if opts.weighted {
        for (index, node) in graph.nodes().iter().enumerate() {
            if let Op::InstanceNorm(_) = node.op {
                let out = shapes[node.output];
                planes[index] = Some(rec.weight_plane(out.height, out.width).0);
            }
        }
    }
    let Recorder { pool, uniforms, pending, .. } = &mut rec;
    let mut stats_len = 1usize;
    let mut value_buffer = vec![usize::MAX; graph.value_count()];

    value_buffer[INPUT_VALUE] = pool.take(bytes_of_shape(shapes[INPUT_VALUE]));
    for (index, node) in graph.nodes().iter().enumerate() {
        let x = node.inputs[0];
        let (input, out) = (shapes[x], shapes[node.output]);
        let count = u32_of(out.len(), "an activation's length")?;
        let elements = u64::from(count);
        let missing = || Error::internal(format!("{} reads a value that is not there", node.name));
        let source = *value_buffer.get(x).filter(|&&b| b != usize::MAX).ok_or_else(missing)?;
        let name = node.name.as_str();
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
                pending.push(conv_dispatch(&step, name, opts, uniforms)?);
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
                let grid = grid_for_elements(elements, max_groups)?;
                pending.push(elementwise(name, elements, 1, grid, Kernel::Upsample, bindings));
                dst
            }
            Op::InstanceNorm(norm) => {
                let dst = in_place(pool, pending, true);
                stats_len = stats_len.max(2 * out.channels);
                let params = NormParams {
                    channels: u32_of(out.channels, "channels")?,
                    plane: u32_of(out.plane(), "plane size")?,
                    params_offset: u32_of(norm.params_offset, "style parameter offset")?,
                    eps: norm.eps,
                };
                let at = uniforms.push(&params);
                let mut stats_bindings = vec![at, Binding::Activation(dst), Binding::Stats];
                let stats_grid = grid(out.channels as u64, max_groups)?;
                // Two walks over the plane (the mean, then the centred squares), one workgroup per channel.
                let mut cost = Cost {
                    read: 2 * elements * 4,
                    written: 8 * out.channels as u64,
                    flops: 3 * elements,
                    whole_tensor: true,
                };
                let mut kernel = Kernel::NormStats;
                if let Some(plane) = planes[index] {
                    // Each walk reads the plane's weights beside it and weighs every value (and the total).
                    stats_bindings.extend([Binding::Absent, Binding::NormWeights(plane)]);
                    cost.read *= 2;
                    cost.flops = 6 * elements;
                    kernel = Kernel::NormStatsWeighted;
                }
                pending.push(Pending::Dispatch {
                    kernel,
                    bindings: stats_bindings,
                    grid: stats_grid,
                    node: name.to_string(),
                    cost,
                });
                let bindings = vec![at, Binding::Activation(dst), Binding::Stats, Binding::Style];
                let grid = grid_for_elements(elements, max_groups)?;
                pending.push(elementwise(name, elements, 1, grid, Kernel::NormApply, bindings));
                dst
            }
            Op::Relu | Op::Sigmoid | Op::Clip { .. } => {
                let dst = in_place(pool, pending, true);
                let (kernel, params) = match node.op {
                    Op::Relu => (Kernel::Relu, EltParams { count, ..EltParams::default() }),
                    Op::Clip { min, max } => (Kernel::Clip, EltParams { count, min, max, ..EltParams::default() }),
                    Op::Sigmoid => (Kernel::Sigmoid, EltParams { count, ..EltParams::default() }),
                    Op::Conv2d(_)
                    | Op::InstanceNorm(_)
                    | Op::Add
                    | Op::UpsampleNearest { .. }
                    | Op::GlobalAvgPool
                    | Op::ChannelAffine { .. } => {
                        return Err(Error::internal(format!("{name}: planned as an activation")));
                    }
                };
                let bindings = vec![uniforms.push(&params), Binding::Activation(dst)];
                let grid = grid_for_elements(elements, max_groups)?;
                pending.push(elementwise(name, elements, 1, grid, kernel, bindings));
                dst
            }
            Op::ChannelAffine { channels, params_offset } => {
                // The kernel reads scale and shift unchecked: keep them inside the parameters.
                if params_offset.checked_add(2 * channels).is_none_or(|end| end > graph.style_params_len()) {
                    return Err(Error::internal(format!("{} reads style parameters past their end", node.name)));
                }
                let dst = in_place(pool, pending, true);
                let params = EltParams {
                    count,
                    plane: u32_of(out.plane(), "plane size")?,
                    channels: u32_of(*channels, "channels")?,
                    params_offset: u32_of(*params_offset, "style parameter offset")?,
                    ..EltParams::default()
                };
                let bindings = vec![uniforms.push(&params), Binding::Activation(dst), Binding::Style];
                let grid = grid_for_elements(elements, max_groups)?;
                pending.push(elementwise(name, elements, 1, grid, Kernel::ChannelAffine, bindings));
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
                let read = input.len() as u64;
                let cost = Cost { read: read * 4, written: elements * 4, flops: read, whole_tensor: true };
                let kernel = Kernel::GlobalAvgPool;
                pending.push(Pending::Dispatch { kernel, bindings, grid, node: name.to_string(), cost });
                dst
            }
            Op::Add => {
                let y = node.inputs[1];
                let other = *value_buffer.get(y).filter(|&&b| b != usize::MAX).ok_or_else(missing)?;
                // `x + x` cannot bind one buffer as both operands' roles, so it works on a copy.
                let dst = in_place(pool, pending, y != x);
                let bindings = vec![
                    uniforms.push(&EltParams { count, ..EltParams::default() }),
                    Binding::Activation(dst),
                    Binding::Activation(other),
                ];
                let grid = grid_for_elements(elements, max_groups)?;
                pending.push(elementwise(name, elements, 2, grid, Kernel::Add, bindings));
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
    rec.stats_bytes = stats_len as u64 * 4;
    let input = (value_buffer[INPUT_VALUE], shapes[INPUT_VALUE]);
    Ok(rec.finish(input, output, shapes[graph.output()], Io::Planar))
}

/// The output of `conv` on an already padded input tile, or why the tile cannot be convolved.
pub(crate) fn conv_tile_shape(conv: &Conv2d, input: Shape) -> Result<Shape> {
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

fn conv_dispatch(step: &ConvStep, name: &str, opts: &RecordOptions, uniforms: &mut Uniforms) -> Result<Pending> {
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
    let kernel = conv_kernel(conv, opts.kernels == KernelSet::Plain);
    let taps = (w.kernel_h * w.kernel_w) as u64;
    let ins = w.in_per_group as u64;
    // Invocations: one per 4 pixels of a row for 4 channels, per 8 pixels of a row for one channel, or per value.
    // Reads: the kernels load straight from global memory, taps of neighbouring invocations overlapping in cache,
    // so each pass over the input counts once: `conv2d_oc4` makes one per quad of output channels, `conv2d` one per
    // output channel, `conv2d_depthwise` one in all; weights once per invocation.
    let input_bytes = bytes_of_shape(input) / conv.groups.max(1) as u64;
    let (work, passes, weights_per_invocation) = match kernel {
        Kernel::Conv2dOc4 => {
            let work = out.channels / 4 * out.height * out.width.div_ceil(OC4_PIXELS as usize);
            (work as u64, out.channels as u64 / 4, ins * taps * 4)
        }
        Kernel::Conv2dDepthwise => {
            let work = out.channels * out.height * out.width.div_ceil(DEPTHWISE_PIXELS as usize);
            (work as u64, conv.groups.max(1) as u64, ins * taps * 4)
        }
        _ => (out.len() as u64, out.channels as u64, ins * taps * 4),
    };
    let bindings = vec![
        uniforms.push(&params),
        Binding::Activation(source),
        Binding::Activation(dst),
        Binding::Weights(node),
        Binding::ScaleBias(node),
    ];
    let cost = Cost {
        read: passes * input_bytes + work * weights_per_invocation,
        written: out.len() as u64 * 4,
        flops: 2 * out.len() as u64 * ins * taps,
        whole_tensor: true,
    };
    let grid = grid_for_elements(work, opts.max_groups)?;
    Ok(Pending::Dispatch { kernel, bindings, grid, node: name.to_string(), cost })
}
