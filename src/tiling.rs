//! Photos larger than a device's buffers, without seams.
//!
//! Instance norm needs statistics over the whole image, so cutting a photo into tiles and styling each alone would
//! give every tile its own colours. Two ways round that, chosen by [`plan`]:
//!
//! - **Layered** (exact; GPU): the graph runs node by node over whole-image tensors kept in host memory
//!   ([`cpu::Walk`]); each convolution goes to the GPU in row bands small enough for its buffers, and instance
//!   norm takes its statistics over the whole tensor. Host memory holds the live whole-image tensors.
//! - **Streamed** (bounded memory): overlapping tiles go through the whole network, each with a halo as wide as
//!   the network's receptive field, so the kept centre of each tile is computed as in the whole image. Every
//!   instance norm becomes a per-channel affine with the whole image's statistics, taken beforehand: by one
//!   layered pass while the whole image's tensors fit the host budget, else by one pass of tiles per norm layer,
//!   each running the network up to that layer with the statistics found so far (exact, at a compute cost).
//!
//! Whole-image runs need neither: [`Mode::Whole`].

use crate::cpu::{self, ChannelStats, Walk};
use crate::error::{Error, Result};
use crate::graph::{Graph, Op, Shape, Tensor, INPUT_VALUE};
use crate::style::StyleParams;

/// Which executor will run the tiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    Cpu,
    Gpu,
}

/// What the planner may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileLimits {
    /// Largest single GPU buffer (the storage-binding limit); ignored for the CPU.
    pub max_buffer: u64,
    /// Host memory the whole-image tensors of an exact run may take.
    pub host_budget: u64,
    /// Memory the live tensors of one streamed tile may take (host memory on the CPU, GPU memory on the GPU).
    pub tile_budget: u64,
}

impl Default for TileLimits {
    /// 2 GiB of whole-image tensors natively (a 2048x2048 photo through the 26-style network needs ~1.2 GiB),
    /// 512 MiB in the browser, whose wasm memory tops out at 4 GiB for everything on the page.
    fn default() -> Self {
        let host_budget = if cfg!(target_arch = "wasm32") { 512 << 20 } else { 2 << 30 };
        TileLimits { max_buffer: u64::MAX, host_budget, tile_budget: 256 << 20 }
    }
}

/// A region of the padded input, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// One run over the whole image.
    Whole,
    /// Exact, node by node over whole tensors in host memory, convolutions on the GPU in bands.
    Layered,
    /// Tiles through the whole network (`(crop, kept)` regions) with statistics from `stats`.
    Streamed { tile: usize, halo: usize, stats: StatsPass, tiles: Vec<(Region, Region)> },
}

/// How a streamed run gets the whole image's norm statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsPass {
    /// One layered pass over the whole image (its tensors fit the host budget).
    Layered,
    /// One pass of tiles per norm layer, up to that layer: memory of one tile, compute of about one run per layer.
    PerNorm,
}

/// How one image will run, and what it will hold in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct TilePlan {
    pub mode: Mode,
    /// Peak bytes of tensors in host memory (image buffers and the tensors the mode keeps).
    pub host_bytes: u64,
    /// Largest single GPU buffer the run creates (0 on the CPU).
    pub device_buffer_bytes: u64,
}

const F32: u64 = 4;

/// Peak bytes of live tensors when `graph` runs whole at `height x width`, values freed after their last reader.
pub fn whole_host_bytes(graph: &Graph, height: usize, width: usize) -> Result<u64> {
    let shapes = shapes(graph, height, width)?;
    let last_uses = graph.last_uses();
    let bytes = |id: usize| shapes[id].len() as u64 * F32;
    let mut live = bytes(INPUT_VALUE);
    let mut peak = live;
    for (index, node) in graph.nodes.iter().enumerate() {
        live += bytes(node.output);
        peak = peak.max(live);
        let mut inputs = node.inputs.clone();
        inputs.dedup();
        for id in inputs {
            if last_uses[id] == index {
                live -= bytes(id);
            }
        }
    }
    Ok(peak)
}

/// The largest single tensor at `height x width`: what one GPU buffer must hold for a whole-image run.
pub fn largest_tensor_bytes(graph: &Graph, height: usize, width: usize) -> Result<u64> {
    Ok(shapes(graph, height, width)?.iter().map(|s| s.len() as u64 * F32).max().unwrap_or(0))
}

fn shapes(graph: &Graph, height: usize, width: usize) -> Result<Vec<Shape>> {
    graph
        .infer_shapes(height, width)?
        .ok_or_else(|| Error::graph(format!("a {width}x{height} input is too small for this network")))
}

/// How far (in input pixels) a change to the input can travel to the output: the halo a tile needs so its kept
/// centre is computed exactly as in the whole image.
pub fn receptive_radius(graph: &Graph) -> usize {
    // Per value: its scale relative to the input (input pixels per value pixel) and radius in input pixels.
    let mut scale = vec![1usize; graph.value_count];
    let mut radius = vec![0usize; graph.value_count];
    for node in &graph.nodes {
        let s = scale[node.inputs[0]];
        let r = node.inputs.iter().map(|&i| radius[i]).max().unwrap_or(0);
        let (out_scale, out_radius) = match &node.op {
            Op::Conv2d(conv) => {
                let w = &conv.weights;
                // Taps reach `pad` before the centre row and `kernel - 1 - pad` after it.
                let reach = [
                    conv.pad.top,
                    w.kernel_h - 1 - conv.pad.top.min(w.kernel_h - 1),
                    conv.pad.left,
                    w.kernel_w - 1 - conv.pad.left.min(w.kernel_w - 1),
                ]
                .into_iter()
                .max()
                .unwrap_or(0);
                // A strided conv also shifts where its samples fall by up to `stride - 1` input pixels of its own.
                (s * conv.stride, r + s * (reach + conv.stride - 1))
            }
            Op::UpsampleNearest { factor } => ((s / factor).max(1), r + s),
            // A whole-plane reduction sees everything; such graphs (the style predictor) are never tiled.
            Op::GlobalAvgPool => (s, usize::MAX / 4),
            _ => (s, r),
        };
        scale[node.output] = out_scale;
        radius[node.output] = out_radius;
    }
    radius[graph.output]
}

/// Decides how an image of `height x width` (already padded to `multiple`) runs on `executor` within `limits`.
/// `force_tile` makes it stream tiles of that side even when the whole image fits (for tests and tuning).
pub fn plan(
    graph: &Graph,
    height: usize,
    width: usize,
    multiple: usize,
    executor: Executor,
    limits: TileLimits,
    force_tile: Option<usize>,
) -> Result<TilePlan> {
    let image_bytes = 2 * 3 * (height * width) as u64 * F32;
    // Every tensor of these fully convolutional networks scales with the image's area, so the whole image's needs
    // follow from a small run of shape inference (the whole size may not even be representable).
    let pixels = (height * width) as f64;
    let side = multiple * 16;
    let reference = (side * side) as f64;
    let whole_host = (whole_host_bytes(graph, side, side)? as f64 / reference * pixels) as u64;
    // Bytes of the largest tensor per input pixel: what sizes a tile against a buffer limit.
    let per_pixel = largest_tensor_bytes(graph, side, side)? as f64 / reference;
    let largest = (per_pixel * pixels) as u64;
    if force_tile.is_none() {
        match executor {
            Executor::Gpu if largest <= limits.max_buffer => {
                return Ok(TilePlan { mode: Mode::Whole, host_bytes: image_bytes, device_buffer_bytes: largest })
            }
            Executor::Cpu if whole_host <= limits.host_budget => {
                return Ok(TilePlan { mode: Mode::Whole, host_bytes: whole_host, device_buffer_bytes: 0 })
            }
            Executor::Gpu if whole_host <= limits.host_budget => {
                let band = layered_band_bytes(graph, height, width, limits.max_buffer)?;
                return Ok(TilePlan { mode: Mode::Layered, host_bytes: whole_host, device_buffer_bytes: band });
            }
            _ => {}
        }
    }
    let halo = receptive_radius(graph).div_ceil(multiple) * multiple;
    let tile = match force_tile {
        Some(tile) => tile.max(multiple) / multiple * multiple,
        None => {
            // Every live tensor of the tile counts against the budget, and on the GPU the largest must also fit
            // one buffer.
            let live_per_pixel = whole_host as f64 / (height * width) as f64;
            let mut side = (limits.tile_budget as f64 / live_per_pixel).sqrt();
            if executor == Executor::Gpu {
                side = side.min((limits.max_buffer as f64 / per_pixel).sqrt());
            }
            let side = side as usize;
            if side <= 2 * halo + multiple {
                // Not even a tile with its halo fits: the limits are far below what any photo needs.
                let needed = ((2 * halo + multiple).pow(2) as f64 * per_pixel) as u64;
                return Err(Error::GpuBufferLimit { needed, limit: limits.tile_budget.min(limits.max_buffer) });
            }
            (side - 2 * halo) / multiple * multiple
        }
    };
    let stats = if whole_host <= limits.host_budget { StatsPass::Layered } else { StatsPass::PerNorm };
    let tiles = tiles(height, width, tile, halo);
    let crop = tiles.iter().map(|(c, _)| (c.width * c.height) as u64).max().unwrap_or(0);
    let crop_side = (crop as f64).sqrt().ceil() as usize;
    let crop_side = crop_side.div_ceil(multiple) * multiple;
    let tile_host = whole_host_bytes(graph, crop_side, crop_side)?;
    let stats_host = if stats == StatsPass::Layered { whole_host } else { 0 };
    let (host_bytes, device) = match executor {
        Executor::Cpu => (image_bytes + tile_host.max(stats_host), 0),
        Executor::Gpu => (image_bytes + (crop * 3 * F32).max(stats_host), (crop as f64 * per_pixel) as u64),
    };
    Ok(TilePlan { mode: Mode::Streamed { tile, halo, stats, tiles }, host_bytes, device_buffer_bytes: device })
}

/// Output tiles of `tile` pixels covering the image, each with its crop (the tile grown by `halo`, clamped to the
/// image): `(crop, kept)` in image coordinates.
pub fn tiles(height: usize, width: usize, tile: usize, halo: usize) -> Vec<(Region, Region)> {
    let mut out = Vec::new();
    for y in (0..height).step_by(tile) {
        for x in (0..width).step_by(tile) {
            let kept = Region { x, y, width: tile.min(width - x), height: tile.min(height - y) };
            let (x0, y0) = (x.saturating_sub(halo), y.saturating_sub(halo));
            let (x1, y1) = ((x + kept.width + halo).min(width), (y + kept.height + halo).min(height));
            out.push((Region { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, kept));
        }
    }
    out
}

/// Output rows per band for a convolution on the GPU: input and output bands each within `max_buffer`.
fn band_rows(conv: &crate::graph::Conv2d, input: Shape, output: Shape, max_buffer: u64) -> Result<usize> {
    let w = &conv.weights;
    let in_row = (input.width + conv.pad.left + conv.pad.right) as u64 * input.channels as u64 * F32;
    let out_row = output.width as u64 * output.channels as u64 * F32;
    let by_output = max_buffer / out_row.max(1);
    // Input rows for `r` output rows: (r - 1) * stride + kernel.
    let by_input = (max_buffer / in_row.max(1)).saturating_sub(w.kernel_h as u64) / conv.stride as u64 + 1;
    let rows = by_output.min(by_input).min(output.height as u64) as usize;
    if rows == 0 || (max_buffer / in_row.max(1)) < w.kernel_h as u64 {
        return Err(Error::GpuBufferLimit { needed: in_row.max(out_row) * w.kernel_h as u64, limit: max_buffer });
    }
    Ok(rows)
}

/// The largest GPU buffer a layered run makes.
fn layered_band_bytes(graph: &Graph, height: usize, width: usize, max_buffer: u64) -> Result<u64> {
    let shapes = shapes(graph, height, width)?;
    let mut largest = 0;
    for node in &graph.nodes {
        if let Op::Conv2d(conv) = &node.op {
            let (input, output) = (shapes[node.inputs[0]], shapes[node.output]);
            let rows = band_rows(conv, input, output, max_buffer)?;
            let in_rows = (rows - 1) * conv.stride + conv.weights.kernel_h;
            let in_bytes = (in_rows * (input.width + conv.pad.left + conv.pad.right) * input.channels) as u64 * F32;
            largest = largest.max(in_bytes).max((rows * output.width * output.channels) as u64 * F32);
        }
    }
    Ok(largest)
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

/// Runs `graph` node by node over whole tensors in host memory; with `gpu`, every convolution goes to the GPU in
/// row bands within its buffer limit. `record` keeps each instance norm's statistics, returned alongside.
pub async fn run_layered(
    graph: &Graph,
    input: Tensor,
    params: &StyleParams,
    #[cfg(feature = "gpu")] mut gpu: Option<&mut crate::gpu::GpuExecutor>,
    record: bool,
) -> Result<(Tensor, Vec<Option<Vec<ChannelStats>>>)> {
    #[cfg(feature = "gpu")]
    let shapes = shapes(graph, input.shape.height, input.shape.width)?;
    let mut walk = Walk::new(graph, input, params)?;
    if record {
        walk.record_norm_stats();
    }
    #[cfg_attr(not(feature = "gpu"), allow(unused_variables))]
    for (index, node) in graph.nodes.iter().enumerate() {
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
pub fn freeze_norms(
    graph: &Graph,
    params: &StyleParams,
    stats: &[Option<Vec<ChannelStats>>],
) -> Result<(Graph, StyleParams)> {
    let mut frozen = graph.clone();
    let mut values = params.0.clone();
    for (index, node) in frozen.nodes.iter_mut().enumerate() {
        let Op::InstanceNorm(norm) = &node.op else { continue };
        // A norm without statistics yet stays as it is: a per-layer pass stops before it.
        let Some(stats) = stats.get(index).and_then(Option::as_ref) else { continue };
        let (gamma, beta) = params.norm(norm.params_offset, norm.channels);
        let (scale, shift) = cpu::norm_as_affine(stats, gamma, beta, norm.eps);
        let (c, at) = (norm.channels, norm.params_offset);
        values[at..at + c].copy_from_slice(&scale);
        values[at + c..at + 2 * c].copy_from_slice(&shift);
        node.op = Op::ChannelAffine { channels: c, params_offset: at };
    }
    Ok((frozen, StyleParams(values)))
}

/// Every instance norm's statistics over the whole image from tiles alone: for each norm layer in order, one pass
/// of tiles through the network up to that layer (`run_prefix(graph, layer, tile, params)` returns the layer's
/// input), with the layers before it frozen to the statistics already found, summing each tile's kept centre.
pub async fn per_norm_stats(
    graph: &Graph,
    params: &StyleParams,
    input: &Tensor,
    tiles: &[(Region, Region)],
    mut run_prefix: impl AsyncFnMut(&Graph, usize, Tensor, &StyleParams) -> Result<Tensor>,
) -> Result<Vec<Option<Vec<ChannelStats>>>> {
    let mut stats: Vec<Option<Vec<ChannelStats>>> = vec![None; graph.nodes.len()];
    for (index, node) in graph.nodes.iter().enumerate() {
        let Op::InstanceNorm(norm) = &node.op else { continue };
        let (frozen, frozen_params) = freeze_norms(graph, params, &stats)?;
        let (mut sum, mut squares, mut count) = (vec![0.0f64; norm.channels], vec![0.0f64; norm.channels], 0u64);
        for &(crop_region, kept) in tiles {
            let value = run_prefix(&frozen, index, crop(input, crop_region), &frozen_params).await?;
            let Shape { channels, height, width } = value.shape;
            // This layer's resolution: crops sit on the stride grid, so the scale divides every edge.
            let scale = crop_region.width / width.max(1);
            if channels != norm.channels || width * scale != crop_region.width || height * scale != crop_region.height {
                return Err(Error::graph(format!(
                    "{}: a tile's {:?} does not line up with its crop",
                    node.name, value.shape
                )));
            }
            let (x0, y0) = ((kept.x - crop_region.x) / scale, (kept.y - crop_region.y) / scale);
            let (kw, kh) = (kept.width / scale, kept.height / scale);
            for c in 0..channels {
                for y in y0..y0 + kh {
                    for &v in &value.data[(c * height + y) * width + x0..][..kw] {
                        sum[c] += f64::from(v);
                        squares[c] += f64::from(v) * f64::from(v);
                    }
                }
            }
            count += (kw * kh) as u64;
        }
        let n = count.max(1) as f64;
        let layer = sum
            .iter()
            .zip(&squares)
            .map(|(s, q)| ChannelStats { mean: s / n, var: (q / n - (s / n).powi(2)).max(0.0) });
        stats[index] = Some(layer.collect());
    }
    Ok(stats)
}

/// The part `region` of a planar tensor.
pub fn crop(input: &Tensor, region: Region) -> Tensor {
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
pub fn paste(output: &mut Tensor, tile: &Tensor, crop: Region, kept: Region) {
    let Shape { channels, height, width } = output.shape;
    let (ox, oy) = (kept.x - crop.x, kept.y - crop.y);
    for c in 0..channels {
        for y in 0..kept.height {
            let src = &tile.data[(c * crop.height + oy + y) * crop.width + ox..][..kept.width];
            output.data[(c * height + kept.y + y) * width + kept.x..][..kept.width].copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    const MIB: u64 = 1 << 20;

    fn print(plan: &TilePlan, what: &str) {
        let mode = match &plan.mode {
            Mode::Whole => "whole".to_string(),
            Mode::Layered => "layered (exact)".to_string(),
            Mode::Streamed { tile, halo, stats, tiles } => {
                format!("streamed: {} tiles of {tile} px + {halo} px halo, statistics {stats:?}", tiles.len())
            }
        };
        println!(
            "{what}: {mode}; host {} MiB, largest GPU buffer {} MiB",
            plan.host_bytes / MIB,
            plan.device_buffer_bytes / MIB
        );
    }

    /// The memory bound of each mode for the sizes the issue names, under lavapipe's and a browser's limits.
    #[test]
    fn the_planner_bounds_memory_for_large_photos() {
        let model = Model::builtin().unwrap();
        let graph = &model.graph;
        let m = model.spatial_multiple;
        let lavapipe = TileLimits { max_buffer: 128 * MIB, host_budget: 2048 * MIB, tile_budget: 256 * MIB };
        let browser = TileLimits { max_buffer: 1024 * MIB, host_budget: 512 * MIB, tile_budget: 256 * MIB };

        let small = plan(graph, 512, 512, m, Executor::Gpu, lavapipe, None).unwrap();
        assert_eq!(small.mode, Mode::Whole);

        // 2048x2048 on lavapipe: a 32-channel full-size tensor is 512 MiB, over the 128 MiB binding limit, but the
        // whole-image tensors fit the host budget, so the run is exact and layered.
        let p = plan(graph, 2048, 2048, m, Executor::Gpu, lavapipe, None).unwrap();
        print(&p, "2048x2048 GPU (lavapipe)");
        assert_eq!(p.mode, Mode::Layered);
        assert!(p.device_buffer_bytes <= 128 * MIB && p.host_bytes <= 2048 * MIB);

        // 4096x3072 in the browser: whole tensors would need several GiB, so tiles stream within both bounds.
        let p = plan(graph, 3072, 4096, m, Executor::Gpu, browser, None).unwrap();
        print(&p, "4096x3072 GPU (browser)");
        assert!(matches!(p.mode, Mode::Streamed { .. }));
        assert!(p.device_buffer_bytes <= 1024 * MIB, "{p:?}");
        assert!(p.host_bytes <= 512 * MIB + 2 * 3 * 4096 * 3072 * 4, "{}", p.host_bytes);

        // 8192x8192 from the CLI on the CPU: streamed tiles; memory stays within the budgets plus the image itself.
        let p = plan(graph, 8192, 8192, m, Executor::Cpu, lavapipe, None).unwrap();
        print(&p, "8192x8192 CPU");
        let image = 2 * 3 * 8192 * 8192 * 4;
        assert!(matches!(p.mode, Mode::Streamed { .. }));
        assert!(p.host_bytes <= image + 2048 * MIB, "{}", p.host_bytes);

        let p = plan(graph, 8192, 8192, m, Executor::Gpu, lavapipe, None).unwrap();
        print(&p, "8192x8192 GPU (lavapipe)");
        assert!(p.device_buffer_bytes <= 128 * MIB && p.host_bytes <= image + 2048 * MIB);
    }

    #[test]
    fn tiles_cover_the_image_once_with_halos_inside_it() {
        let tiles = tiles(200, 136, 64, 56);
        let mut covered = vec![0u8; 200 * 136];
        for (crop, kept) in &tiles {
            assert!(crop.x <= kept.x && crop.y <= kept.y);
            assert!(crop.x + crop.width <= 136 && crop.y + crop.height <= 200);
            assert!(kept.x - crop.x == 56.min(kept.x) && kept.y - crop.y == 56.min(kept.y));
            for y in kept.y..kept.y + kept.height {
                for x in kept.x..kept.x + kept.width {
                    covered[y * 136 + x] += 1;
                }
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
    }

    #[test]
    fn the_receptive_radius_of_the_style_network() {
        let model = Model::builtin().unwrap();
        let radius = receptive_radius(&model.graph);
        println!("receptive radius {radius}");
        assert!((40..=80).contains(&radius), "{radius}");
    }
}
