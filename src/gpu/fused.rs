//! The fused plan: activations in channel quads, one `conv_tiled` dispatch per conv and one `norm_finish` per
//! norm, and nothing else but the photo's unpacking and the output's emission.
//!
//! What no conv needs a pass of its own for is carried as pending work on the value: a norm's scale and shift, a
//! ReLU, a residual add, nearest upsampling. The next conv does it as it loads its input window (`tiled.wgsl`), the
//! output pass as it reads. A value with pending work that something other than a conv reads as stored (the
//! residual operand of an add) is written out by the first conv that loads it; a conv that feeds a norm writes the
//! norm's per-tile statistics in its epilogue.
//!
//! `unsupported` is the explicit predicate: a graph with any other op, or these ops in another arrangement, runs on
//! the baseline plan.

use super::cost::Cost;
use super::kernels::{grid, grid_for_elements, ConvTile, Kernel, PixelFormat, Precision};
use super::record::{u32_of, Binding, Io, Layout, Pending, RecordOptions, Recorder};
use super::uniforms::{FinishParams, PixelParams, TiledConvParams};
use super::weights::{tiled_out_channels, tiled_shape};
use crate::error::{Error, Result};
use crate::graph::{Conv2d, Graph, Op, PadMode, Shape, ValueId, INPUT_VALUE};

/// What the output pass applies last.
#[derive(Clone, Copy, PartialEq)]
enum Activation {
    None,
    Sigmoid,
    Clip(f32, f32),
}

/// How each node is carried out, decided from the graph alone.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// `stats`: a norm reads its output. `materialise`: it writes its input value out as stored, for an add.
    Conv {
        tile: ConvTile,
        stats: bool,
        materialise: bool,
    },
    Norm,
    /// ReLU, add and upsampling: pending work on a value.
    Pending,
    /// The final activation, applied by the output pass.
    Output(Activation),
}

/// Pending work on a value, as far as the roles go.
#[derive(Clone, Copy)]
struct Flags {
    affine: bool,
    relu: bool,
    residual: bool,
    /// The nearest upsampling factor pending (1: none).
    upsample: usize,
    /// Stored as a conv wrote it, with nothing pending.
    from_conv: bool,
}

impl Flags {
    const STORED: Flags = Flags { affine: false, relu: false, residual: false, upsample: 1, from_conv: false };

    fn pending(self) -> bool {
        self.affine || self.relu || self.residual || self.upsample != 1
    }
}

/// Why the fused plan cannot take `graph`, or `None` when it can.
pub(crate) fn unsupported(graph: &Graph) -> Option<String> {
    roles(graph).err()
}

/// Whether the fused plan takes `graph` with RGBA8 pixels in and out: an RGB photo in, an RGB image out.
pub(crate) fn takes_pixels(graph: &Graph) -> bool {
    unsupported(graph).is_none() && graph.input_channels() == 3
}

/// The conv shapes the fused plan runs `graph` with (none where it cannot run it).
pub(crate) fn tiles_used(graph: &Graph) -> Vec<ConvTile> {
    let mut tiles = Vec::new();
    for role in roles(graph).unwrap_or_default() {
        if let Role::Conv { tile, .. } = role {
            if !tiles.contains(&tile) {
                tiles.push(tile);
            }
        }
    }
    tiles
}

fn roles(graph: &Graph) -> std::result::Result<Vec<Role>, String> {
    let nodes = graph.nodes();
    let mut flags = vec![Flags::STORED; graph.value_count()];
    let mut roles = Vec::with_capacity(nodes.len());
    let producer = |value: ValueId| nodes.iter().position(|n| n.output == value);
    let is_norm_output = |value: ValueId| producer(value).is_some_and(|i| matches!(nodes[i].op, Op::InstanceNorm(_)));
    // Values an add takes as stored: its operand beside a norm's output.
    let mut read_stored = vec![false; graph.value_count()];
    for node in nodes {
        if let (Op::Add, [a, b]) = (&node.op, node.inputs.as_slice()) {
            if is_norm_output(*b) && !is_norm_output(*a) {
                read_stored[*a] = true;
            } else if is_norm_output(*a) && !is_norm_output(*b) {
                read_stored[*b] = true;
            }
        }
    }
    let channels = graph.input_channels();
    if channels == 0 || channels > 4 {
        return Err(format!("the input has {channels} channels; the fused plan unpacks 1 to 4"));
    }
    for (index, node) in nodes.iter().enumerate() {
        let x = node.inputs[0];
        let input = flags[x];
        // The emit kernel applies the activation as it writes the output, so only the graph's last op can be one.
        let last_activation = |activation: Activation| {
            if node.output != graph.output() || index + 1 != nodes.len() {
                return Err(format!("{}: an activation other than the graph's last", node.name));
            }
            Ok(activation)
        };
        let (role, out) = match &node.op {
            Op::Conv2d(conv) => {
                let tile = tiled_shape(conv, input.upsample)
                    .ok_or_else(|| format!("{}: no tiled conv shape fits it", node.name))?;
                let stats = nodes.iter().any(|n| matches!(n.op, Op::InstanceNorm(_)) && n.inputs[0] == node.output);
                let materialise = read_stored[x] && input.pending();
                if materialise {
                    if !same_size(conv) {
                        return Err(format!("{}: its input is used again but it cannot write it out", node.name));
                    }
                    flags[x] = Flags::STORED;
                }
                (Role::Conv { tile, stats, materialise }, Flags { from_conv: true, ..Flags::STORED })
            }
            Op::InstanceNorm(_) => {
                if !input.from_conv || input.pending() {
                    return Err(format!("{}: a norm must read a conv's output", node.name));
                }
                (Role::Norm, Flags { affine: true, ..Flags::STORED })
            }
            Op::Relu => {
                if input.residual || input.upsample != 1 {
                    return Err(format!("{}: a ReLU after an add or upsampling", node.name));
                }
                (Role::Pending, Flags { relu: true, from_conv: false, ..input })
            }
            Op::Add => {
                let (a, b) = (x, node.inputs[1]);
                if a == b {
                    return Err(format!("{}: adds a value to itself", node.name));
                }
                let (lazy, stored) = if flags[b].pending() { (flags[b], flags[a]) } else { (flags[a], flags[b]) };
                if stored.pending() || lazy.residual || lazy.upsample != 1 {
                    return Err(format!("{}: an add whose operands both have work pending", node.name));
                }
                (Role::Pending, Flags { residual: true, from_conv: false, ..lazy })
            }
            Op::UpsampleNearest { factor } => {
                if input.upsample != 1 || *factor == 0 {
                    return Err(format!("{}: upsampling twice in a row", node.name));
                }
                (Role::Pending, Flags { upsample: *factor, from_conv: false, ..input })
            }
            Op::Sigmoid => (Role::Output(last_activation(Activation::Sigmoid)?), input),
            Op::Clip { min, max } => (Role::Output(last_activation(Activation::Clip(*min, *max))?), input),
            Op::ChannelAffine { .. } | Op::GlobalAvgPool => {
                return Err(format!("{}: the fused plan has no {} kernel", node.name, node.op.kind()));
            }
        };
        flags[node.output] = out;
        roles.push(role);
    }
    Ok(roles)
}

/// A stride-1 conv whose output has its input's size: its tiles' windows cover the input exactly once inside.
fn same_size(conv: &Conv2d) -> bool {
    let w = &conv.weights;
    conv.stride == 1
        && conv.pad.top + conv.pad.bottom + 1 == w.kernel_h
        && conv.pad.left + conv.pad.right + 1 == w.kernel_w
}

/// A value as the fused plan holds it: a stored tensor and the work still pending on it.
#[derive(Clone, Copy, Debug)]
struct Value {
    buffer: usize,
    /// The stored tensor's shape (before upsampling).
    stored: Shape,
    /// Where its norm's scale and shift quads start in the affine buffer.
    affine: Option<u32>,
    relu: bool,
    residual: Option<usize>,
    upsample: u32,
}

impl Value {
    fn stored(buffer: usize, shape: Shape) -> Value {
        Value { buffer, stored: shape, affine: None, relu: false, residual: None, upsample: 1 }
    }

    fn pending(&self) -> bool {
        self.affine.is_some() || self.relu || self.residual.is_some() || self.upsample != 1
    }

    fn buffers(&self) -> impl Iterator<Item = usize> {
        std::iter::once(self.buffer).chain(self.residual)
    }

    /// Bytes of stored values read per value loaded: the tensor, and the residual beside it.
    fn loaded_bytes(&self, precision: Precision) -> u64 {
        precision.quad_bytes() * (1 + u64::from(self.residual.is_some()))
    }
}

fn quads(channels: usize) -> usize {
    channels.div_ceil(4)
}

fn quad_tensor_bytes(shape: Shape, precision: Precision) -> u64 {
    (quads(shape.channels) * shape.plane()) as u64 * precision.quad_bytes()
}

pub(crate) fn record(graph: &Graph, height: usize, width: usize, opts: &RecordOptions, io: Io) -> Result<Layout> {
    let roles =
        roles(graph).map_err(|reason| Error::internal(format!("the fused plan cannot run this graph: {reason}")))?;
    let shapes = graph
        .infer_shapes(height, width)?
        .ok_or_else(|| Error::internal(format!("a {width}x{height} input is too small for this network")))?;
    let precision = opts.precision;
    let last_uses = graph.last_uses();
    let mut rec = Recorder::new(opts);
    let mut values: Vec<Option<Value>> = vec![None; graph.value_count()];
    let mut conv_tiles = vec![0u32; graph.value_count()];
    let mut activation = Activation::None;
    let mut affine_quads = 0u32;
    let mut partials_bytes = 16u64;
    // A weighted plan's norm weights sit in the affine buffer after every norm's scale and shift quads, where the
    // convs that take the norms' statistics read them.
    if opts.weighted {
        let norm_quads: usize = graph
            .nodes()
            .iter()
            .filter(|node| matches!(node.op, Op::InstanceNorm(_)))
            .map(|node| quads(shapes[node.output].channels))
            .sum();
        rec.place_weights(true, norm_quads.max(1) as u64 * 32, 16);
    }

    // The photo, unpacked into quads at the network's size.
    let input_shape = shapes[INPUT_VALUE];
    let plane = input_shape.plane() as u64;
    let photo = match io {
        Io::Planar => rec.pool.take(input_shape.len() as u64 * 4),
        Io::Rgba8 { width: w, height: h } => {
            if w == 0 || h == 0 || w > width || h > height || input_shape.channels != 3 {
                return Err(Error::internal(format!("a {w}x{h} photo does not fit a {width}x{height} plan")));
            }
            rec.pool.take((w * h) as u64 * 4)
        }
    };
    let unpacked = rec.pool.take(quad_tensor_bytes(input_shape, precision));
    let (format, photo_w, photo_h, read) = match io {
        Io::Planar => (PixelFormat::Planar, width, height, input_shape.len() as u64 * 4),
        Io::Rgba8 { width: w, height: h } => (PixelFormat::Rgba8, w, h, plane * 4),
    };
    let params = PixelParams {
        quads: u32_of(quads(input_shape.channels), "channels")?,
        height: u32_of(height, "height")?,
        width: u32_of(width, "width")?,
        channels: u32_of(input_shape.channels, "channels")?,
        photo_height: u32_of(photo_h, "height")?,
        photo_width: u32_of(photo_w, "width")?,
        ..PixelParams::default()
    };
    let count = quads(input_shape.channels) as u64 * plane;
    let written = quad_tensor_bytes(input_shape, precision);
    rec.pending.push(Pending::Dispatch {
        kernel: Kernel::Unpack(format, precision),
        bindings: vec![rec.uniforms.push(&params), Binding::Activation(photo), Binding::Activation(unpacked)],
        grid: grid_for_elements(count, opts.max_groups)?,
        node: "input".into(),
        cost: Cost { read, written, flops: 4 * count, whole_tensor: true },
    });
    values[INPUT_VALUE] = Some(Value::stored(unpacked, input_shape));

    for (index, (node, role)) in graph.nodes().iter().zip(&roles).enumerate() {
        let x = node.inputs[0];
        let missing = || Error::internal(format!("{} reads a value that is not there", node.name));
        let input = values.get(x).copied().flatten().ok_or_else(missing)?;
        let output = match (*role, &node.op) {
            (Role::Conv { tile, stats, materialise }, Op::Conv2d(conv)) => {
                let (in_shape, out) = (shapes[x], shapes[node.output]);
                let dst = rec.pool.take(quad_tensor_bytes(out, precision));
                let stored = if materialise && input.pending() {
                    Some(rec.pool.take(quad_tensor_bytes(in_shape, precision)))
                } else {
                    None
                };
                let weights = (stats && opts.weighted).then(|| rec.weight_plane(out.height, out.width).1);
                let step = TiledStep {
                    conv,
                    node: index,
                    tile,
                    stats,
                    weights,
                    input,
                    in_shape,
                    out,
                    dst,
                    materialised: stored,
                };
                let (pending, tiles, partials) = tiled_dispatch(&step, &node.name, &mut rec)?;
                rec.pending.push(pending);
                partials_bytes = partials_bytes.max(partials);
                conv_tiles[node.output] = tiles;
                if let Some(buffer) = stored {
                    values[x] = Some(Value::stored(buffer, in_shape));
                }
                Value::stored(dst, out)
            }
            (Role::Norm, Op::InstanceNorm(norm)) => {
                let out = shapes[node.output];
                let quad_count = u32_of(quads(out.channels), "channels")?;
                let base = 2 * affine_quads;
                affine_quads += quad_count;
                let params = FinishParams {
                    channels: u32_of(out.channels, "channels")?,
                    quads: quad_count,
                    tiles: conv_tiles[x],
                    params_offset: u32_of(norm.params_offset, "style parameter offset")?,
                    affine_base: base,
                    eps: norm.eps,
                    ..FinishParams::default()
                };
                let tiles = u64::from(conv_tiles[x]);
                let cost = Cost {
                    read: out.channels as u64 * (tiles * 16 + 8),
                    written: u64::from(quad_count) * 32,
                    flops: out.channels as u64 * tiles * 8,
                    whole_tensor: false,
                };
                rec.pending.push(Pending::Dispatch {
                    kernel: Kernel::NormFinish,
                    bindings: vec![rec.uniforms.push(&params), Binding::Partials, Binding::Style, Binding::Affine],
                    grid: grid(u64::from(quad_count) * 4, opts.max_groups)?,
                    node: node.name.clone(),
                    cost,
                });
                Value { affine: Some(base), ..input }
            }
            (Role::Pending, Op::Relu) => Value { relu: true, ..input },
            (Role::Pending, Op::Add) => {
                let other = values.get(node.inputs[1]).copied().flatten().ok_or_else(missing)?;
                let (lazy, stored) = if other.pending() { (other, input) } else { (input, other) };
                if stored.pending() || lazy.residual.is_some() || stored.stored != lazy.stored {
                    return Err(Error::internal(format!("{}: operands the fused plan cannot add", node.name)));
                }
                Value { residual: Some(stored.buffer), ..lazy }
            }
            (Role::Pending, Op::UpsampleNearest { factor }) => {
                Value { upsample: input.upsample * u32_of(*factor, "upsampling factor")?, ..input }
            }
            (Role::Output(a), Op::Sigmoid | Op::Clip { .. }) => {
                activation = a;
                input
            }
            _ => return Err(Error::internal(format!("{}: recorded in a role it does not have", node.name))),
        };
        values[node.output] = Some(output);
        // Buffers no value still to be read refers to go back to the pool (the photo's own after unpacking: it is
        // written again before each run).
        let live = |buffer: usize| {
            values.iter().enumerate().any(|(id, v)| {
                v.is_some_and(|v| v.buffers().any(|b| b == buffer)) && (last_uses[id] > index || id == graph.output())
            })
        };
        for buffer in 0..rec.pool.sizes.len() {
            if !rec.pool.free.contains(&buffer) && !live(buffer) {
                rec.pool.free.push(buffer);
            }
        }
    }

    // The output pass.
    let value = values.get(graph.output()).copied().flatten().ok_or_else(|| Error::internal("no graph output"))?;
    let out = shapes[graph.output()];
    let (format, target_bytes, count) = match io {
        Io::Planar => (PixelFormat::Planar, out.len() as u64 * 4, (quads(out.channels) * out.plane()) as u64),
        Io::Rgba8 { width: w, height: h } => {
            if out.channels != 3 || out.height != height || out.width != width {
                return Err(Error::internal(format!("an output of {out:?} is not an RGB image of the photo's size")));
            }
            (PixelFormat::Rgba8, (w * h) as u64 * 4, (w * h) as u64)
        }
    };
    let target = rec.pool.take(target_bytes);
    let (low, high, code) = match activation {
        Activation::None => (0.0, 0.0, 0),
        Activation::Sigmoid => (0.0, 0.0, 1),
        Activation::Clip(low, high) => (low, high, 2),
    };
    let params = PixelParams {
        quads: u32_of(quads(out.channels), "channels")?,
        height: u32_of(out.height, "height")?,
        width: u32_of(out.width, "width")?,
        channels: u32_of(out.channels, "channels")?,
        photo_height: u32_of(photo_h, "height")?,
        photo_width: u32_of(photo_w, "width")?,
        affine_base: value.affine.unwrap_or(0),
        affine_on: u32::from(value.affine.is_some()),
        relu: u32::from(value.relu),
        residual_on: u32::from(value.residual.is_some()),
        upsample: value.upsample,
        activation: code,
        low,
        high,
        src_height: u32_of(value.stored.height, "height")?,
        src_width: u32_of(value.stored.width, "width")?,
    };
    let bindings = vec![
        rec.uniforms.push(&params),
        Binding::Activation(value.buffer),
        Binding::Activation(value.residual.unwrap_or(value.buffer)),
        Binding::Affine,
        Binding::Activation(target),
    ];
    rec.pending.push(Pending::Dispatch {
        kernel: Kernel::Emit(format, precision),
        bindings,
        grid: grid_for_elements(count, opts.max_groups)?,
        node: "output".into(),
        cost: Cost {
            read: count * value.loaded_bytes(precision),
            written: target_bytes,
            flops: 8 * count,
            whole_tensor: true,
        },
    });
    rec.partials_bytes = partials_bytes;
    rec.affine_bytes = (u64::from(affine_quads.max(1)) * 32).max(rec.weights_end);
    Ok(rec.finish((photo, input_shape), target, out, io))
}

/// One tiled conv: the conv and its node, its shape, whether a norm reads its statistics, the value it loads
/// (with its pending work) at the conv's input size, and where it writes.
struct TiledStep<'a> {
    conv: &'a Conv2d,
    node: usize,
    tile: ConvTile,
    stats: bool,
    /// Where the statistics' weight plane starts in the affine buffer (bytes), for a weighted norm.
    weights: Option<u64>,
    input: Value,
    in_shape: Shape,
    out: Shape,
    dst: usize,
    materialised: Option<usize>,
}

/// The dispatch, its tile count and the bytes of tile statistics it writes.
fn tiled_dispatch(step: &TiledStep, name: &str, rec: &mut Recorder) -> Result<(Pending, u32, u64)> {
    let TiledStep { conv, node, tile, stats, weights, input, in_shape, out, dst, materialised } = *step;
    let w = &conv.weights;
    let (tile_w, tile_h) = tile.pixels();
    let tiles_x = out.width.div_ceil(tile_w as usize);
    let tiles = tiles_x * out.height.div_ceil(tile_h as usize);
    let out_padded = tiled_out_channels(conv);
    let oc_blocks = out.channels.div_ceil(tile.out_channels() as usize);
    let precision = rec.precision;
    let params = TiledConvParams {
        in_quads: u32_of(quads(in_shape.channels), "channels")?,
        in_height: u32_of(in_shape.height, "height")?,
        in_width: u32_of(in_shape.width, "width")?,
        upsample: input.upsample,
        src_height: u32_of(input.stored.height, "height")?,
        src_width: u32_of(input.stored.width, "width")?,
        affine_base: input.affine.unwrap_or(0),
        affine_on: u32::from(input.affine.is_some()),
        relu: u32::from(input.relu),
        residual_on: u32::from(input.residual.is_some()),
        materialise: u32::from(materialised.is_some()),
        reflect: u32::from(conv.pad_mode == PadMode::Reflect),
        out_channels: u32_of(out.channels, "channels")?,
        out_height: u32_of(out.height, "height")?,
        out_width: u32_of(out.width, "width")?,
        kernel_h: u32_of(w.kernel_h, "kernel height")?,
        kernel_w: u32_of(w.kernel_w, "kernel width")?,
        stride: u32_of(conv.stride, "stride")?,
        pad_top: u32_of(conv.pad.top, "padding")?,
        pad_left: u32_of(conv.pad.left, "padding")?,
        has_bias: u32::from(w.bias.is_some()),
        stats_on: u32::from(stats),
        tiles_x: u32_of(tiles_x, "tiles")?,
        tiles: u32_of(tiles, "tiles")?,
        oc_blocks: u32_of(oc_blocks, "output channel blocks")?,
        bias_offset: u32_of(out_padded, "channels")?,
        weights_base: u32_of(weights.unwrap_or(0) as usize / 16, "weight plane offset")?,
        weights_on: u32::from(weights.is_some()),
    };
    let workgroups = (tiles * oc_blocks) as u64;
    let (window_w, window_h) = tile.window(params.kernel_h, params.kernel_w, params.stride);
    let in_quads = u64::from(params.in_quads);
    let taps = (w.kernel_h * w.kernel_w) as u64;
    let upsample = u64::from(input.upsample);
    let (source_w, source_h) = tile.source(params.kernel_h, params.kernel_w, params.stride, input.upsample);
    let partials = if stats { out.channels as u64 * tiles as u64 * 16 } else { 0 };
    // Per workgroup and input quad: the window (with the residual beside it; an upsampled input's stored pixels
    // once each), the norm's scale and shift, and the quad's weights for the block's channels; once: the output,
    // the stored input, the tile statistics.
    let window = if upsample > 1 {
        u64::from(source_w) * u64::from(source_h)
    } else {
        u64::from(window_w) * u64::from(window_h)
    };
    let affine = if input.affine.is_some() { 32 } else { 0 };
    // A weighted norm's statistics read the tile's weights once per workgroup.
    let tile_weights = if weights.is_some() { u64::from(tile_w) * u64::from(tile_h) * 4 } else { 0 };
    let read = workgroups
        * (in_quads * (window * input.loaded_bytes(precision) + affine + u64::from(tile.out_channels()) * taps * 4)
            + tile_weights);
    let written = (quads(out.channels) * out.plane()) as u64 * precision.quad_bytes()
        + materialised.map_or(0, |_| quad_tensor_bytes(in_shape, precision))
        + partials;
    let cost = Cost { read, written, flops: 2 * out.len() as u64 * w.in_per_group as u64 * taps, whole_tensor: true };
    let bindings = vec![
        rec.uniforms.push(&params),
        Binding::Activation(input.buffer),
        Binding::Activation(input.residual.unwrap_or(input.buffer)),
        Binding::Affine,
        Binding::Activation(dst),
        Binding::TiledWeights(node),
        Binding::TiledScaleBias(node),
        if stats { Binding::Partials } else { Binding::Unused(0) },
        materialised.map_or(Binding::Unused(1), Binding::Activation),
    ];
    let pending = Pending::Dispatch {
        kernel: Kernel::ConvTiled(tile, precision),
        bindings,
        grid: grid(workgroups, rec.max_groups)?,
        node: name.to_string(),
        cost,
    };
    Ok((pending, params.tiles, partials))
}
