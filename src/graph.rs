//! The network as both executors see it: ops over numbered values, and shape inference.
//!
//! Nothing here knows a particular network. The model file lists the nodes; `model` turns them into this form and
//! checks them; the CPU and GPU executors walk `Graph::nodes` in order.

use crate::error::{Error, Result};

/// Index of a value (an activation tensor) in a graph. Value 0 is the image input.
pub type ValueId = usize;

/// The graph's input image.
pub const INPUT_VALUE: ValueId = 0;

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

    pub fn plane(&self) -> usize {
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
            return Err(Error::graph(format!("a {shape:?} tensor needs {} values, got {}", shape.len(), data.len())));
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
    pub fn taps(&self) -> usize {
        self.in_per_group * self.kernel_h * self.kernel_w
    }

    /// The float weight the int8 value stands for.
    pub fn weight(&self, index: usize) -> f32 {
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

    pub fn largest(&self) -> usize {
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
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: Op,
    pub inputs: Vec<ValueId>,
    pub output: ValueId,
}

/// A checked graph: every node reads values defined before it, and writes a fresh one.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub input_channels: usize,
    pub nodes: Vec<Node>,
    pub value_count: usize,
    pub output: ValueId,
    /// Length of a `StyleParams` buffer: every norm's gamma and beta.
    pub style_params_len: usize,
}

/// The largest number of f32 values any one activation may hold; bounds what a hostile graph can make us allocate.
pub const MAX_VALUES_PER_TENSOR: usize = 1 << 30;

impl Graph {
    /// Shapes of every value for an input of `height x width`, or why that size cannot run.
    /// An `Err(ModelGraph)` means the graph is broken; `Ok(None)` means this size is too small for the network.
    pub fn infer_shapes(&self, height: usize, width: usize) -> Result<Option<Vec<Shape>>> {
        let mut shapes = vec![Shape::new(0, 0, 0); self.value_count];
        shapes[INPUT_VALUE] = Shape::new(self.input_channels, height, width);
        for node in &self.nodes {
            let input = shapes[node.inputs[0]];
            let out = match &node.op {
                Op::Conv2d(conv) => {
                    let w = &conv.weights;
                    if input.channels != w.in_per_group * conv.groups {
                        return Err(Error::graph(format!(
                            "{} expects {} input channels but receives {}",
                            node.name,
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
                Op::InstanceNorm(norm) => {
                    if input.channels != norm.channels {
                        return Err(Error::graph(format!(
                            "{} normalises {} channels but receives {}",
                            node.name, norm.channels, input.channels
                        )));
                    }
                    input
                }
                Op::Relu | Op::Sigmoid | Op::Clip { .. } => input,
                Op::ChannelAffine { channels, .. } => {
                    if input.channels != *channels {
                        return Err(Error::graph(format!(
                            "{} scales {channels} channels but receives {}",
                            node.name, input.channels
                        )));
                    }
                    input
                }
                Op::GlobalAvgPool => Shape::new(input.channels, 1, 1),
                Op::Add => {
                    let other = shapes[node.inputs[1]];
                    if other != input {
                        return Err(Error::graph(format!("{} adds {input:?} to {other:?}", node.name)));
                    }
                    input
                }
                Op::UpsampleNearest { factor } => Shape::new(
                    input.channels,
                    input.height.checked_mul(*factor).ok_or_else(|| Error::graph("upsampled size overflows"))?,
                    input.width.checked_mul(*factor).ok_or_else(|| Error::graph("upsampled size overflows"))?,
                ),
            };
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
    pub fn spatial_multiple(&self) -> usize {
        let mut scale = vec![1usize; self.value_count];
        let mut most = 1;
        for node in &self.nodes {
            let s = scale[node.inputs[0]];
            scale[node.output] = match &node.op {
                Op::Conv2d(conv) => s.saturating_mul(conv.stride),
                Op::UpsampleNearest { factor } => (s / factor).max(1),
                _ => s,
            };
            most = most.max(scale[node.output]);
        }
        most
    }

    /// The graph cut before node `upto`, returning that node's first input: what a pass that only needs the
    /// statistics of node `upto`'s input runs. Node indices (and so uploaded weights) stay the same.
    pub fn prefix(&self, upto: usize) -> Result<Graph> {
        let node = self.nodes.get(upto).ok_or_else(|| Error::graph(format!("there is no node {upto}")))?;
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
    pub fn last_uses(&self) -> Vec<usize> {
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
