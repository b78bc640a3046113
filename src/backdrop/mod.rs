//! Product photos on a plain studio backdrop: whether a photo is one, the product's soft matte, and the modes that
//! say what becomes of the backdrop once the product is painted.
//!
//! The analysis (`matte.rs`) works on a reduced copy: the backdrop's colour fitted to the border as a smooth surface
//! (`model.rs`, so gradients and vignettes are plain too), a fill from the border through pixels near that colour in
//! CIELAB (`colour.rs`), and through shadows (darker, same hue) over gentle steps only, the holes a product encloses
//! (a mug's handle), then a soft edge at full size from the guided filter (`guided.rs`). It is plain f32 arithmetic
//! with `libm` for the transcendental functions, so every target gives the same matte bytes.
//!
//! `Styler` runs the network on the product's box with each instance norm's statistics weighted by the matte
//! (`cpu::NormWeights`), then composites the painted product through the matte (`composite`).

mod colour;
mod guided;
mod matte;
mod model;

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// What becomes of a photo's backdrop (the CLI's `--background`, the package's and the element's `background`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Background {
    /// Keep a plain studio backdrop as photographed and paint the product; paint any other photo whole.
    #[default]
    Auto,
    /// The backdrop as photographed, shadows included (the whole photo painted where no plain backdrop is found).
    Keep,
    /// The backdrop and its shadows pure white (#FFFFFF), as marketplaces ask of main images.
    White,
    /// The painted product cut out: the matte becomes the alpha channel.
    Transparent,
    /// The whole photo painted, backdrop included.
    Paint,
}

impl Background {
    pub const ALL: [Background; 5] =
        [Background::Auto, Background::Keep, Background::White, Background::Transparent, Background::Paint];

    pub fn name(self) -> &'static str {
        match self {
            Background::Auto => "auto",
            Background::Keep => "keep",
            Background::White => "white",
            Background::Transparent => "transparent",
            Background::Paint => "paint",
        }
    }

    /// What this mode makes of a product that was found.
    fn applied(self) -> Applied {
        match self {
            Background::Auto | Background::Keep => Applied::Kept,
            Background::White => Applied::White,
            Background::Transparent => Applied::Transparent,
            Background::Paint => Applied::Painted,
        }
    }
}

impl fmt::Display for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Background {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Background::ALL
            .into_iter()
            .find(|mode| mode.name() == s)
            .ok_or_else(|| Error::BackgroundMode { given: s.into() })
    }
}

/// What was done with the backdrop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Applied {
    /// The whole photo painted (asked for, or no plain backdrop found).
    Painted,
    /// The backdrop kept as photographed.
    Kept,
    /// The backdrop made pure white.
    White,
    /// The backdrop made transparent.
    Transparent,
}

impl Applied {
    pub fn name(self) -> &'static str {
        match self {
            Applied::Painted => "painted",
            Applied::Kept => "kept",
            Applied::White => "white",
            Applied::Transparent => "transparent",
        }
    }
}

/// What `Styler::stylize_report` did with the backdrop, for the CLI's `--json` and the package's results.
#[derive(Clone, Debug, PartialEq)]
pub struct BackgroundReport {
    /// The mode asked for.
    pub mode: Background,
    pub applied: Applied,
    /// The product's share of the frame (the matte's mean), when a product on a plain backdrop was found.
    pub product: Option<f32>,
    /// Why the whole photo was painted when the mode asked otherwise.
    pub reason: Option<WholeReason>,
}

/// A product's soft matte: 255 product, 0 backdrop, one byte per pixel of the photo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matte {
    pub width: u32,
    pub height: u32,
    pub alpha: Vec<u8>,
}

/// A box in a photo, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Why a photo is painted whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WholeReason {
    /// Smaller than the analysis can judge.
    TooSmall,
    /// The border is not a plain backdrop (a scene, a pattern, a busy edge).
    NotPlain,
    /// Nothing stands out from the backdrop (an empty backdrop, or a product of the backdrop's own colour).
    NoProduct,
    /// The product fills the frame: there is hardly any backdrop to keep.
    FillsFrame,
}

impl WholeReason {
    /// A short code for reports.
    pub fn name(self) -> &'static str {
        match self {
            WholeReason::TooSmall => "too-small",
            WholeReason::NotPlain => "no-plain-backdrop",
            WholeReason::NoProduct => "no-product-found",
            WholeReason::FillsFrame => "product-fills-frame",
        }
    }

    /// What a person reads.
    pub fn message(self) -> &'static str {
        match self {
            WholeReason::TooSmall => "the photo is too small to tell a product from its backdrop, so it was painted whole",
            WholeReason::NotPlain => "the photo has no plain studio backdrop, so it was painted whole",
            WholeReason::NoProduct => {
                "nothing stands out from the plain backdrop (a product of the backdrop's own colour?), so the photo was painted whole"
            }
            WholeReason::FillsFrame => "the product fills the frame, so the photo was painted whole",
        }
    }
}

/// The result of the analysis: a product on a plain backdrop, or a photo to paint whole.
#[derive(Clone, Debug, PartialEq)]
pub enum Analysis {
    Product {
        matte: Matte,
        /// The smallest box holding the whole matte.
        bounds: Bounds,
        /// The product's share of the frame.
        fraction: f32,
    },
    Whole {
        reason: WholeReason,
    },
}

/// Decides whether an RGBA8 photo is a product on a plain studio backdrop and, if so, mattes the product.
pub fn analyse(width: u32, height: u32, rgba: &[u8]) -> Analysis {
    matte::analyse(width, height, rgba)
}

/// The report for a photo painted whole under `mode`.
pub(crate) fn painted(mode: Background, reason: Option<WholeReason>) -> BackgroundReport {
    BackgroundReport { mode, applied: Applied::Painted, product: None, reason }
}

/// The report for a product found and composited under `mode`.
pub(crate) fn composited(mode: Background, fraction: f32) -> BackgroundReport {
    BackgroundReport { mode, applied: mode.applied(), product: Some(fraction), reason: None }
}

/// Where the network runs: a box around the product, centred on the matte's centre of mass so that one product
/// framed in different ways lands on the same grid (the network's strided convolutions then see it alike), with a
/// margin for context at its edges. It may reach past the frame, where the photo is mirrored (`crop_mirrored`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NetworkBox {
    pub x: i64,
    pub y: i64,
    pub width: u32,
    pub height: u32,
}

/// The network's box for a product: sides multiples of `multiple` and at least `min_side`, never much larger than
/// the frame.
pub(crate) fn network_box(matte: &Matte, bounds: Bounds, min_side: u32, multiple: u32) -> NetworkBox {
    let (w, h) = (matte.width as usize, matte.height as usize);
    let (mut sum, mut sum_x, mut sum_y) = (0u64, 0u64, 0u64);
    for (i, &a) in matte.alpha.iter().enumerate() {
        sum += u64::from(a);
        sum_x += u64::from(a) * (i % w) as u64;
        sum_y += u64::from(a) * (i / w) as u64;
    }
    let centre = |s: u64| if sum == 0 { 0 } else { ((s as f64 / sum as f64).round()) as i64 };
    let margin = i64::from((bounds.width.max(bounds.height) / 12).max(8));
    // Sides are multiples of twice the stride product, so the box's corner lies on the product's grid (its centre
    // less half a side, itself a multiple of the stride product) however large the margin made it.
    let grid = 2 * u64::from(multiple);
    let round_up = |v: i64| (v.max(1) as u64).div_ceil(grid) as i64 * grid as i64;
    let span = |centre: i64, start: u32, length: u32, frame: usize| {
        let half = (centre - i64::from(start)).max(i64::from(start) + i64::from(length) - centre) + margin;
        let side = round_up(2 * half).max(round_up(i64::from(min_side))).min(round_up(frame as i64 + 2 * margin));
        (centre - side / 2, side as u32)
    };
    let (x, width) = span(centre(sum_x), bounds.x, bounds.width, w);
    let (y, height) = span(centre(sum_y), bounds.y, bounds.height, h);
    NetworkBox { x, y, width, height }
}

/// The index `i` (maybe outside `0..n`) mirrored into `0..n`, as reflect padding does, repeatedly if need be.
fn mirror(i: i64, n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n as i64 - 1);
    let m = i.rem_euclid(period);
    (if m < n as i64 { m } else { period - m }) as usize
}

/// The pixels of `area` from a `width x height` image of `channels` bytes a pixel, mirrored where it leaves the
/// image.
pub(crate) fn crop_mirrored(pixels: &[u8], width: u32, height: u32, channels: usize, area: NetworkBox) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut out = Vec::with_capacity(area.width as usize * area.height as usize * channels);
    let columns: Vec<usize> = (0..i64::from(area.width)).map(|x| mirror(area.x + x, w)).collect();
    for y in 0..i64::from(area.height) {
        let row = mirror(area.y + y, h) * w;
        for &x in &columns {
            out.extend_from_slice(&pixels[(row + x) * channels..][..channels]);
        }
    }
    out
}

/// The painted product (`styled`, RGBA8 of `area`) through the matte over the photo, as `mode` says: the photo's
/// own backdrop (`Keep`, `Auto`), pure white (`White`), or none, the matte as alpha (`Transparent`).
pub(crate) fn composite(original: &[u8], matte: &Matte, area: NetworkBox, styled: &[u8], mode: Background) -> Vec<u8> {
    let (width, height) = (matte.width as usize, matte.height as usize);
    let mut out = original.to_vec();
    // Outside the network's box the matte is 0: only the backdrop's treatment applies there.
    match mode {
        Background::White => out.chunks_exact_mut(4).for_each(|px| px[..3].fill(255)),
        Background::Transparent => out.chunks_exact_mut(4).for_each(|px| px.copy_from_slice(&[255, 255, 255, 0])),
        Background::Auto | Background::Keep | Background::Paint => {}
    }
    let blend = |top: u8, under: u8, m: u32| ((u32::from(top) * m + u32::from(under) * (255 - m) + 127) / 255) as u8;
    let inside = |start: i64, length: u32, limit: usize| {
        (start.max(0) as usize)..((start + i64::from(length)).clamp(0, limit as i64) as usize)
    };
    for y in inside(area.y, area.height, height) {
        for x in inside(area.x, area.width, width) {
            let i = y * width + x;
            let m = u32::from(matte.alpha[i]);
            let at = (y as i64 - area.y) as usize * area.width as usize + (x as i64 - area.x) as usize;
            let top = &styled[at * 4..][..4];
            let px = &mut out[i * 4..][..4];
            let photo = &original[i * 4..][..4];
            match mode {
                Background::Auto | Background::Keep | Background::Paint => {
                    for c in 0..3 {
                        px[c] = blend(top[c], photo[c], m);
                    }
                }
                Background::White => {
                    for c in 0..3 {
                        px[c] = blend(top[c], 255, m);
                    }
                }
                Background::Transparent => {
                    px[..3].copy_from_slice(&top[..3]);
                    px[3] = ((m * u32::from(photo[3]) + 127) / 255) as u8;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_back_by_name_and_a_wrong_one_says_which_exist() {
        for mode in Background::ALL {
            assert_eq!(mode.name().parse::<Background>().unwrap(), mode);
        }
        let error = "grey".parse::<Background>().unwrap_err().to_string();
        assert!(error.contains("grey") && error.contains("transparent"), "{error}");
    }

    #[test]
    fn the_network_box_is_centred_on_the_product_on_the_stride_grid() {
        let (w, h) = (400u32, 300u32);
        let mut alpha = vec![0u8; (w * h) as usize];
        for y in 100..160 {
            for x in 50..130 {
                alpha[(y * w + x) as usize] = 255;
            }
        }
        let matte = Matte { width: w, height: h, alpha };
        let bounds = Bounds { x: 50, y: 100, width: 80, height: 60 };
        let area = network_box(&matte, bounds, 16, 4);
        assert_eq!(area.width % 4, 0);
        assert_eq!(area.height % 4, 0);
        assert!(area.x <= 50 - 8 && area.x + i64::from(area.width) >= 130 + 8, "{area:?}");
        // Shifting the product shifts the box by as much.
        let shifted: Vec<u8> =
            (0..(w * h) as usize).map(|i| if i % w as usize >= 3 { matte.alpha[i - 3] } else { 0 }).collect();
        let moved = network_box(&Matte { alpha: shifted, ..matte.clone() }, Bounds { x: 53, ..bounds }, 16, 4);
        assert_eq!((moved.x, moved.y, moved.width, moved.height), (area.x + 3, area.y, area.width, area.height));
    }

    #[test]
    fn a_box_past_the_frame_is_mirrored() {
        let pixels: Vec<u8> = (0..4).collect();
        let area = NetworkBox { x: -2, y: 0, width: 8, height: 1 };
        assert_eq!(crop_mirrored(&pixels, 4, 1, 1, area), vec![2, 1, 0, 1, 2, 3, 2, 1]);
    }

    #[test]
    fn compositing_keeps_whitens_or_cuts_out_the_backdrop() {
        let original: Vec<u8> = [[10, 20, 30, 255], [200, 200, 200, 255], [250, 250, 250, 255]].concat();
        let matte = Matte { width: 3, height: 1, alpha: vec![255, 128, 0] };
        let region = NetworkBox { x: 0, y: 0, width: 2, height: 1 };
        let styled: Vec<u8> = [[90, 0, 0, 255], [0, 90, 0, 255]].concat();
        let keep = composite(&original, &matte, region, &styled, Background::Keep);
        assert_eq!(keep, [[90, 0, 0, 255], [100, 145, 100, 255], [250, 250, 250, 255]].concat());
        let white = composite(&original, &matte, region, &styled, Background::White);
        assert_eq!(white, [[90, 0, 0, 255], [127, 172, 127, 255], [255, 255, 255, 255]].concat());
        let cut = composite(&original, &matte, region, &styled, Background::Transparent);
        assert_eq!(cut, [[90, 0, 0, 255], [0, 90, 0, 128], [255, 255, 255, 0]].concat());
    }
}
