//! The CPU executor: plain f32 code that runs any graph. It is the oracle every GPU test compares against, and the
//! fallback where no GPU can be had. Kernels stay obviously correct first; accumulation of statistics is in f64.

mod conv;
mod elementwise;
mod norm;
mod parallel;
mod pool;
mod simd;

pub use conv::conv2d;
#[cfg(feature = "gpu")]
pub(crate) use conv::source_index;
pub(crate) use elementwise::{add, channel_affine, clip, relu, sigmoid};
pub use elementwise::{global_avg_pool, upsample_nearest};
pub use norm::NormWeights;
pub(crate) use norm::{channel_stats, channel_stats_weighted, instance_norm_with, norm_as_affine, ChannelStats};
pub use parallel::worker_count;

use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Tensor, INPUT_VALUE};
use crate::style::StyleParams;

/// Runs `graph` on a planar RGB input (already padded to the network's multiple) with mixed style parameters.
pub fn run(graph: &Graph, input: Tensor, params: &StyleParams) -> Result<Tensor> {
    run_weighted(graph, input, params, None)
}

/// `run` with the instance norms' statistics weighted per pixel (a product's matte); `None` weighs all alike.
pub fn run_weighted(
    graph: &Graph,
    input: Tensor,
    params: &StyleParams,
    weights: Option<&NormWeights>,
) -> Result<Tensor> {
    let mut walk = Walk::new(graph, input, params)?;
    walk.weigh_norms(weights);
    for index in 0..graph.nodes().len() {
        walk.apply(index)?;
    }
    walk.finish()
}

/// One pass over a graph holding whole tensors, node by node, each value freed after its last reader. `run` drives
/// it with the CPU's own kernels; the tiled GPU run sends the convolutions to the GPU in bands instead.
pub struct Walk<'g> {
    graph: &'g Graph,
    params: &'g StyleParams,
    values: Vec<Option<Tensor>>,
    last_uses: Vec<usize>,
    /// Per node: the statistics its instance norm used, when recording.
    recorded: Option<Vec<Option<Vec<ChannelStats>>>>,
    /// How much each pixel counts in the norms' statistics; all alike when `None`.
    weights: Option<&'g NormWeights>,
}

impl<'g> Walk<'g> {
    pub fn new(graph: &'g Graph, input: Tensor, params: &'g StyleParams) -> Result<Self> {
        if input.shape.channels != graph.input_channels() {
            return Err(Error::internal(format!(
                "the input has {} channels, the graph wants {}",
                input.shape.channels,
                graph.input_channels()
            )));
        }
        if params.0.len() != graph.style_params_len() {
            return Err(Error::internal("style parameters do not match this graph"));
        }
        let mut values: Vec<Option<Tensor>> = vec![None; graph.value_count()];
        values[INPUT_VALUE] = Some(input);
        Ok(Walk { graph, params, values, last_uses: graph.last_uses(), recorded: None, weights: None })
    }

    /// Weighs each pixel in the instance norms' statistics by `weights` (at the input's size).
    pub fn weigh_norms(&mut self, weights: Option<&'g NormWeights>) {
        self.weights = weights;
    }

    /// Keeps every instance norm's statistics, for `norm_stats`.
    pub(crate) fn record_norm_stats(&mut self) {
        self.recorded = Some(vec![None; self.graph.nodes().len()]);
    }

    /// The statistics each node's instance norm used (`None` for other nodes), if recorded.
    pub(crate) fn norm_stats(&self) -> Option<&[Option<Vec<ChannelStats>>]> {
        self.recorded.as_deref()
    }

    /// The first input of node `index`, for a caller that computes the node itself.
    pub(crate) fn input(&self, index: usize) -> Result<&Tensor> {
        let node = &self.graph.nodes()[index];
        self.values[node.inputs[0]]
            .as_ref()
            .ok_or_else(|| Error::internal(format!("{} reads a value that is not there", node.name)))
    }

    /// Takes (at its last reader) or copies value `id` for an op that rewrites its input.
    fn take(&mut self, index: usize, id: usize) -> Result<Tensor> {
        let value = if self.last_uses[id] == index { self.values[id].take() } else { self.values[id].clone() };
        value.ok_or_else(|| {
            Error::internal(format!("{} reads a value that is not there", self.graph.nodes()[index].name))
        })
    }

    /// Stores node `index`'s output and frees the inputs it was the last to read.
    pub(crate) fn store(&mut self, index: usize, output: Tensor) {
        let node = &self.graph.nodes()[index];
        for &id in &node.inputs {
            if self.last_uses[id] == index {
                if let Some(dead) = self.values[id].take() {
                    pool::give(dead.data);
                }
            }
        }
        self.values[node.output] = Some(output);
    }

    /// Runs node `index` with the CPU kernels.
    pub fn apply(&mut self, index: usize) -> Result<()> {
        let graph = self.graph;
        let node = &graph.nodes()[index];
        let x = node.inputs[0];
        let output = match &node.op {
            Op::Conv2d(conv) => conv2d(self.input(index)?, conv),
            Op::UpsampleNearest { factor } => upsample_nearest(self.input(index)?, *factor),
            Op::GlobalAvgPool => global_avg_pool(self.input(index)?),
            Op::InstanceNorm(norm) => {
                let mut t = self.take(index, x)?;
                let (gamma, beta) = self.params.norm(norm.params_offset, norm.channels);
                let stats = match self.weights {
                    Some(weights) => channel_stats_weighted(&t, &weights.at(t.shape.height, t.shape.width)?),
                    None => channel_stats(&t),
                };
                instance_norm_with(&mut t, &stats, gamma, beta, norm.eps);
                if let Some(recorded) = self.recorded.as_mut() {
                    recorded[index] = Some(stats);
                }
                t
            }
            Op::ChannelAffine { channels, params_offset } => {
                let mut t = self.take(index, x)?;
                let (scale, shift) = self.params.norm(*params_offset, *channels);
                channel_affine(&mut t, scale, shift);
                t
            }
            Op::Relu => {
                let mut t = self.take(index, x)?;
                relu(&mut t);
                t
            }
            Op::Clip { min, max } => {
                let mut t = self.take(index, x)?;
                clip(&mut t, *min, *max);
                t
            }
            Op::Sigmoid => {
                let mut t = self.take(index, x)?;
                sigmoid(&mut t);
                t
            }
            Op::Add => {
                let y = node.inputs[1];
                let mut a = self.take(index, x)?;
                if y == x {
                    let b = a.clone();
                    add(&mut a, &b)?;
                } else {
                    let missing = || Error::internal(format!("{} reads a value that is not there", node.name));
                    add(&mut a, self.values[y].as_ref().ok_or_else(missing)?)?;
                }
                a
            }
        };
        self.store(index, output);
        Ok(())
    }

    /// The graph's output, once every node has run.
    pub fn finish(mut self) -> Result<Tensor> {
        self.values[self.graph.output()].take().ok_or_else(|| Error::internal("the graph output was never written"))
    }
}
