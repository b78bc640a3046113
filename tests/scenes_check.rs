//! The test scenes (`tests/scenes/mod.rs`) say what they claim: a true alpha in 0..1 with anti-aliased edges, the
//! hole in the mug's handle and the shadows left as backdrop, products cut where they should be, and the framings
//! carrying one product's pixels unchanged.
#![cfg(feature = "cli")]

mod scenes;

use scenes::{Kind, Scene};

/// The box (x0, y0, x1, y1), ends exclusive, round the pixels whose alpha is above 0.
fn product_box(s: &Scene) -> (usize, usize, usize, usize) {
    let (w, h) = (s.width as usize, s.height as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if s.alpha[y * w + x] > 0.0 {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
        }
    }
    assert!(x0 < x1, "{}: no product", s.name);
    (x0, y0, x1, y1)
}

fn mean_rgb(s: &Scene, x: usize, y: usize) -> f32 {
    let i = (y * s.width as usize + x) * 4;
    s.rgba[i..i + 3].iter().map(|&v| v as f32).sum::<f32>() / 3.0
}

#[test]
fn scenes_are_opaque_photos_with_a_coverage_alpha() {
    let studio = scenes::studio_scenes();
    let mut names = std::collections::HashSet::new();
    for s in studio.iter().chain(&scenes::lifestyle_scenes()).chain(&scenes::framings()) {
        let n = (s.width * s.height) as usize;
        assert!(names.insert(s.name.clone()), "{}: name used twice", s.name);
        assert_eq!(s.rgba.len(), n * 4, "{}", s.name);
        assert_eq!(s.alpha.len(), n, "{}", s.name);
        assert!(s.rgba.chunks_exact(4).all(|p| p[3] == 255), "{}: not opaque", s.name);
        assert!(s.alpha.iter().all(|a| (0.0..=1.0).contains(a)), "{}: alpha outside 0..1", s.name);
        let decoded = image::load_from_memory(&s.jpeg).expect("the scene's JPEG decodes").to_rgba8();
        assert_eq!(decoded.as_raw(), &s.rgba, "{}: rgba is not its JPEG's decoding", s.name);
        if s.kind == Kind::Lifestyle {
            assert!(s.alpha.iter().all(|&a| a == 0.0), "{}: a lifestyle photo has no matte", s.name);
            continue;
        }
        let covered = s.alpha.iter().sum::<f32>() / n as f32;
        let edge = s.alpha.iter().filter(|&&a| a > 0.0 && a < 1.0).count();
        let (x0, y0, x1, y1) = product_box(s);
        assert!(edge > 100, "{}: {edge} partly covered pixels, the edges are not anti-aliased", s.name);
        assert!((0.08..0.65).contains(&covered), "{}: the product covers {covered:.2} of the frame", s.name);
        let touches = x0 == 0 || y0 == 0 || x1 == s.width as usize || y1 == s.height as usize;
        assert_eq!(touches, s.kind == Kind::TouchesFrame, "{}: box {:?}", s.name, (x0, y0, x1, y1));
    }
    let kinds: Vec<Kind> = studio.iter().map(|s| s.kind).collect();
    for k in [Kind::Studio, Kind::WhiteOnWhite, Kind::TouchesFrame] {
        assert!(kinds.contains(&k), "no {k:?} scene");
    }
}

#[test]
fn the_handle_hole_and_the_shadow_are_backdrop() {
    let studio = scenes::studio_scenes();
    let mug = studio.iter().find(|s| s.name == "mug-on-white").expect("mug-on-white");
    assert_eq!(mug.backdrop, [255, 255, 255]);
    let w = mug.width as usize;

    // A row through the handle: the body, a gap of backdrop, the handle.
    let mut widest = (0, 0, 0);
    for y in 0..mug.height as usize {
        let row = &mug.alpha[y * w..(y + 1) * w];
        let Some(body_end) =
            row.iter().position(|&a| a > 0.0).map(|x0| x0 + row[x0..].iter().take_while(|&&a| a > 0.0).count())
        else {
            continue;
        };
        let Some(gap) = row[body_end..].iter().position(|&a| a > 0.0) else { continue };
        if gap > widest.2 {
            widest = (y, body_end, gap);
        }
    }
    let (y, x, gap) = widest;
    assert!(gap >= 20, "no hole in the handle: widest gap {gap} px");
    for i in x..x + gap {
        assert_eq!(mug.alpha[y * w + i], 0.0);
    }
    let middle = mean_rgb(mug, x + gap / 2, y);
    assert!(middle > 248.0, "the hole shows {middle}, not the white backdrop");

    // Below each product standing in the frame: alpha 0, and the backdrop darkened by its shadow.
    for s in studio.iter().filter(|s| s.kind != Kind::TouchesFrame) {
        let w = s.width as usize;
        let (x0, _, x1, _) = product_box(s);
        let cx = (x0 + x1) / 2;
        let foot = (0..s.height as usize).rev().find(|&y| s.alpha[y * w + cx] > 0.0).unwrap();
        let b = s.backdrop.iter().map(|&v| v as f32).sum::<f32>() / 3.0;
        for y in foot + 3..foot + 10 {
            assert_eq!(s.alpha[y * w + cx], 0.0, "{}: shadow pixel with alpha", s.name);
            let v = mean_rgb(s, cx, y);
            assert!(v < 0.92 * b && v > 0.66 * b, "{}: below the product at y {y}: {v} on a backdrop of {b}", s.name);
        }
        // Far from the product, in the frame's middle row, the backdrop is its colour.
        let (edge_x, mid_y) = (2, s.height as usize / 2);
        let v = mean_rgb(s, edge_x, mid_y);
        assert!((v - b).abs() < 0.1 * b, "{}: backdrop {v} at the left edge, expected about {b}", s.name);
    }
}

#[test]
fn framings_carry_the_same_product_pixels() {
    let raw = scenes::framings_before_jpeg();
    let sizes: Vec<(u32, u32)> = raw.iter().map(|s| (s.width, s.height)).collect();
    assert_eq!(sizes, [(400, 420), (500, 500), (1000, 800)]);
    let crop = |s: &Scene| {
        let (x0, y0, x1, y1) = product_box(s);
        let w = s.width as usize;
        let alpha: Vec<f32> = (y0..y1).flat_map(|y| s.alpha[y * w + x0..y * w + x1].to_vec()).collect();
        let rgba: Vec<u8> = (y0..y1).flat_map(|y| s.rgba[(y * w + x0) * 4..(y * w + x1) * 4].to_vec()).collect();
        ((x0, y0, x1 - x0, y1 - y0), alpha, rgba)
    };
    let first = crop(&raw[0]);
    let (_, _, bw, bh) = first.0;
    assert!((290..=310).contains(&bh), "the product is {bh} px tall");
    assert!(bw > 200);
    for s in &raw[1..] {
        let other = crop(s);
        assert_eq!((other.0 .2, other.0 .3), (bw, bh), "{}: product box", s.name);
        assert!(other.1 == first.1, "{}: the alpha differs", s.name);
        assert!(other.2 == first.2, "{}: the product's pixels differ", s.name);
        let (dx, dy) = (other.0 .0 as i64 - first.0 .0 as i64, other.0 .1 as i64 - first.0 .1 as i64);
        assert!(dx % 4 == 0 && dy % 4 == 0, "{}: offset {dx},{dy} is not a multiple of 4", s.name);
    }
    // After the JPEG round trip: the same matte, and pixels near the ones sent.
    for (after, before) in scenes::framings().iter().zip(&raw) {
        assert_eq!(after.name, before.name);
        assert!(after.alpha == before.alpha);
        let worst = after.rgba.iter().zip(&before.rgba).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst < 80, "{}: the JPEG moved a value by {worst}", after.name);
    }
}
