//! Photos larger than the device's buffers, without seams: tiled runs against whole-image runs of the same
//! photo, on the CPU and the GPU (lavapipe), for a preset and for a style vector.
//!
//! Bar: every tiled mode must match the whole-image run to at least 45 dB PSNR; they differ by float rounding
//! only (the numbers print with `--nocapture`).

use vitrine::tiling::{Mode, StatsPass, TileLimits};
use vitrine::{Backend, Model, Options, StyleSpec, Styler};

mod common;
use common::{backends, psnr_u8 as psnr};

const MIN_PSNR_EXACT_DB: f64 = 45.0;

fn photo(width: u32, height: u32) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/www/samples/coffee.jpg");
    let image = image::open(path).unwrap().resize_exact(width, height, image::imageops::FilterType::Triangle);
    image.to_rgba8().into_raw()
}

fn cases() -> Vec<(&'static str, Model, StyleSpec)> {
    let vector = (0..100).map(|i| ((i * 37 % 17) as f32 - 8.0) / 10.0).collect();
    vec![
        ("preset 19", Model::builtin().unwrap(), StyleSpec::Preset(19)),
        ("style vector", Model::builtin_arbitrary().unwrap(), StyleSpec::Vector(vector)),
    ]
}

#[test]
fn streamed_tiles_match_the_whole_image() {
    let (w, h) = (256, 256);
    let rgba = photo(w, h);
    for backend in backends() {
        for (name, model, style) in cases() {
            let options = Options { style, ..Options::default() };
            let whole = Styler::new(model.clone(), backend).unwrap().stylize(w, h, &rgba, &options).unwrap();
            let mut tiled = Styler::new(model, backend).unwrap().with_tile_size(Some(64)).unwrap();
            let plan = tiled.tile_plan(w, h).unwrap();
            assert!(matches!(plan.mode, Mode::Streamed { ref tiles, .. } if tiles.len() == 16), "{plan:?}");
            let quality = psnr(&whole, &tiled.stylize(w, h, &rgba, &options).unwrap());
            println!("{backend:?} {name}: 16 streamed tiles of 64 px vs whole: {quality:.1} dB");
            assert!(quality >= MIN_PSNR_EXACT_DB, "{backend:?} {name}: {quality} dB");
        }
    }
}

#[test]
fn layered_runs_are_exact_on_the_gpu() {
    if !backends().contains(&Backend::Gpu) {
        return;
    }
    let (w, h) = (192, 160);
    let rgba = photo(w, h);
    for (name, model, style) in cases() {
        let options = Options { style, ..Options::default() };
        let whole = Styler::new(model.clone(), Backend::Gpu).unwrap().stylize(w, h, &rgba, &options).unwrap();
        // A 1 MiB buffer limit cannot hold a whole 32-channel tensor of this photo: convolutions go in bands.
        let limits = TileLimits { max_buffer: 1 << 20, ..TileLimits::default() };
        let mut layered = Styler::new(model, Backend::Gpu).unwrap().with_tile_limits(limits);
        assert_eq!(layered.tile_plan(w, h).unwrap().mode, Mode::Layered);
        let quality = psnr(&whole, &layered.stylize(w, h, &rgba, &options).unwrap());
        println!("GPU {name}: layered in 1 MiB bands vs whole: {quality:.1} dB");
        assert!(quality >= MIN_PSNR_EXACT_DB, "{name}: {quality} dB");
    }
}

/// Beyond the host budget, statistics come from one pass of tiles per norm layer: still the whole image's.
#[test]
fn per_layer_statistics_passes_match_the_whole_image() {
    let (w, h) = (256, 192);
    let rgba = photo(w, h);
    for backend in backends() {
        for (name, model, style) in cases() {
            let options = Options { style, ..Options::default() };
            let whole = Styler::new(model.clone(), backend).unwrap().stylize(w, h, &rgba, &options).unwrap();
            // Neither the whole image's tensors (host) nor its largest tensor (GPU buffer) fit.
            let need = vitrine::tiling::whole_host_bytes(&model.graph, h as usize, w as usize).unwrap();
            let largest = vitrine::tiling::largest_tensor_bytes(&model.graph, h as usize, w as usize).unwrap();
            let limits = TileLimits { max_buffer: largest / 10 * 9, host_budget: need / 3, tile_budget: need };
            let mut streamed = Styler::new(model, backend).unwrap().with_tile_limits(limits);
            let plan = streamed.tile_plan(w, h).unwrap();
            let Mode::Streamed { stats: StatsPass::PerNorm, ref tiles, .. } = plan.mode else { panic!("{plan:?}") };
            let quality = psnr(&whole, &streamed.stylize(w, h, &rgba, &options).unwrap());
            println!(
                "{backend:?} {name}: {} tiles, statistics from a pass per norm layer, vs whole: {quality:.1} dB",
                tiles.len()
            );
            assert!(quality >= MIN_PSNR_EXACT_DB, "{backend:?} {name}: {quality} dB");
        }
    }
}

mod scenes;

/// A product on a studio backdrop is painted on its box with statistics weighted by its matte: tiled, those
/// statistics are the whole box's too, streamed with a layered pass or with a pass per norm layer.
#[test]
fn a_product_on_a_studio_backdrop_tiles_as_it_runs_whole() {
    let scene = scenes::studio_scenes().into_iter().next().unwrap();
    let photo = image::RgbaImage::from_raw(scene.width, scene.height, scene.rgba).unwrap();
    let (w, h) = (256, 256);
    let rgba = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle).into_raw();
    let model = Model::builtin().unwrap();
    let need = vitrine::tiling::whole_host_bytes(&model.graph, h as usize, w as usize).unwrap();
    let largest = vitrine::tiling::largest_tensor_bytes(&model.graph, h as usize, w as usize).unwrap();
    // The product's box is about 40% of the photo. On the CPU a quarter of the photo's host needs streams it with a
    // statistics pass per norm layer; on the GPU buffers of a quarter of the photo's largest tensor make it run
    // layered (convolutions on the GPU in bands, the weighted statistics on the host).
    let small = |max_buffer, host_budget| TileLimits { max_buffer, host_budget, tile_budget: need };
    let options = Options { style: StyleSpec::Preset(7), ..Options::default() };
    for backend in backends() {
        let mut whole = Styler::new(model.clone(), backend).unwrap();
        let reference = whole.stylize_report(w, h, &rgba, &options).unwrap();
        assert_eq!(reference.background.applied, vitrine::Applied::Kept);
        let streamed = Styler::new(model.clone(), backend).unwrap().with_tile_size(Some(64)).unwrap();
        let (name, limits) = match backend {
            Backend::Cpu => ("a statistics pass per norm layer", small(largest / 4, need / 4)),
            Backend::Gpu | Backend::Auto => ("layered", small(largest / 4, need)),
        };
        let limited = Styler::new(model.clone(), backend).unwrap().with_tile_limits(limits);
        for (name, mut tiled) in [("64 px tiles", streamed), (name, limited)] {
            let result = tiled.stylize_report(w, h, &rgba, &options).unwrap();
            assert_eq!(result.background, reference.background);
            let quality = psnr(&reference.rgba, &result.rgba);
            println!("{backend:?} product on white, {name} vs whole: {quality:.1} dB");
            assert!(quality >= MIN_PSNR_EXACT_DB, "{backend:?} {name}: {quality} dB");
        }
    }
}
