//! The backdrop analysis's cost against the network's, on the CPU path: a product on white (the generated studio
//! mug, `tests/scenes`) scaled to SIZE x SIZE, timed as the median of RUNS runs each of
//! - `backdrop::analyse` (the matte, on the whole photo),
//! - the preset network on the whole photo (`cpu::run`, planar in and out),
//! - `Styler::stylize` with `background: paint` and with `auto` (which runs the network on the product's box).
//!
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

fn time(runs: usize, mut run: impl FnMut()) -> f64 {
    run();
    median(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
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
    let analysis_ms = time(runs, || drop(analyse(size, size, &rgba)));

    let model = Model::builtin().expect("the built-in model");
    let params = StyleParams::mix(&model.graph, &StyleSpec::Preset(19).resolve(model.style_count).expect("a preset"));
    let (padded_w, padded_h) = model.padded_size(size, size);
    let input = vitrine::pixels::prepare(&rgba, size as usize, size as usize, padded_w, padded_h);
    let network_ms = time(runs, || drop(cpu::run(&model.graph, input.clone(), &params).expect("the network runs")));

    let mut styler = Styler::new(model, Backend::Cpu).expect("a CPU styler");
    let mut stylize = |background| {
        let options = Options { style: StyleSpec::Preset(19), background, ..Options::default() };
        time(runs, || drop(styler.stylize(size, size, &rgba, &options).expect("stylize")))
    };
    let (paint_ms, auto_ms) = (stylize(Background::Paint), stylize(Background::Auto));
    let line = serde_json::json!({
        "size": size, "runs": runs, "threads": cpu::worker_count(), "product": fraction,
        "analysis_ms": analysis_ms, "network_ms": network_ms, "analysis_share": analysis_ms / network_ms,
        "stylize_paint_ms": paint_ms, "stylize_auto_ms": auto_ms,
    });
    println!("{line}");
}
