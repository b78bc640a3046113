//! The CPU executor: plain f32 code that runs any graph. It is the oracle every GPU test compares against, and the
//! fallback where no GPU can be had. Kernels stay obviously correct first; accumulation of statistics is in f64.

mod conv;
mod elementwise;
mod norm;

pub use conv::{conv2d, conv2d_direct, conv2d_gemm, worker_count};
pub use elementwise::{add, channel_affine, clip, global_avg_pool, relu, sigmoid, upsample_nearest};
pub use norm::instance_norm;

use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Tensor, INPUT_VALUE};
use crate::style::StyleParams;

/// Runs `graph` on a planar RGB input (already padded to the network's multiple) with mixed style parameters.
pub fn run(graph: &Graph, input: Tensor, params: &StyleParams) -> Result<Tensor> {
    if input.shape.channels != graph.input_channels {
        return Err(Error::graph(format!("the input has {} channels, the graph wants {}", input.shape.channels, graph.input_channels)));
    }
    if params.0.len() != graph.style_params_len {
        return Err(Error::graph("style parameters do not match this graph"));
    }
    let last_uses = graph.last_uses();
    let mut values: Vec<Option<Tensor>> = vec![None; graph.value_count];
    values[INPUT_VALUE] = Some(input);
    for (index, node) in graph.nodes.iter().enumerate() {
        let missing = || Error::graph(format!("{} reads a value that is not there", node.name));
        // Ops that rewrite their input take it when this node is its last reader, and copy it otherwise.
        let take = |values: &mut [Option<Tensor>], id: usize| -> Result<Tensor> {
            let value = if last_uses[id] == index { values[id].take() } else { values[id].clone() };
            value.ok_or_else(missing)
        };
        let x = node.inputs[0];
        let output = match &node.op {
            Op::Conv2d(conv) => conv2d(values[x].as_ref().ok_or_else(missing)?, conv),
            Op::UpsampleNearest { factor } => upsample_nearest(values[x].as_ref().ok_or_else(missing)?, *factor),
            Op::InstanceNorm(norm) => {
                let mut t = take(&mut values, x)?;
                let (gamma, beta) = params.norm(norm.params_offset, norm.channels);
                instance_norm(&mut t, gamma, beta, norm.eps);
                t
            }
            Op::Relu => {
                let mut t = take(&mut values, x)?;
                relu(&mut t);
                t
            }
            Op::Clip { min, max } => {
                let mut t = take(&mut values, x)?;
                clip(&mut t, *min, *max);
                t
            }
            Op::GlobalAvgPool => global_avg_pool(values[x].as_ref().ok_or_else(missing)?),
            Op::ChannelAffine { channels, params_offset } => {
                let mut t = take(&mut values, x)?;
                let (scale, shift) = params.norm(*params_offset, *channels);
                channel_affine(&mut t, scale, shift);
                t
            }
            Op::Sigmoid => {
                let mut t = take(&mut values, x)?;
                sigmoid(&mut t);
                t
            }
            Op::Add => {
                let b = values[node.inputs[1]].clone().ok_or_else(missing)?;
                let mut a = take(&mut values, x)?;
                add(&mut a, &b)?;
                a
            }
        };
        for &id in &node.inputs {
            if last_uses[id] == index {
                values[id] = None;
            }
        }
        values[node.output] = Some(output);
    }
    values[graph.output].take().ok_or_else(|| Error::graph("the graph output was never written"))
}
