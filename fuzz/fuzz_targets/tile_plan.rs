//! The tile planner over the whole size range: `Styler::tile_plan` for all three models on the CPU path with any
//! width, height, `TileLimits` and forced tile side, and `tiling::plan` for the GPU executor with any buffer limit
//! (no adapter needed). A plan or an error, never a panic (debug assertions on: overflow is a panic here).
//!
//! Input: model (1 byte), executor (1), width and height (u32 LE), max_buffer, host_budget, tile_budget (u64 LE),
//! forced tile (1 flag byte, then u64 LE); missing bytes read as zero.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vitrine::tiling::{self, ExecutorKind, Mode, TileLimits};
use vitrine::{Backend, Model, Styler};

fn stylers() -> &'static [Styler; 3] {
    static STYLERS: OnceLock<[Styler; 3]> = OnceLock::new();
    STYLERS.get_or_init(|| {
        let open =
            |model: vitrine::Result<Model>| Styler::new(model.expect("built-in model"), Backend::Cpu).expect("styler");
        [open(Model::builtin()), open(Model::builtin_arbitrary()), open(Model::builtin_predictor())]
    })
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let [model] = input.take::<1>();
    let [executor] = input.take::<1>();
    let width = u32::from_le_bytes(input.take());
    let height = u32::from_le_bytes(input.take());
    let limits = TileLimits {
        max_buffer: u64::from_le_bytes(input.take()),
        host_budget: u64::from_le_bytes(input.take()),
        tile_budget: u64::from_le_bytes(input.take()),
    };
    let [forced] = input.take::<1>();
    let side = u64::from_le_bytes(input.take());
    let force_tile = (forced % 2 == 1).then_some(side as usize);

    let base = &stylers()[model as usize % 3];
    let model = base.model();
    // Styler::tile_plan takes the styler by value for its limits; the graph and planner are what is fuzzed, so
    // plan through tiling::plan for the custom limits and through the styler for its own defaults.
    let _ = base.tile_plan(width, height);
    let (padded_w, padded_h) = model.padded_size(width, height);
    let executor = if executor % 2 == 0 { ExecutorKind::Cpu } else { ExecutorKind::Gpu };
    if let Ok(plan) =
        tiling::plan(&model.graph, padded_h, padded_w, model.spatial_multiple, executor, limits, force_tile)
    {
        if let Mode::Streamed { tile, tiles, .. } = &plan.mode {
            assert!(*tile > 0 && !tiles.is_empty(), "a streamed plan has tiles");
        }
    }
});
