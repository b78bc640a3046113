//! The network as both executors see it: ops over numbered values, and shape inference.
//!
//! Nothing here knows a particular network. Each op's rules live with it in `impl Op`: how many inputs it reads
//! (`arity`), its output shape (`output_shape`) and how it maps pixels (`spatial`: stride, upsampling, reach), so
//! shape inference, the stride product images are padded to, and tile halos all follow from one place. The model
//! file lists the nodes; `model` turns them into this form and `Graph::new` checks them; the CPU and GPU executors
//! walk `Graph::nodes` in order.

use crate::error::{Error, Result};

/// Index of a value (an activation tensor) in a graph. Value 0 is the image input.
pub type ValueId = usize;

/// The graph's input image.
pub(crate) const INPUT_VALUE: ValueId = 0;

/// Channels x height x width of an activation. Vectors (style vectors, pooled features) are `h = w = 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Shape {
    pub fn new(channels: usize, height: usize, width: usize) -> Self {
        Shape { channels, height, width }
    }

    pub(crate) fn plane(&self) -> usize {
        self.height * self.width
    }

    pub fn len(&self) -> usize {
        self.channels * self.plane()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A planar (channel-major) f32 activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Shape,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn zeros(shape: Shape) -> Self {
        Tensor { shape, data: vec![0.0; shape.len()] }
    }

    pub fn from_vec(shape: Shape, data: Vec<f32>) -> Result<Self> {
        if data.len() != shape.len() {
            return Err(Error::internal(format!(
                "a {shape:?} tensor needs {} values, got {}",
                shape.len(),
                data.len()
            )));
        }
        Ok(Tensor { shape, data })
    }
}

/// How a convolution reads outside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PadMode {
    /// Mirror without repeating the edge (`dcb|abcd|cba`), as the style networks are trained.
    Reflect,
    Zero,
}

/// Weights of a 2-D convolution: int8, symmetric, one scale per output channel.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvWeights {
    pub out_channels: usize,
    /// Input channels each output channel sees: `in_channels / groups`.
    pub in_per_group: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    /// `[out][in_per_group][kh][kw]`, row-major.
    pub quantised: Vec<i8>,
    pub scales: Vec<f32>,
    pub bias: Option<Vec<f32>>,
}

impl ConvWeights {
    /// Taps per output channel.
    pub(crate) fn taps(&self) -> usize {
        self.in_per_group * self.kernel_h * self.kernel_w
    }

    /// The float weight the int8 value stands for.
    pub(crate) fn weight(&self, index: usize) -> f32 {
        self.quantised[index] as f32 * self.scales[index / self.taps()]
    }
}

/// Rows and columns a convolution reads beyond each edge (TF's "SAME" padding is one more at the bottom and right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Padding {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Padding {
    pub fn uniform(pad: usize) -> Self {
        Padding { top: pad, left: pad, bottom: pad, right: pad }
    }

    pub(crate) fn largest(&self) -> usize {
        self.top.max(self.left).max(self.bottom).max(self.right)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub weights: ConvWeights,
    pub stride: usize,
    pub pad: Padding,
    pub pad_mode: PadMode,
    pub groups: usize,
}

/// Where an instance norm's scale (gamma) and shift (beta) come from.
#[derive(Clone, Debug, PartialEq)]
pub enum NormAffine {
    /// One row per preset style, `[styles][channels]`; a style mix weights the rows.
    StyleTable { gamma: Vec<f32>, beta: Vec<f32> },
    /// A 1x1 convolution of the style vector each: `gamma = W_gamma v + b_gamma` (`[channels][vector length]`).
    FromVector { gamma: ConvWeights, beta: ConvWeights },
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstanceNorm {
    pub channels: usize,
    pub eps: f32,
    pub affine: NormAffine,
    /// Where this norm's gamma (then beta) start in a `StyleParams` buffer.
    pub params_offset: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Conv2d(Conv2d),
    InstanceNorm(InstanceNorm),
    Relu,
    /// `min(max(x, min), max)`; ReLU6 is `Clip { min: 0, max: 6 }`.
    Clip {
        min: f32,
        max: f32,
    },
    Sigmoid,
    Add,
    UpsampleNearest {
        factor: usize,
    },
    /// The mean of each channel plane: `[C, H, W] -> [C, 1, 1]`.
    GlobalAvgPool,
    /// `x * scale[c] + shift[c]`, with scale then shift at `params_offset` in the `StyleParams` buffer: an instance
    /// norm whose statistics are known in advance (tiles of one image share the whole image's statistics).
    ChannelAffine {
        channels: usize,
        params_offset: usize,
    },
}

/// How an op maps its input's pixels to its output's: the one place that says how each op changes resolution and
/// how far its outputs reach, so padding to the stride product and tile halos cannot miss an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Spatial {
    /// Each output pixel depends on the input pixel at the same place (elementwise ops, norms applied per pixel).
    Pointwise,
    /// A window of the input: output pixel `i` reads input pixels at most `reach` away from `i * stride`.
    Window { stride: usize, reach: usize },
    /// Nearest upsampling: each input pixel becomes `factor x factor` output pixels.
    Upsample { factor: usize },
    /// A whole-plane reduction: every output depends on every input pixel.
    Global,
}

/// How far a change to the input can travel to the output, in input pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    Pixels(usize),
    /// Through a whole-plane reduction: everywhere. Such a graph (the style predictor) cannot be tiled.
    Global,
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "conv2d",
            Op::InstanceNorm(_) => "instance_norm",
            Op::Relu => "relu",
            Op::Clip { .. } => "clip",
            Op::GlobalAvgPool => "global_avg_pool",
            Op::ChannelAffine { .. } => "channel_affine",
            Op::Sigmoid => "sigmoid",
            Op::Add => "add",
            Op::UpsampleNearest { .. } => "upsample_nearest",
        }
    }

    /// How many values the op reads.
    pub(crate) fn arity(&self) -> usize {
        match self {
            Op::Add => 2,
            Op::Conv2d(_)
            | Op::InstanceNorm(_)
            | Op::Relu
            | Op::Clip { .. }
            | Op::Sigmoid
            | Op::UpsampleNearest { .. }
            | Op::GlobalAvgPool
            | Op::ChannelAffine { .. } => 1,
        }
    }

    /// The span of the `StyleParams` buffer the op reads, as (offset, channels): a scale then a shift per channel.
    pub(crate) fn style_params(&self) -> Option<(usize, usize)> {
        match self {
            Op::InstanceNorm(InstanceNorm { channels, params_offset, .. })
            | Op::ChannelAffine { channels, params_offset } => Some((*params_offset, *channels)),
            Op::Conv2d(_)
            | Op::Relu
            | Op::Clip { .. }
            | Op::Sigmoid
            | Op::Add
            | Op::UpsampleNearest { .. }
            | Op::GlobalAvgPool => None,
        }
    }

    /// How the op maps pixels (see [`Spatial`]).
    pub(crate) fn spatial(&self) -> Spatial {
        match self {
            Op::Conv2d(conv) => {
                let (w, pad) = (&conv.weights, conv.pad);
                // Taps reach `pad` before the centre row and `kernel - 1 - pad` after it.
                let reach = [
                    pad.top,
                    w.kernel_h - 1 - pad.top.min(w.kernel_h - 1),
                    pad.left,
                    w.kernel_w - 1 - pad.left.min(w.kernel_w - 1),
                ]
                .into_iter()
                .max()
                .unwrap_or(0);
                Spatial::Window { stride: conv.stride, reach }
            }
            Op::UpsampleNearest { factor } => Spatial::Upsample { factor: *factor },
            Op::GlobalAvgPool => Spatial::Global,
            Op::InstanceNorm(_) | Op::Relu | Op::Clip { .. } | Op::Sigmoid | Op::Add | Op::ChannelAffine { .. } => {
                Spatial::Pointwise
            }
        }
    }

    /// The op's output shape for its inputs' shapes: `Ok(None)` when the input is too small for it, an error when
    /// the graph is inconsistent (`name` says which node).
    pub(crate) fn output_shape(&self, name: &str, inputs: &[Shape]) -> Result<Option<Shape>> {
        let input = inputs[0];
        let out = match self {
            Op::Conv2d(conv) => {
                let w = &conv.weights;
                if input.channels != w.in_per_group * conv.groups {
                    return Err(Error::graph(format!(
                        "{name} expects {} input channels but receives {}",
                        w.in_per_group * conv.groups,
                        input.channels
                    )));
                }
                // Reflect padding can mirror at most size-1 pixels; zero padding has no such bound.
                let p = conv.pad;
                if conv.pad_mode == PadMode::Reflect
                    && (p.top.max(p.bottom) >= input.height || p.left.max(p.right) >= input.width)
                {
                    return Ok(None);
                }
                let (ph, pw) = (input.height + p.top + p.bottom, input.width + p.left + p.right);
                if ph < w.kernel_h || pw < w.kernel_w {
                    return Ok(None);
                }
                Shape::new(w.out_channels, (ph - w.kernel_h) / conv.stride + 1, (pw - w.kernel_w) / conv.stride + 1)
            }
            Op::InstanceNorm(InstanceNorm { channels, .. }) | Op::ChannelAffine { channels, .. } => {
                if input.channels != *channels {
                    return Err(Error::graph(format!(
                        "{name} normalises {channels} channels but receives {}",
                        input.channels
                    )));
                }
                input
            }
            Op::Relu | Op::Sigmoid | Op::Clip { .. } => input,
            Op::GlobalAvgPool => Shape::new(input.channels, 1, 1),
            Op::Add => {
                let other = inputs[1];
                if other != input {
                    return Err(Error::graph(format!("{name} adds {input:?} to {other:?}")));
                }
                input
            }
            Op::UpsampleNearest { factor } => Shape::new(
                input.channels,
                input.height.checked_mul(*factor).ok_or_else(|| Error::graph("upsampled size overflows"))?,
                input.width.checked_mul(*factor).ok_or_else(|| Error::graph("upsampled size overflows"))?,
            ),
        };
        Ok(Some(out))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<ValueId>,
    pub output: ValueId,
}

/// A checked graph: every node reads values defined before it, and writes a fresh one. Built only by
/// [`Graph::new`], which holds it to that, so executors may index values without checking again.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    input_channels: usize,
    nodes: Vec<Node>,
    value_count: usize,
    output: ValueId,
    /// Length of a `StyleParams` buffer: every norm's gamma and beta.
    style_params_len: usize,
}

/// The largest number of f32 values any one activation may hold; bounds what a hostile graph can make us allocate.
pub const MAX_VALUES_PER_TENSOR: usize = 1 << 30;

impl Graph {
    /// Checks and builds a graph over `input_channels` input channels. Value 0 is the input, node `i` writes value
    /// `i + 1`; every node reads values written before it with as many inputs as its op takes, and `output` is a
    /// value some node writes. Norms' `params_offset`s must lie within `style_params_len`.
    pub fn new(input_channels: usize, nodes: Vec<Node>, output: ValueId, style_params_len: usize) -> Result<Graph> {
        if input_channels == 0 {
            return Err(Error::graph("the graph takes no input channels"));
        }
        for (index, node) in nodes.iter().enumerate() {
            if node.output != index + 1 {
                return Err(Error::graph(format!("{} writes value {}, not {}", node.name, node.output, index + 1)));
            }
            if node.inputs.len() != node.op.arity() {
                return Err(Error::graph(format!(
                    "{} reads {} values; {} takes {}",
                    node.name,
                    node.inputs.len(),
                    node.op.kind(),
                    node.op.arity()
                )));
            }
            if let Some(&late) = node.inputs.iter().find(|&&id| id > index) {
                return Err(Error::graph(format!("{} reads value {late} before it is written", node.name)));
            }
            if let Some((offset, channels)) = node.op.style_params() {
                if offset.checked_add(2 * channels).is_none_or(|end| end > style_params_len) {
                    return Err(Error::graph(format!("{} reads style parameters past their end", node.name)));
                }
            }
        }
        let value_count = nodes.len() + 1;
        if output == INPUT_VALUE || output >= value_count {
            return Err(Error::graph("the graph output is never written"));
        }
        Ok(Graph { input_channels, nodes, value_count, output, style_params_len })
    }

    pub(crate) fn input_channels(&self) -> usize {
        self.input_channels
    }

    /// The nodes in the order they run.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Values in all: the input and one per node.
    pub(crate) fn value_count(&self) -> usize {
        self.value_count
    }

    pub(crate) fn output(&self) -> ValueId {
        self.output
    }

    /// Length of a `StyleParams` buffer: every norm's gamma and beta.
    pub(crate) fn style_params_len(&self) -> usize {
        self.style_params_len
    }

    /// The same graph with the ops `replace` returns a new op for swapped in, checked as `new` checks (tiles
    /// freeze each norm into a `ChannelAffine` this way).
    pub(crate) fn with_ops(&self, mut replace: impl FnMut(usize, &Op) -> Option<Op>) -> Result<Graph> {
        let mut nodes = self.nodes.clone();
        for (index, node) in nodes.iter_mut().enumerate() {
            if let Some(op) = replace(index, &node.op) {
                node.op = op;
            }
        }
        Graph::new(self.input_channels, nodes, self.output, self.style_params_len)
    }

    /// Shapes of every value for an input of `height x width`, or why that size cannot run.
    /// An `Err(ModelGraph)` means the graph is broken; `Ok(None)` means this size is too small for the network.
    pub(crate) fn infer_shapes(&self, height: usize, width: usize) -> Result<Option<Vec<Shape>>> {
        let mut shapes = vec![Shape::new(0, 0, 0); self.value_count];
        shapes[INPUT_VALUE] = Shape::new(self.input_channels, height, width);
        for node in &self.nodes {
            let inputs: Vec<Shape> = node.inputs.iter().map(|&id| shapes[id]).collect();
            let Some(out) = node.op.output_shape(&node.name, &inputs)? else { return Ok(None) };
            let len = out
                .channels
                .checked_mul(out.height)
                .and_then(|n| n.checked_mul(out.width))
                .filter(|&n| n <= MAX_VALUES_PER_TENSOR)
                .ok_or_else(|| Error::graph(format!("{} would produce an activation of {out:?}", node.name)))?;
            if len == 0 {
                return Ok(None);
            }
            shapes[node.output] = out;
        }
        Ok(Some(shapes))
    }

    /// The factor every input side must be a multiple of for the output to come back at the input size:
    /// the product of strides on the way down.
    pub(crate) fn spatial_multiple(&self) -> usize {
        let mut scale = vec![1usize; self.value_count];
        let mut most = 1;
        for node in &self.nodes {
            let s = scale[node.inputs[0]];
            scale[node.output] = match node.op.spatial() {
                Spatial::Window { stride, .. } => s.saturating_mul(stride),
                Spatial::Upsample { factor } => (s / factor).max(1),
                Spatial::Pointwise | Spatial::Global => s,
            };
            most = most.max(scale[node.output]);
        }
        most
    }

    /// How far (in input pixels) a change to the input can travel to the output: the halo a tile needs so its kept
    /// centre is computed exactly as in the whole image.
    pub(crate) fn receptive_reach(&self) -> Reach {
        // Per value: its scale relative to the input (input pixels per value pixel) and reach in input pixels.
        let mut scale = vec![1usize; self.value_count];
        let mut reach = vec![Some(0usize); self.value_count];
        for node in &self.nodes {
            let s = scale[node.inputs[0]];
            let r = node.inputs.iter().map(|&i| reach[i]).try_fold(0, |most, r| r.map(|r| most.max(r)));
            let (out_scale, out_reach) = match node.op.spatial() {
                Spatial::Pointwise => (s, r),
                // A strided window also shifts where its samples fall by up to `stride - 1` input pixels of its own.
                Spatial::Window { stride, reach } => (
                    s.saturating_mul(stride),
                    r.and_then(|r| r.checked_add(s.checked_mul(reach.checked_add(stride - 1)?)?)),
                ),
                Spatial::Upsample { factor } => ((s / factor).max(1), r.and_then(|r| r.checked_add(s))),
                Spatial::Global => (s, None),
            };
            scale[node.output] = out_scale;
            reach[node.output] = out_reach;
        }
        reach[self.output].map_or(Reach::Global, Reach::Pixels)
    }

    /// The graph cut before node `upto`, returning that node's first input: what a pass that only needs the
    /// statistics of node `upto`'s input runs. Node indices (and so uploaded weights) stay the same.
    pub(crate) fn prefix(&self, upto: usize) -> Result<Graph> {
        let node = self.nodes.get(upto).ok_or_else(|| Error::internal(format!("there is no node {upto}")))?;
        Ok(Graph {
            input_channels: self.input_channels,
            nodes: self.nodes[..upto].to_vec(),
            value_count: self.value_count,
            output: node.inputs[0],
            style_params_len: self.style_params_len,
        })
    }

    /// For each node, the index of the last node that reads its output (or `usize::MAX` for the graph output),
    /// so executors can free or reuse a value's memory once it is dead.
    pub(crate) fn last_uses(&self) -> Vec<usize> {
        let mut last = vec![0usize; self.value_count];
        for (index, node) in self.nodes.iter().enumerate() {
            for &input in &node.inputs {
                last[input] = index;
            }
        }
        last[self.output] = usize::MAX;
        last
    }
}
