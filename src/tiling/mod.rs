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
//!
//! `planner` decides (pure: shapes and budgets in, a [`TilePlan`] out); `runner` carries a plan out.

mod planner;
mod runner;

pub(crate) use planner::check_tile_size;
pub use planner::{
    largest_tensor_bytes, plan, whole_host_bytes, ExecutorKind, Mode, Region, StatsPass, TileLimits, TilePlan,
};
pub(crate) use runner::TileRunner;
