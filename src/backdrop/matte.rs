//! The analysis itself, on a reduced copy of the photo: the backdrop fitted to the border, a fill from the border
//! through everything backdrop-like (shadows included), the holes a product encloses, then a soft edge at full size
//! from the guided filter (`guided.rs`).

use super::colour::{lab_from_linear, linear_from_bytes, Lab};
use super::guided;
use super::model::BackdropModel;
use super::{Analysis, Bounds, Matte, WholeReason};

/// The analysis runs on a copy whose longer side is at most this: plenty to find a product, and its cost stays a
/// few percent of the network's. The soft edge is then made at full size.
pub(crate) const ANALYSIS_SIDE: usize = 384;
/// Photos with a shorter side than this are painted whole: too small to tell a product from its backdrop.
pub(crate) const MIN_SIDE: u32 = 32;

/// Colour difference (CIE76) within which a pixel passes for the backdrop fitted at its place: this many times the
/// border's own noise (JPEG, sensor, the fit's error), within `NEAR_MIN..NEAR`; a product's colours lie beyond.
const NEAR_NOISE: f32 = 4.0;
const NEAR_MIN: f32 = 3.0;
const NEAR: f32 = 7.0;
/// The border pixels the fit keeps (those within this of the surface) must be this plain, on average.
const INLIER: f32 = 4.0;
/// A shadow darkens the backdrop by up to this much lightness, and scales its chroma with its lightness: each of
/// a* / L and b* / L stays within `SHADOW_TINT` of the backdrop's (a warm off-white face of a box does not).
const SHADOW_DARKER: f32 = 55.0;
const SHADOW_TINT: f32 = 0.025;
/// The fill moves between neighbours that differ by less than this (a shadow's soft gradient, JPEG noise), so it
/// stops at a product's outline even where the product's colour is close to the backdrop's.
const STEP: f32 = 8.0;
/// Into shadow the fill moves only over gentler steps: a grey product's edge against its own shadow is sharper.
const SHADOW_STEP: f32 = 5.0;
/// A hole the product encloses shows the backdrop itself: its median colour difference from the fitted backdrop is
/// within this many times the border's noise (at least `HOLE_MIN`); a pale label is a little further off.
const HOLE_NOISE: f32 = 2.0;
const HOLE_MIN: f32 = 1.0;
/// Each of at least three sides of the border must be this much backdrop (a product may touch one side).
const SIDE_PLAIN: f32 = 0.4;
/// And the border as a whole.
const BORDER_PLAIN: f32 = 0.55;
/// A product smaller than this share of the frame is not one; a "product" larger than this is the whole photo.
const MIN_PRODUCT: f32 = 0.005;
const MAX_PRODUCT: f32 = 0.9;
/// Specks of either kind smaller than this share of the frame are merged into what surrounds them.
const SPECK: f32 = 1.0 / 2000.0;

/// The reduced copy: RGB composited on white (as the network sees a photo with alpha), in 0..1, and its Lab.
pub(crate) struct Reduced {
    pub width: usize,
    pub height: usize,
    /// Full-size pixels per reduced pixel along each side.
    pub scale: usize,
    pub rgb: Vec<[f32; 3]>,
    pub lab: Vec<Lab>,
}

/// Block averages of `scale x scale` pixels (the last row and column of blocks may be partial), composited onto
/// white, summed in integers (255 times each value: exact, and the same on every target).
pub(crate) fn reduce(rgba: &[u8], width: usize, height: usize, scale: usize) -> Reduced {
    let (rw, rh) = (width.div_ceil(scale), height.div_ceil(scale));
    let mut rgb = Vec::with_capacity(rw * rh);
    let mut lab = Vec::with_capacity(rw * rh);
    let mut sums = vec![[0u32; 3]; rw];
    for ry in 0..rh {
        let (y0, y1) = (ry * scale, ((ry + 1) * scale).min(height));
        sums.fill([0; 3]);
        for y in y0..y1 {
            let row = &rgba[y * width * 4..(y + 1) * width * 4];
            for (block, sum) in row.chunks(scale * 4).zip(sums.iter_mut()) {
                for px in block.chunks_exact(4) {
                    let alpha = u32::from(px[3]);
                    let under = 255 * (255 - alpha);
                    for c in 0..3 {
                        sum[c] += u32::from(px[c]) * alpha + under;
                    }
                }
            }
        }
        for (rx, sum) in sums.iter().enumerate() {
            let columns = ((rx + 1) * scale).min(width) - rx * scale;
            let n = (255 * (y1 - y0) * columns) as f32;
            // Means in 0..255.
            let mean = sum.map(|s| s as f32 / n);
            rgb.push(mean.map(|v| v / 255.0));
            lab.push(lab_from_linear(linear_from_bytes(mean.map(|v| v.round().clamp(0.0, 255.0) as u8))));
        }
    }
    Reduced { width: rw, height: rh, scale, rgb, lab }
}

/// Decides whether the photo is a product on a plain backdrop and, if so, mattes the product.
pub(crate) fn analyse(width: u32, height: u32, rgba: &[u8]) -> Analysis {
    let (w, h) = (width as usize, height as usize);
    if width < MIN_SIDE || height < MIN_SIDE || rgba.len() != w * h * 4 {
        return Analysis::Whole { reason: WholeReason::TooSmall };
    }
    let scale = w.max(h).div_ceil(ANALYSIS_SIDE).max(1);
    let reduced = reduce(rgba, w, h, scale);
    let Some((model, noise)) = fit_backdrop(&reduced) else {
        return Analysis::Whole { reason: WholeReason::NotPlain };
    };
    let near = (NEAR_NOISE * noise).clamp(NEAR_MIN, NEAR);
    let field = Field::new(&reduced, &model);
    let mut backdrop = fill(&reduced, &field, near);
    open_holes(&reduced, &field, near, (HOLE_NOISE * noise).max(HOLE_MIN), &mut backdrop);
    let n = backdrop.len();
    let speck = ((n as f32 * SPECK) as usize).max(4);
    merge_specks(&mut backdrop, reduced.width, reduced.height, speck);
    let product = backdrop.iter().filter(|&&b| !b).count() as f32 / n as f32;
    if product < MIN_PRODUCT {
        return Analysis::Whole { reason: WholeReason::NoProduct };
    }
    if product > MAX_PRODUCT {
        return Analysis::Whole { reason: WholeReason::FillsFrame };
    }
    let mask: Vec<f32> = backdrop.iter().map(|&b| if b { 0.0 } else { 1.0 }).collect();
    let alpha = guided::soft_matte(&reduced, &mask, rgba, w, h);
    let Some(bounds) = bounds(&alpha, w) else {
        return Analysis::Whole { reason: WholeReason::NoProduct };
    };
    let covered = alpha.iter().map(|&a| f64::from(a)).sum::<f64>() / (255.0 * (w * h) as f64);
    Analysis::Product { matte: Matte { width, height, alpha }, bounds, fraction: covered as f32 }
}

/// The border ring's pixels, by side (top, bottom, left, right; corners count for both).
fn border(reduced: &Reduced) -> [Vec<usize>; 4] {
    let (w, h) = (reduced.width, reduced.height);
    let ring = (w.min(h) / 64).max(2);
    let mut sides: [Vec<usize>; 4] = Default::default();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if y < ring {
                sides[0].push(i);
            }
            if y >= h - ring {
                sides[1].push(i);
            }
            if x < ring {
                sides[2].push(i);
            }
            if x >= w - ring {
                sides[3].push(i);
            }
        }
    }
    sides
}

/// Fits the backdrop to the border, robustly (a product may touch the frame): from the border's median colour,
/// refitted twice to the pixels near the last fit. `None` when the border is not plain enough; else the model and
/// the border's noise about it (the RMS colour difference of the pixels it fits).
fn fit_backdrop(reduced: &Reduced) -> Option<(BackdropModel, f32)> {
    let (w, h, lab) = (reduced.width, reduced.height, &reduced.lab);
    let sides = border(reduced);
    let mut ring: Vec<usize> = sides.iter().flatten().copied().collect();
    ring.sort_unstable();
    ring.dedup();
    let median = |f: fn(&Lab) -> f32| {
        let mut values: Vec<f32> = ring.iter().map(|&i| f(&lab[i])).collect();
        values.sort_unstable_by(f32::total_cmp);
        values[values.len() / 2]
    };
    let start = Lab { l: median(|p| p.l), a: median(|p| p.a), b: median(|p| p.b) };
    let mut model = BackdropModel::constant(start, w, h);
    let residual = |model: &BackdropModel, i: usize| lab[i].distance(model.at(i % w, i / w));
    for tolerance in [2.0 * NEAR, NEAR, INLIER] {
        let inliers: Vec<usize> = ring.iter().copied().filter(|&i| residual(&model, i) < tolerance).collect();
        model = BackdropModel::fit(lab, w, h, &inliers)?;
    }
    let plain = |pixels: &[usize]| {
        pixels.iter().filter(|&&i| residual(&model, i) < INLIER).count() as f32 / pixels.len().max(1) as f32
    };
    let plain_sides = sides.iter().filter(|side| plain(side) >= SIDE_PLAIN).count();
    let fitted: Vec<f32> = ring.iter().map(|&i| residual(&model, i)).filter(|&d| d < INLIER).collect();
    let noise = (fitted.iter().map(|d| d * d).sum::<f32>() / fitted.len().max(1) as f32).sqrt();
    (plain_sides >= 3 && plain(&ring) >= BORDER_PLAIN).then_some((model, noise))
}

/// Whether a pixel could be a shadow cast on the backdrop: darker, its chroma the backdrop's scaled down with its
/// lightness (a shadow takes light away; it does not tint).
fn shadow_like(p: Lab, backdrop: Lab) -> bool {
    let darker = backdrop.l - p.l;
    if !(darker > 0.0 && darker <= SHADOW_DARKER) || p.l < 1.0 || backdrop.l < 1.0 {
        return false;
    }
    let (da, db) = (p.a / p.l - backdrop.a / backdrop.l, p.b / p.l - backdrop.b / backdrop.l);
    (da * da + db * db).sqrt() < SHADOW_TINT
}

/// Each reduced pixel against the fitted backdrop: its colour difference, and whether it could be a shadow.
struct Field {
    distance: Vec<f32>,
    shadow: Vec<bool>,
}

impl Field {
    fn new(reduced: &Reduced, model: &BackdropModel) -> Self {
        let surface = model.surface();
        let distance = reduced.lab.iter().zip(&surface).map(|(p, b)| p.distance(*b)).collect();
        let shadow = reduced.lab.iter().zip(&surface).map(|(p, b)| shadow_like(*p, *b)).collect();
        Field { distance, shadow }
    }
}

/// The backdrop as everything reached from the border through backdrop-like pixels over gentle steps.
fn fill(reduced: &Reduced, field: &Field, tolerance: f32) -> Vec<bool> {
    let (w, h, lab) = (reduced.width, reduced.height, &reduced.lab);
    let near = |i: usize| field.distance[i] < tolerance;
    let squared = |p: Lab, q: Lab| (p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b);
    let mut reached = vec![false; w * h];
    let mut stack: Vec<usize> = Vec::new();
    for (x, y) in (0..w).flat_map(|x| [(x, 0), (x, h - 1)]).chain((0..h).flat_map(|y| [(0, y), (w - 1, y)])) {
        let i = y * w + x;
        if !reached[i] && near(i) {
            reached[i] = true;
            stack.push(i);
        }
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let neighbours =
            [(x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1), (y > 0).then(|| i - w), (y + 1 < h).then(|| i + w)];
        for j in neighbours.into_iter().flatten() {
            if reached[j] || !(near(j) || field.shadow[j]) {
                continue;
            }
            let step = squared(lab[i], lab[j]);
            if (near(j) && step < STEP * STEP) || (field.shadow[j] && step < SHADOW_STEP * SHADOW_STEP) {
                reached[j] = true;
                stack.push(j);
            }
        }
    }
    reached
}

/// Connected regions (4-neighbours) of pixels where `inside` holds, each as its pixel indices.
fn regions(w: usize, h: usize, inside: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut seen = vec![false; w * h];
    let mut found = Vec::new();
    for start in 0..w * h {
        if seen[start] || !inside(start) {
            continue;
        }
        seen[start] = true;
        let (mut region, mut stack) = (Vec::new(), vec![start]);
        while let Some(i) = stack.pop() {
            region.push(i);
            let (x, y) = (i % w, i / w);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in neighbours.into_iter().flatten() {
                if !seen[j] && inside(j) {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        found.push(region);
    }
    found
}

/// Regions the product encloses that show the backdrop itself (a mug's handle): plain, the fitted colour.
fn open_holes(reduced: &Reduced, field: &Field, tolerance: f32, plain: f32, backdrop: &mut [bool]) {
    let (w, h) = (reduced.width, reduced.height);
    let distance = |i: usize| field.distance[i];
    let min_area = ((w * h) as f32 * SPECK * 2.0) as usize;
    for hole in regions(w, h, |i| !backdrop[i] && distance(i) < tolerance) {
        if hole.len() < min_area.max(9) {
            continue;
        }
        let mut distances: Vec<f32> = hole.iter().map(|&i| distance(i)).collect();
        distances.sort_unstable_by(f32::total_cmp);
        if distances[distances.len() / 2] < plain {
            hole.iter().for_each(|&i| backdrop[i] = true);
        }
    }
}

/// Small islands of product in the backdrop and of backdrop in the product go to what surrounds them.
fn merge_specks(backdrop: &mut [bool], w: usize, h: usize, speck: usize) {
    for kind in [false, true] {
        let snapshot = backdrop.to_vec();
        for region in regions(w, h, |i| snapshot[i] == kind) {
            // A backdrop region touching the border is the backdrop, whatever its size.
            let on_border = region.iter().any(|&i| i % w == 0 || i % w == w - 1 || i / w == 0 || i / w == h - 1);
            if region.len() < speck && !(kind && on_border) {
                region.iter().for_each(|&i| backdrop[i] = !kind);
            }
        }
    }
}

/// The smallest box holding every pixel of the matte above 0.
fn bounds(alpha: &[u8], w: usize) -> Option<Bounds> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, _) in alpha.iter().enumerate().filter(|(_, &a)| a > 0) {
        let (x, y) = (i % w, i / w);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    (x0 <= x1).then(|| Bounds { x: x0 as u32, y: y0 as u32, width: (x1 - x0 + 1) as u32, height: (y1 - y0 + 1) as u32 })
}
