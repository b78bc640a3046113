//! The backdrop analysis and the background modes against generated product photos with exact alpha
//! (`tests/scenes`): cut-outs on white, light grey, a colour and a vignetted sweep, each with a soft shadow and a
//! JPEG round trip; a white product on white; a product cut by the frame; scenes with no plain backdrop.

mod scenes;

use scenes::{Kind, Scene};
use vitrine::backdrop::{analyse, Analysis};
use vitrine::{Applied, Backend, Background, Model, Options, StyleSpec, Styler};

/// Matte IoU at 0.5 and mean absolute alpha error against the scene's true alpha.
fn matte_scores(scene: &Scene, matte: &[u8]) -> (f64, f64) {
    let (mut inter, mut union, mut error) = (0usize, 0usize, 0.0f64);
    for (&m, &a) in matte.iter().zip(&scene.alpha) {
        let (found, truth) = (m >= 128, a >= 0.5);
        inter += usize::from(found && truth);
        union += usize::from(found || truth);
        error += (f64::from(m) / 255.0 - f64::from(a)).abs();
    }
    (inter as f64 / union.max(1) as f64, error / matte.len() as f64)
}

fn matte_of(scene: &Scene) -> Option<Vec<u8>> {
    match analyse(scene.width, scene.height, &scene.rgba) {
        Analysis::Product { matte, .. } => Some(matte.alpha),
        Analysis::Whole { .. } => None,
    }
}

#[test]
fn studio_photos_are_matted_within_the_bars() {
    for scene in scenes::studio_scenes().iter().filter(|s| s.kind != Kind::WhiteOnWhite) {
        let matte = matte_of(scene).unwrap_or_else(|| panic!("{}: no product found", scene.name));
        let (iou, mae) = matte_scores(scene, &matte);
        println!("{}: IoU {iou:.4}, MAE {mae:.4}", scene.name);
        assert!(iou >= 0.97 && mae <= 0.02, "{}: IoU {iou:.4}, MAE {mae:.4}", scene.name);
    }
}

#[test]
fn a_white_product_on_white_is_matted_or_painted_whole() {
    for scene in scenes::studio_scenes().iter().filter(|s| s.kind == Kind::WhiteOnWhite) {
        match matte_of(scene) {
            // Found: then it must be found well, never a matte that leaks into the product.
            Some(matte) => {
                let (iou, mae) = matte_scores(scene, &matte);
                println!("{}: IoU {iou:.4}, MAE {mae:.4}", scene.name);
                assert!(iou >= 0.9 && mae <= 0.03, "{}: IoU {iou:.4}, MAE {mae:.4}", scene.name);
            }
            None => println!("{}: painted whole", scene.name),
        }
    }
}

#[test]
fn photos_without_a_plain_backdrop_are_painted_whole() {
    for scene in scenes::lifestyle_scenes() {
        let analysis = analyse(scene.width, scene.height, &scene.rgba);
        assert!(matches!(analysis, Analysis::Whole { .. }), "{}: {analysis:?}", scene.name);
    }
}

#[test]
fn the_analysis_is_the_same_whatever_the_size_of_the_call() {
    // Deterministic: the same bytes twice (the wasm build is held to the same bytes by the browser tests).
    let scene = &scenes::studio_scenes()[0];
    assert_eq!(matte_of(scene), matte_of(scene));
}

fn styler() -> Styler {
    Styler::new(Model::builtin().unwrap(), Backend::Cpu).unwrap()
}

/// Pixels whose true alpha is 0 and that lie at least `distance` pixels from any product pixel.
fn far_backdrop(scene: &Scene, distance: usize) -> Vec<usize> {
    let (w, h) = (scene.width as usize, scene.height as usize);
    let product: Vec<usize> = (0..w * h).filter(|&i| scene.alpha[i] > 0.0).collect();
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for &i in &product {
        x0 = x0.min(i % w);
        y0 = y0.min(i / w);
        x1 = x1.max(i % w);
        y1 = y1.max(i / w);
    }
    (0..w * h)
        .filter(|&i| {
            let (x, y) = (i % w, i / w);
            x + distance < x0 || x > x1 + distance || y + distance < y0 || y > y1 + distance
        })
        .collect()
}

#[test]
fn each_mode_does_what_it_says_with_the_backdrop() {
    let mut styler = styler();
    let scene = scenes::studio_scenes().into_iter().find(|s| s.kind == Kind::Studio).unwrap();
    let far = far_backdrop(&scene, 8);
    assert!(far.len() > 1000, "{}: too little backdrop to check", scene.name);
    let (w, h) = (scene.width, scene.height);
    let run = |styler: &mut Styler, background| {
        let options = Options { style: StyleSpec::Preset(7), background, ..Options::default() };
        styler.stylize_report(w, h, &scene.rgba, &options).unwrap()
    };
    for mode in [Background::Auto, Background::Keep] {
        let kept = run(&mut styler, mode);
        assert_eq!(kept.background.applied, Applied::Kept);
        let worst = far
            .iter()
            .flat_map(|&i| (0..3).map(move |c| i * 4 + c))
            .map(|k| kept.rgba[k].abs_diff(scene.rgba[k]))
            .max();
        assert!(worst <= Some(2), "{mode}: backdrop moved by {worst:?}");
        let product = kept.background.product.unwrap();
        assert!(product > 0.05 && product < 0.9, "{product}");
    }
    let white = run(&mut styler, Background::White);
    assert_eq!(white.background.applied, Applied::White);
    assert!(far.iter().all(|&i| white.rgba[i * 4..i * 4 + 3] == [255, 255, 255]));
    let cut = run(&mut styler, Background::Transparent);
    assert_eq!(cut.background.applied, Applied::Transparent);
    assert!(far.iter().all(|&i| cut.rgba[i * 4 + 3] == 0));
    let centre = (scene.alpha.iter().enumerate().filter(|(_, &a)| a >= 1.0).map(|(i, _)| i).nth(100)).unwrap();
    assert_eq!(cut.rgba[centre * 4 + 3], 255);
    let painted = run(&mut styler, Background::Paint);
    assert_eq!(painted.background.applied, Applied::Painted);
    let moved = far.iter().filter(|&&i| painted.rgba[i * 4].abs_diff(scene.rgba[i * 4]) > 20).count();
    assert!(moved > far.len() / 2, "painting the whole photo changes the backdrop ({moved} of {})", far.len());
}

#[test]
fn photos_without_a_plain_backdrop_are_painted_as_paint_paints_them() {
    let mut styler = styler();
    for scene in scenes::lifestyle_scenes().into_iter().take(2) {
        let (w, h) = (scene.width, scene.height);
        let auto = styler
            .stylize_report(w, h, &scene.rgba, &Options { style: StyleSpec::Preset(19), ..Options::default() })
            .unwrap();
        assert_eq!(auto.background.applied, Applied::Painted);
        assert!(auto.background.reason.is_some());
        let paint = Options { style: StyleSpec::Preset(19), background: Background::Paint, ..Options::default() };
        assert_eq!(auto.rgba, styler.stylize(w, h, &scene.rgba, &paint).unwrap(), "{}", scene.name);
    }
}

/// PSNR over the pixels where the product's true alpha is 1 in both framings, the framings lined up.
fn product_psnr(a: (&Scene, &[u8]), b: (&Scene, &[u8])) -> f64 {
    let offset = |scene: &Scene| {
        let w = scene.width as usize;
        let first = scene.alpha.iter().position(|&v| v >= 1.0).unwrap();
        let x0 = (0..scene.alpha.len()).filter(|&i| scene.alpha[i] >= 1.0).map(|i| i % w).min().unwrap();
        (x0, first / w)
    };
    let ((ax, ay), (bx, by)) = (offset(a.0), offset(b.0));
    let (aw, bw) = (a.0.width as usize, b.0.width as usize);
    let (mut error, mut n) = (0.0f64, 0usize);
    for (i, &alpha) in a.0.alpha.iter().enumerate() {
        let (x, y) = (i % aw, i / aw);
        if alpha < 1.0 || x < ax || y < ay {
            continue;
        }
        let (bx, by) = (x - ax + bx, y - ay + by);
        if bx >= bw || by >= b.0.height as usize || b.0.alpha[by * bw + bx] < 1.0 {
            continue;
        }
        for c in 0..3 {
            let d = f64::from(a.1[i * 4 + c]) - f64::from(b.1[(by * bw + bx) * 4 + c]);
            error += d * d;
        }
        n += 3;
    }
    10.0 * (255.0f64 * 255.0 / (error / n as f64).max(1e-12)).log10()
}

/// The worst agreement, over every pair of framings, of the product as `background` paints it in `style`.
fn worst_framing_psnr(styler: &mut Styler, framings: &[Scene], style: usize, background: Background) -> f64 {
    let options = Options { style: StyleSpec::Preset(style), background, ..Options::default() };
    let styled: Vec<Vec<u8>> = framings
        .iter()
        .map(|scene| styler.stylize(scene.width, scene.height, &scene.rgba, &options).unwrap())
        .collect();
    [(0, 1), (0, 2), (1, 2)]
        .iter()
        .map(|&(i, j)| product_psnr((&framings[i], &styled[i]), (&framings[j], &styled[j])))
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn one_product_framed_three_ways_is_painted_alike() {
    let mut styler = styler();
    // The same product pixels on three canvases: painted as itself, it comes out the same whatever its framing.
    let exact = scenes::framings_before_jpeg();
    for style in [7, 19] {
        let auto = worst_framing_psnr(&mut styler, &exact, style, Background::Auto);
        let paint = worst_framing_psnr(&mut styler, &exact, style, Background::Paint);
        println!("style {style}, before JPEG: auto {auto:.1} dB, paint {paint:.1} dB");
        assert!(auto >= 30.0, "style {style}: the framings agree at {auto:.1} dB");
    }
    // After JPEG the product's own pixels differ between framings (40 dB: the 8x8 blocks fall differently), and
    // the network passes such noise on (style 19 turns 40.8 dB of it into 21-26 dB on one whole frame); the
    // framings still agree far better than whole frames painted do.
    let jpeg = scenes::framings();
    for style in [7, 19] {
        let auto = worst_framing_psnr(&mut styler, &jpeg, style, Background::Auto);
        let paint = worst_framing_psnr(&mut styler, &jpeg, style, Background::Paint);
        println!("style {style}, JPEG: auto {auto:.1} dB, paint {paint:.1} dB");
        assert!(auto >= paint + 5.0, "style {style}: auto {auto:.1} dB, paint {paint:.1} dB");
    }
}

/// Writes every scene's matte (and what `auto` and `paint` make of it in two looks) to target/backdrop/, to look at:
/// `cargo test --release --test backdrop -- --ignored --nocapture`.
#[test]
#[ignore]
fn write_mattes_and_looks_to_look_at() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/backdrop");
    std::fs::create_dir_all(&out).unwrap();
    let mut styler = styler();
    let all: Vec<Scene> =
        [scenes::studio_scenes(), scenes::lifestyle_scenes(), scenes::framings()].into_iter().flatten().collect();
    for scene in &all {
        let analysis = analyse(scene.width, scene.height, &scene.rgba);
        if let Analysis::Product { matte, .. } = &analysis {
            std::fs::write(
                out.join(format!("{}-matte.png", scene.name)),
                scenes::png_grey(scene.width, scene.height, &matte.alpha),
            )
            .unwrap();
        }
        println!(
            "{}: {}",
            scene.name,
            match &analysis {
                Analysis::Product { fraction, bounds, .. } => format!("product {fraction:.3} {bounds:?}"),
                Analysis::Whole { reason } => reason.message().to_string(),
            }
        );
        for (style, background) in
            [(7, Background::Auto), (7, Background::Paint), (19, Background::Auto), (19, Background::Paint)]
        {
            let options = Options { style: StyleSpec::Preset(style), background, ..Options::default() };
            let rgba = styler.stylize(scene.width, scene.height, &scene.rgba, &options).unwrap();
            let image = image::RgbaImage::from_raw(scene.width, scene.height, rgba).unwrap();
            image.save(out.join(format!("{}-style{style}-{background}.png", scene.name))).unwrap();
        }
    }
}

mod common;

/// The masked run on the GPU (lavapipe) against the CPU oracle, for every mode that paints the product alone.
#[test]
fn the_gpu_paints_a_product_as_the_cpu_does() {
    if !common::gpu_wanted() {
        return;
    }
    let scene = scenes::studio_scenes().into_iter().nth(1).unwrap();
    let mut cpu = styler();
    let mut gpu = Styler::new(Model::builtin().unwrap(), Backend::Gpu).unwrap();
    for background in [Background::Auto, Background::Transparent] {
        let options = Options { style: StyleSpec::Preset(19), background, ..Options::default() };
        let expected = cpu.stylize_report(scene.width, scene.height, &scene.rgba, &options).unwrap();
        let got = gpu.stylize_report(scene.width, scene.height, &scene.rgba, &options).unwrap();
        assert_eq!(got.background, expected.background);
        let quality = common::psnr_u8(&expected.rgba, &got.rgba);
        println!("{background}: GPU vs CPU {quality:.1} dB");
        assert!(quality >= 44.0, "{background}: GPU vs CPU {quality:.1} dB");
    }
}

#[path = "support/studio_card.rs"]
mod studio_card;

/// The matte of the integer-drawn studio card, as every target must make it: `tests/web.rs` holds the wasm build
/// to the same digest.
pub const STUDIO_CARD_MATTE: u64 = 0x0579_38d9_5045_c11f;

#[test]
fn the_matte_is_the_same_bytes_on_every_target() {
    let (w, h, rgba) = studio_card::studio_card();
    let Analysis::Product { matte, .. } = analyse(w, h, &rgba) else { panic!("the studio card has a product") };
    let digest = studio_card::fnv1a(&matte.alpha);
    println!("studio card matte: {digest:#018x}");
    assert_eq!(digest, STUDIO_CARD_MATTE, "the matte changed: update the digest here and in tests/web.rs");
}

#[test]
fn the_studio_card_is_matted_with_its_hole() {
    let (w, h, rgba) = studio_card::studio_card();
    let Analysis::Product { matte, fraction, .. } = analyse(w, h, &rgba) else { panic!("no product") };
    let at = |x: u32, y: u32| matte.alpha[(y * w + x) as usize];
    assert_eq!((at(60, 60), at(96, 52), at(5, 5), at(140, 110)), (255, 0, 0, 0), "product, hole, corners");
    assert!(fraction > 0.2 && fraction < 0.3, "{fraction}");
}
