//! Carrying out a plan: one image run whole, layered (node by node over whole tensors, convolutions on the GPU in
//! bands), or in streamed tiles with the whole image's norm statistics (from a layered pass or one pass of tiles
//! per norm layer). The planner (`tiling::planner`) decides which; this runs it.

#[cfg(feature = "gpu")]
use super::planner::{band_rows, shapes};
use super::planner::{ExecutorKind, Mode, Region, StatsPass, TilePlan};
use crate::cpu::{self, ChannelStats, NormWeights, Walk};
use crate::engine::Executor;
use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Shape, Tensor};
use crate::style::StyleParams;

/// Runs plans; keeps, between images, the executor streamed tiles run on.
#[derive(Default)]
pub(crate) struct TileRunner {
    /// Tiles run the graph with frozen norms on a GPU executor of their own, so its plans (cached by size) never
    /// stand in for the whole graph's. Made on first use, made again if its device is lost.
    #[cfg(feature = "gpu")]
    tile_gpu: Option<Executor>,
}

impl TileRunner {
    /// Runs `graph` on a whole prepared image as `plan` (made for `executor`'s kind) says, the instance norms'
    /// statistics weighted by `weights` when given (on the GPU too: its plans weigh the statistics themselves).
    pub(crate) async fn run(
        &mut self,
        plan: &TilePlan,
        executor: &mut Executor,
        graph: &Graph,
        input: &Tensor,
        params: &StyleParams,
        weights: Option<&NormWeights>,
    ) -> Result<Tensor> {
        match (&plan.mode, weights) {
            (Mode::Whole, None) => executor.run(graph, input, params).await,
            (Mode::Whole, Some(weights)) => match executor.kind() {
                ExecutorKind::Cpu => cpu::run_weighted(graph, input.clone(), params, Some(weights)),
                #[cfg(feature = "gpu")]
                ExecutorKind::Gpu => match executor.gpu_mut() {
                    Some(gpu) => gpu.run_weighted(graph, input, params, weights).await,
                    None => Err(Error::internal("a GPU executor without a GPU")),
                },
                #[cfg(not(feature = "gpu"))]
                ExecutorKind::Gpu => Err(Error::internal("a GPU executor in a build without the GPU")),
            },
            (Mode::Layered, _) => Ok(run_layered(graph, input.clone(), params, executor, false, weights).await?.0),
            (Mode::Streamed { stats, tiles, .. }, _) => {
                self.run_streamed(executor, graph, input, params, weights, *stats, tiles).await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_streamed(
        &mut self,
        executor: &mut Executor,
        graph: &Graph,
        input: &Tensor,
        params: &StyleParams,
        weights: Option<&NormWeights>,
        pass: StatsPass,
        tiles: &[(Region, Region)],
    ) -> Result<Tensor> {
        let mut cpu_tiles = Executor::Cpu;
        let tile_executor = match executor {
            Executor::Cpu => &mut cpu_tiles,
            #[cfg(feature = "gpu")]
            Executor::Gpu(_) => {
                if self.tile_gpu.as_ref().is_none_or(Executor::is_lost) {
                    self.tile_gpu = Some(Executor::gpu_for(graph).await?);
                }
                self.tile_gpu.as_mut().ok_or_else(|| Error::internal("the tile executor was not made"))?
            }
        };
        let stats = match pass {
            StatsPass::Layered => run_layered(graph, input.clone(), params, executor, true, weights).await?.1,
            StatsPass::PerNorm => {
                let run_prefix = async |graph: &Graph, upto: usize, tile: &Tensor, params: &StyleParams| {
                    tile_executor.run_prefix(graph, upto, tile, params).await
                };
                per_norm_stats(graph, params, input, weights, tiles, run_prefix).await?
            }
        };
        let (frozen, frozen_params) = freeze_norms(graph, params, &stats)?;
        let Shape { height, width, .. } = input.shape;
        let mut output = Tensor::zeros(Shape::new(3, height, width));
        for &(region, kept) in tiles {
            let styled = tile_executor.run(&frozen, &crop(input, region), &frozen_params).await?;
            paste(&mut output, &styled, region, kept);
        }
        Ok(output)
    }
}

#[cfg(feature = "gpu")]
/// Output rows `r0..r1` of `conv` need these input rows, padded as the whole image is (reflect or zero), with the
/// side padding included: the band then runs as a convolution without padding.
fn padded_band(input: &Tensor, conv: &crate::graph::Conv2d, r0: usize, r1: usize) -> Tensor {
    let Shape { channels, height, width } = input.shape;
    let (top, left) = (conv.pad.top as isize, conv.pad.left as isize);
    let rows = (r1 - r0 - 1) * conv.stride + conv.weights.kernel_h;
    let cols = width + conv.pad.left + conv.pad.right;
    let mut band = Tensor::zeros(Shape::new(channels, rows, cols));
    for c in 0..channels {
        let plane = &input.data[c * height * width..][..height * width];
        for r in 0..rows {
            let Some(sy) = cpu::source_index((r0 * conv.stride + r) as isize - top, height, conv.pad_mode) else {
                continue;
            };
            let dst = &mut band.data[(c * rows + r) * cols..][..cols];
            for (x, value) in dst.iter_mut().enumerate() {
                if let Some(sx) = cpu::source_index(x as isize - left, width, conv.pad_mode) {
                    *value = plane[sy * width + sx];
                }
            }
        }
    }
    band
}

/// Runs `graph` node by node over whole tensors in host memory; on a GPU executor every convolution goes to the
/// GPU in row bands within its buffer limit. `record` keeps each instance norm's statistics, returned alongside;
/// `weights` weighs each pixel in them.
pub(crate) async fn run_layered(
    graph: &Graph,
    input: Tensor,
    params: &StyleParams,
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))] executor: &mut Executor,
    record: bool,
    weights: Option<&NormWeights>,
) -> Result<(Tensor, Vec<Option<Vec<ChannelStats>>>)> {
    #[cfg(feature = "gpu")]
    let mut gpu = executor.gpu_mut();
    #[cfg(feature = "gpu")]
    let shapes = shapes(graph, input.shape.height, input.shape.width)?;
    let mut walk = Walk::new(graph, input, params)?;
    walk.weigh_norms(weights);
    if record {
        walk.record_norm_stats();
    }
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    for (index, node) in graph.nodes().iter().enumerate() {
        #[cfg(feature = "gpu")]
        if let (Op::Conv2d(conv), Some(gpu)) = (&node.op, gpu.as_deref_mut()) {
            let x = walk.input(index)?;
            let output_shape = shapes[node.output];
            let rows = band_rows(conv, x.shape, output_shape, gpu.buffer_limit())?;
            let mut output = Tensor::zeros(output_shape);
            let Shape { channels, height, width } = output_shape;
            for r0 in (0..height).step_by(rows) {
                let r1 = (r0 + rows).min(height);
                let band = gpu.run_conv_tile(graph, index, &padded_band(x, conv, r0, r1)).await?;
                for c in 0..channels {
                    let src = &band.data[c * (r1 - r0) * width..][..(r1 - r0) * width];
                    output.data[(c * height + r0) * width..][..(r1 - r0) * width].copy_from_slice(src);
                }
            }
            walk.store(index, output);
            continue;
        }
        walk.apply(index)?;
    }
    let stats = walk.norm_stats().map(<[_]>::to_vec).unwrap_or_default();
    Ok((walk.finish()?, stats))
}

/// The graph with every instance norm turned into a per-channel affine using `stats` (per node, from a whole-image
/// pass), and the style parameters that affine reads: tiles then all normalise with the whole image's statistics.
pub(crate) fn freeze_norms(
    graph: &Graph,
    params: &StyleParams,
    stats: &[Option<Vec<ChannelStats>>],
) -> Result<(Graph, StyleParams)> {
    let mut values = params.0.clone();
    let frozen = graph.with_ops(|index, op| {
        let Op::InstanceNorm(norm) = op else { return None };
        // A norm without statistics yet stays as it is: a per-layer pass stops before it.
        let stats = stats.get(index).and_then(Option::as_ref)?;
        let (gamma, beta) = params.norm(norm.params_offset, norm.channels);
        let (scale, shift) = cpu::norm_as_affine(stats, gamma, beta, norm.eps);
        let (c, at) = (norm.channels, norm.params_offset);
        values[at..at + c].copy_from_slice(&scale);
        values[at + c..at + 2 * c].copy_from_slice(&shift);
        Some(Op::ChannelAffine { channels: c, params_offset: at })
    })?;
    Ok((frozen, StyleParams(values)))
}

/// Every instance norm's statistics over the whole image from tiles alone: for each norm layer in order, one pass
/// of tiles through the network up to that layer (`run_prefix(graph, layer, tile, params)` returns the layer's
/// input), with the layers before it frozen to the statistics already found, summing each tile's kept centre (each
/// pixel by its weight, when `weights` are given).
pub(crate) async fn per_norm_stats(
    graph: &Graph,
    params: &StyleParams,
    input: &Tensor,
    weights: Option<&NormWeights>,
    tiles: &[(Region, Region)],
    mut run_prefix: impl AsyncFnMut(&Graph, usize, &Tensor, &StyleParams) -> Result<Tensor>,
) -> Result<Vec<Option<Vec<ChannelStats>>>> {
    let mut stats: Vec<Option<Vec<ChannelStats>>> = vec![None; graph.nodes().len()];
    for (index, node) in graph.nodes().iter().enumerate() {
        let Op::InstanceNorm(norm) = &node.op else { continue };
        let (frozen, frozen_params) = freeze_norms(graph, params, &stats)?;
        let (mut sum, mut squares, mut count) = (vec![0.0f64; norm.channels], vec![0.0f64; norm.channels], 0.0f64);
        // The weights at this layer's resolution over the whole image, found with the first tile's scale.
        let mut layer_weights: Option<(usize, Vec<f32>)> = None;
        for &(crop_region, kept) in tiles {
            let value = run_prefix(&frozen, index, &crop(input, crop_region), &frozen_params).await?;
            let Shape { channels, height, width } = value.shape;
            // This layer's resolution: crops sit on the stride grid, so the scale divides every edge.
            let scale = crop_region.width / width.max(1);
            if channels != norm.channels || width * scale != crop_region.width || height * scale != crop_region.height {
                return Err(Error::internal(format!(
                    "{}: a tile's {:?} does not line up with its crop",
                    node.name, value.shape
                )));
            }
            let (x0, y0) = ((kept.x - crop_region.x) / scale, (kept.y - crop_region.y) / scale);
            let (kw, kh) = (kept.width / scale, kept.height / scale);
            let Shape { height: full_h, width: full_w, .. } = input.shape;
            let layer = match (weights, &layer_weights) {
                (Some(weights), None) => {
                    layer_weights = Some((full_w / scale, weights.at(full_h / scale, full_w / scale)?));
                    layer_weights.as_ref()
                }
                (Some(_), Some(_)) => layer_weights.as_ref(),
                (None, _) => None,
            };
            // The weight of the kept pixel (x, y) of this tile: 1 without weights.
            let weight = |x: usize, y: usize| match layer {
                Some((row, plane)) => f64::from(plane[(kept.y / scale + y - y0) * row + kept.x / scale + x - x0]),
                None => 1.0,
            };
            for c in 0..channels {
                for y in y0..y0 + kh {
                    for (x, &v) in value.data[(c * height + y) * width + x0..][..kw].iter().enumerate() {
                        let w = weight(x + x0, y);
                        sum[c] += w * f64::from(v);
                        squares[c] += w * f64::from(v) * f64::from(v);
                    }
                }
            }
            count +=
                (y0..y0 + kh).flat_map(|y| (x0..x0 + kw).map(move |x| (x, y))).map(|(x, y)| weight(x, y)).sum::<f64>();
        }
        let n = if count > 0.0 { count } else { 1.0 };
        let layer = sum
            .iter()
            .zip(&squares)
            .map(|(s, q)| ChannelStats { mean: s / n, var: (q / n - (s / n).powi(2)).max(0.0) });
        stats[index] = Some(layer.collect());
    }
    Ok(stats)
}

/// The part `region` of a planar tensor.
pub(crate) fn crop(input: &Tensor, region: Region) -> Tensor {
    let Shape { channels, height, width } = input.shape;
    let mut out = Tensor::zeros(Shape::new(channels, region.height, region.width));
    for c in 0..channels {
        for y in 0..region.height {
            let src = &input.data[(c * height + region.y + y) * width + region.x..][..region.width];
            out.data[(c * region.height + y) * region.width..][..region.width].copy_from_slice(src);
        }
    }
    out
}

/// Copies the `kept` part of a tile's output (computed on `crop`) into the whole `output`.
pub(crate) fn paste(output: &mut Tensor, tile: &Tensor, crop: Region, kept: Region) {
    let Shape { channels, height, width } = output.shape;
    let (ox, oy) = (kept.x - crop.x, kept.y - crop.y);
    for c in 0..channels {
        for y in 0..kept.height {
            let src = &tile.data[(c * crop.height + oy + y) * crop.width + ox..][..kept.width];
            output.data[(c * height + kept.y + y) * width + kept.x..][..kept.width].copy_from_slice(src);
        }
    }
}
