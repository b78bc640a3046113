//! The backdrop analysis's cost against the network's, on the CPU path: a product on white (the generated studio
//! mug, `tests/scenes`) scaled to SIZE x SIZE, timed as the median of RUNS runs each of
//! - `backdrop::analyse` (the matte, on the whole photo),
//! - the preset network on the whole photo (`cpu::run`, planar in and out),
//! - `Styler::stylize` with `background: paint` and with `auto` (which runs the network on the product's box).
//!
//! The analysis and the network run alternately, run by run, so a change in the machine's load falls on both alike.
//! Prints one JSON line. `cargo bench --bench backdrop -- [--size 1024] [--runs 7]` (`make bench-backdrop`);
//! threads follow `VITRINE_THREADS` as everywhere on the CPU path.

#[path = "../tests/scenes/mod.rs"]
mod scenes;

use std::time::Instant;

use vitrine::backdrop::{analyse, Analysis};
use vitrine::{cpu, Backend, Background, Model, Options, StyleParams, StyleSpec, Styler};

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn millis(run: &mut impl FnMut()) -> f64 {
    let started = Instant::now();
    run();
    started.elapsed().as_secs_f64() * 1000.0
}

/// The medians of `runs` timings of `a` and of `b`, taken in turn after one warm-up run of each.
fn alternate(runs: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    a();
    b();
    let (times_a, times_b) = (0..runs).map(|_| (millis(&mut a), millis(&mut b))).unzip();
    (median(times_a), median(times_b))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (size, runs) = (value("--size", 1024) as u32, value("--runs", 7).max(1));
    let scene = scenes::studio_scenes().into_iter().next().expect("a studio scene");
    let photo = image::RgbaImage::from_raw(scene.width, scene.height, scene.rgba).expect("the scene's pixels");
    let rgba = image::imageops::resize(&photo, size, size, image::imageops::FilterType::Lanczos3).into_raw();

    let fraction = match analyse(size, size, &rgba) {
        Analysis::Product { fraction, .. } => fraction,
        Analysis::Whole { reason } => panic!("the benchmark photo is no studio photo: {}", reason.message()),
    };
    let model = Model::builtin().expect("the built-in model");
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(19).resolve(model.style_count).expect("a preset"));
    let (padded_w, padded_h) = model.padded_size(size, size);
    let input = vitrine::pixels::prepare(&rgba, size as usize, size as usize, padded_w, padded_h);
    let (analysis_ms, network_ms) = alternate(
        runs,
        || drop(analyse(size, size, &rgba)),
        || drop(cpu::run(&model.graph, input.clone(), &params).expect("the network runs")),
    );

    let options = |background| Options { style: StyleSpec::Preset(19), background, ..Options::default() };
    let (paint, auto) = (options(Background::Paint), options(Background::Auto));
    let mut paint_styler = Styler::new(model.clone(), Backend::Cpu).expect("a CPU styler");
    let mut auto_styler = Styler::new(model, Backend::Cpu).expect("a CPU styler");
    let (paint_ms, auto_ms) = alternate(
        runs,
        || drop(paint_styler.stylize(size, size, &rgba, &paint).expect("stylize")),
        || drop(auto_styler.stylize(size, size, &rgba, &auto).expect("stylize")),
    );
    let line = serde_json::json!({
        "size": size, "runs": runs, "threads": cpu::worker_count(), "product": fraction,
        "analysis_ms": analysis_ms, "network_ms": network_ms, "analysis_share": analysis_ms / network_ms,
        "stylize_paint_ms": paint_ms, "stylize_auto_ms": auto_ms,
    });
    println!("{line}");
}
