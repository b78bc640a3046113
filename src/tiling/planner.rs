//! The planner: how one image runs (whole, layered or in streamed tiles) within a device's buffers and a host
//! memory budget, decided from the graph's shapes alone. Pure: it allocates no tensor and runs nothing
//! (`tiling::runner` carries a plan out).

use crate::error::{Error, Result};
use crate::graph::Op;
use crate::graph::{Graph, Reach, Shape, INPUT_VALUE};

/// Which kind of executor a plan is for: the CPU's limit is host memory, the GPU's also its largest buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
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

impl TileLimits {
    /// The limits a `Styler` starts with: natively, whole-image tensors may take 60% of what this process may
    /// still allocate (its `ulimit -v`/`-d`, its cgroup's `memory.max`, the memory available:
    /// [`crate::memory::available_bytes`]) and one tile's tensors 20%, so a photo styles exactly, layer by layer,
    /// wherever the machine can hold it and beyond that streams in tiles within those limits instead of aborting
    /// on an allocation. Where the platform says nothing (the browser, other systems), the defaults.
    pub fn for_this_process() -> TileLimits {
        Self::within(crate::memory::available_bytes())
    }

    fn within(available: Option<u64>) -> TileLimits {
        let defaults = TileLimits::default();
        match available {
            // The tiles' own tensors come out of the same memory: the budget leaves room for one of them.
            Some(bytes) => TileLimits {
                host_budget: bytes / 10 * 6,
                tile_budget: defaults.tile_budget.min(bytes / 10 * 2),
                ..defaults
            },
            None => defaults,
        }
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
    pub(crate) host_bytes: u64,
    /// Largest single GPU buffer the run creates (0 on the CPU).
    pub(crate) device_buffer_bytes: u64,
}

const F32: u64 = 4;

/// Peak bytes of live tensors when `graph` runs whole at `height x width`, values freed after their last reader.
pub fn whole_host_bytes(graph: &Graph, height: usize, width: usize) -> Result<u64> {
    let shapes = shapes(graph, height, width)?;
    let last_uses = graph.last_uses();
    let bytes = |id: usize| shapes[id].len() as u64 * F32;
    let mut live = bytes(INPUT_VALUE);
    let mut peak = live;
    for (index, node) in graph.nodes().iter().enumerate() {
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

pub(crate) fn shapes(graph: &Graph, height: usize, width: usize) -> Result<Vec<Shape>> {
    graph
        .infer_shapes(height, width)?
        .ok_or_else(|| Error::internal(format!("a {width}x{height} input is too small for this network")))
}

/// The error for an image too large to run whole on a network that cannot be tiled (one that pools whole planes):
/// the largest image that does run is what fits the budget whole.
fn untileable(height: usize, width: usize, max_pixels: u64) -> Error {
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let max_side = ((max_pixels as f64).sqrt() as u64).min(u64::from(u32::MAX)) as u32;
    Error::ImageTooLarge { width: side(width), height: side(height), max_side, max_pixels }
}

/// Decides how an image of `height x width` (already padded to `multiple`) runs on `executor` within `limits`.
/// `tile_size` makes it stream tiles of that side even when the whole image fits (for tests and tuning); it must
/// be a positive multiple of `multiple`.
pub fn plan(
    graph: &Graph,
    height: usize,
    width: usize,
    multiple: usize,
    executor: ExecutorKind,
    limits: TileLimits,
    tile_size: Option<usize>,
) -> Result<TilePlan> {
    if let Some(side) = tile_size {
        check_tile_size(side, multiple)?;
    }
    // Sizes in f64 and u64: a public caller may ask about any size, and none of this may overflow.
    let pixels = height as f64 * width as f64;
    let image_bytes = (2.0 * 3.0 * pixels * F32 as f64).min(u64::MAX as f64) as u64;
    // Every tensor of these fully convolutional networks scales with the image's area, so the whole image's needs
    // follow from a small run of shape inference (the whole size may not even be representable).
    let side = multiple.checked_mul(16).ok_or_else(|| Error::internal("the spatial multiple overflows"))?;
    let reference = side as f64 * side as f64;
    let whole_per_pixel = whole_host_bytes(graph, side, side)? as f64 / reference;
    let whole_host = (whole_per_pixel * pixels).min(u64::MAX as f64) as u64;
    // Bytes of the largest tensor per input pixel: what sizes a tile against a buffer limit.
    let per_pixel = largest_tensor_bytes(graph, side, side)? as f64 / reference;
    let largest = (per_pixel * pixels).min(u64::MAX as f64) as u64;
    if tile_size.is_none() {
        match executor {
            ExecutorKind::Gpu if largest <= limits.max_buffer => {
                return Ok(TilePlan { mode: Mode::Whole, host_bytes: image_bytes, device_buffer_bytes: largest })
            }
            ExecutorKind::Cpu if whole_host <= limits.host_budget => {
                return Ok(TilePlan { mode: Mode::Whole, host_bytes: whole_host, device_buffer_bytes: 0 })
            }
            ExecutorKind::Gpu if whole_host <= limits.host_budget => {
                let band = layered_band_bytes(graph, height, width, limits.max_buffer)?;
                return Ok(TilePlan { mode: Mode::Layered, host_bytes: whole_host, device_buffer_bytes: band });
            }
            ExecutorKind::Cpu | ExecutorKind::Gpu => {}
        }
    }
    let radius = match graph.receptive_reach() {
        Reach::Pixels(radius) => radius,
        Reach::Global => {
            let budget = match executor {
                ExecutorKind::Cpu => limits.host_budget as f64 / whole_per_pixel.max(f64::MIN_POSITIVE),
                ExecutorKind::Gpu => limits.max_buffer as f64 / per_pixel.max(f64::MIN_POSITIVE),
            };
            return Err(untileable(height, width, budget.min(u64::MAX as f64) as u64));
        }
    };
    let halo = radius
        .div_ceil(multiple)
        .checked_mul(multiple)
        .filter(|&halo| halo <= MAX_HALO)
        .ok_or_else(|| Error::internal(format!("a receptive radius of {radius} px is beyond any tile")))?;
    let tile = match tile_size {
        Some(tile) => tile,
        None => {
            // Every live tensor of the tile counts against the budget, and on the GPU the largest must also fit
            // one buffer.
            let mut side = (limits.tile_budget as f64 / whole_per_pixel.max(f64::MIN_POSITIVE)).sqrt();
            if executor == ExecutorKind::Gpu {
                side = side.min((limits.max_buffer as f64 / per_pixel.max(f64::MIN_POSITIVE)).sqrt());
            }
            let smallest = 2 * halo + multiple;
            if side <= smallest as f64 {
                // Not even a tile with its halo fits: the limits are far below what any photo needs.
                let needed = ((smallest as f64).powi(2) * per_pixel) as u64;
                return Err(Error::GpuBufferLimit { needed, limit: limits.tile_budget.min(limits.max_buffer) });
            }
            let side = side.min(usize::MAX as f64 / 2.0) as usize;
            (side - 2 * halo) / multiple * multiple
        }
    };
    let count = height.div_ceil(tile) as u64 * width.div_ceil(tile) as u64;
    if count > MAX_TILES {
        // Only an image far beyond every limit, or a tiny forced tile on a large one, comes here.
        return Err(untileable(height, width, (MAX_TILES as f64 * tile as f64 * tile as f64) as u64));
    }
    let stats = if whole_host <= limits.host_budget { StatsPass::Layered } else { StatsPass::PerNorm };
    let tiles = tiles(height, width, tile, halo);
    // In f64: a forced tile on a huge image may have a crop whose area does not fit a u64.
    let crop = tiles.iter().map(|(c, _)| c.width as f64 * c.height as f64).fold(0.0, f64::max);
    let crop_side = crop.sqrt().ceil() as usize;
    let crop_side = crop_side.div_ceil(multiple) * multiple;
    let tile_host = whole_host_bytes(graph, crop_side, crop_side)?;
    let stats_host = if stats == StatsPass::Layered { whole_host } else { 0 };
    let (host_bytes, device) = match executor {
        ExecutorKind::Cpu => (image_bytes.saturating_add(tile_host.max(stats_host)), 0),
        ExecutorKind::Gpu => {
            let crop_bytes = (crop * 3.0 * F32 as f64).min(u64::MAX as f64) as u64;
            (image_bytes.saturating_add(crop_bytes.max(stats_host)), (crop * per_pixel).min(u64::MAX as f64) as u64)
        }
    };
    Ok(TilePlan { mode: Mode::Streamed { tile, halo, stats, tiles }, host_bytes, device_buffer_bytes: device })
}

/// The most tiles one plan lists: 8192x8192 in the browser's budget takes about 100.
const MAX_TILES: u64 = 1 << 16;

/// The widest halo a tile may carry: far beyond the 72 px of the shipped networks, and small enough that a tile's
/// sides cannot overflow.
const MAX_HALO: usize = 1 << 16;

/// A forced tile side must be a positive multiple of the network's stride product, or the tiles would not line up
/// with its strided convolutions.
pub(crate) fn check_tile_size(side: usize, multiple: usize) -> Result<()> {
    if side == 0 || !side.is_multiple_of(multiple) {
        return Err(Error::TileSize { side, multiple });
    }
    Ok(())
}

/// Output tiles of `tile` pixels covering the image, each with its crop (the tile grown by `halo`, clamped to the
/// image): `(crop, kept)` in image coordinates.
pub(crate) fn tiles(height: usize, width: usize, tile: usize, halo: usize) -> Vec<(Region, Region)> {
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
pub(crate) fn band_rows(conv: &crate::graph::Conv2d, input: Shape, output: Shape, max_buffer: u64) -> Result<usize> {
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
    for node in graph.nodes() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_styler_s_limits_follow_what_the_process_may_allocate() {
        let limits = TileLimits::within(Some(1000 * MIB));
        assert_eq!((limits.host_budget, limits.tile_budget), (600 * MIB, 200 * MIB));
        let plenty = TileLimits::within(Some(64 << 30));
        assert_eq!(plenty.tile_budget, TileLimits::default().tile_budget, "a tile's budget is never raised");
        assert_eq!(TileLimits::within(None), TileLimits::default());
    }

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

        let small = plan(graph, 512, 512, m, ExecutorKind::Gpu, lavapipe, None).unwrap();
        assert_eq!(small.mode, Mode::Whole);

        // 2048x2048 on lavapipe: a 32-channel full-size tensor is 512 MiB, over the 128 MiB binding limit, but the
        // whole-image tensors fit the host budget, so the run is exact and layered.
        let p = plan(graph, 2048, 2048, m, ExecutorKind::Gpu, lavapipe, None).unwrap();
        print(&p, "2048x2048 GPU (lavapipe)");
        assert_eq!(p.mode, Mode::Layered);
        assert!(p.device_buffer_bytes <= 128 * MIB && p.host_bytes <= 2048 * MIB);

        // 4096x3072 in the browser: whole tensors would need several GiB, so tiles stream within both bounds.
        let p = plan(graph, 3072, 4096, m, ExecutorKind::Gpu, browser, None).unwrap();
        print(&p, "4096x3072 GPU (browser)");
        assert!(matches!(p.mode, Mode::Streamed { .. }));
        assert!(p.device_buffer_bytes <= 1024 * MIB, "{p:?}");
        assert!(p.host_bytes <= 512 * MIB + 2 * 3 * 4096 * 3072 * 4, "{}", p.host_bytes);

        // 8192x8192 from the CLI on the CPU: streamed tiles; memory stays within the budgets plus the image itself.
        let p = plan(graph, 8192, 8192, m, ExecutorKind::Cpu, lavapipe, None).unwrap();
        print(&p, "8192x8192 CPU");
        let image = 2 * 3 * 8192 * 8192 * 4;
        assert!(matches!(p.mode, Mode::Streamed { .. }));
        assert!(p.host_bytes <= image + 2048 * MIB, "{}", p.host_bytes);

        let p = plan(graph, 8192, 8192, m, ExecutorKind::Gpu, lavapipe, None).unwrap();
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
        let Reach::Pixels(radius) = model.graph.receptive_reach() else { panic!("the style network is tileable") };
        println!("receptive radius {radius}");
        assert!((40..=80).contains(&radius), "{radius}");
    }
}
