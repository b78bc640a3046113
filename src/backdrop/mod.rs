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
        Background::ALL.into_iter().find(|mode| mode.name() == s).ok_or_else(|| Error::BackgroundMode { given: s.into() })
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

/// The part of the photo the network runs on: the product's box with a margin (context for its edges), at least
/// `min_side` a side, within the photo.
pub(crate) fn network_box(bounds: Bounds, width: u32, height: u32, min_side: u32) -> Bounds {
    let margin = (bounds.width.max(bounds.height) / 12).max(8);
    let span = |start: u32, length: u32, limit: u32| {
        let (mut lo, mut hi) = (start.saturating_sub(margin), (start + length + margin).min(limit));
        // Widen a box smaller than the network takes, on whichever side has room.
        while hi - lo < min_side.min(limit) {
            if lo > 0 {
                lo -= 1;
            }
            if hi < limit {
                hi += 1;
            }
        }
        (lo, hi - lo)
    };
    let (x, w) = span(bounds.x, bounds.width, width);
    let (y, h) = span(bounds.y, bounds.height, height);
    Bounds { x, y, width: w, height: h }
}

/// Copies the part `region` of an RGBA8 photo.
pub(crate) fn crop_rgba(rgba: &[u8], width: u32, region: Bounds) -> Vec<u8> {
    let (w, x, rw) = (width as usize, region.x as usize, region.width as usize);
    let mut out = Vec::with_capacity(rw * region.height as usize * 4);
    for y in region.y as usize..(region.y + region.height) as usize {
        out.extend_from_slice(&rgba[(y * w + x) * 4..][..rw * 4]);
    }
    out
}

/// The painted product (`styled`, RGBA8 of `region`) through the matte over the photo, as `mode` says: the photo's
/// own backdrop (`Keep`, `Auto`), pure white (`White`), or none, the matte as alpha (`Transparent`).
pub(crate) fn composite(original: &[u8], matte: &Matte, region: Bounds, styled: &[u8], mode: Background) -> Vec<u8> {
    let width = matte.width as usize;
    let mut out = original.to_vec();
    // Outside the product's box the matte is 0: only the backdrop's treatment applies there.
    match mode {
        Background::White => out.chunks_exact_mut(4).for_each(|px| px[..3].fill(255)),
        Background::Transparent => out.chunks_exact_mut(4).for_each(|px| px.copy_from_slice(&[255, 255, 255, 0])),
        Background::Auto | Background::Keep | Background::Paint => {}
    }
    let blend = |top: u8, under: u8, m: u32| ((u32::from(top) * m + u32::from(under) * (255 - m) + 127) / 255) as u8;
    for ry in 0..region.height as usize {
        let y = region.y as usize + ry;
        for rx in 0..region.width as usize {
            let x = region.x as usize + rx;
            let i = y * width + x;
            let m = u32::from(matte.alpha[i]);
            let top = &styled[(ry * region.width as usize + rx) * 4..][..4];
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
    fn the_network_box_has_a_margin_and_stays_in_the_photo() {
        let inner = Bounds { x: 100, y: 50, width: 120, height: 240 };
        assert_eq!(network_box(inner, 400, 400, 16), Bounds { x: 80, y: 30, width: 160, height: 280 });
        let corner = Bounds { x: 0, y: 390, width: 4, height: 10 };
        let grown = network_box(corner, 400, 400, 64);
        assert!(grown.x == 0 && grown.y + grown.height == 400 && grown.width >= 64 && grown.height >= 64, "{grown:?}");
    }

    #[test]
    fn compositing_keeps_whitens_or_cuts_out_the_backdrop() {
        let original: Vec<u8> = [[10, 20, 30, 255], [200, 200, 200, 255], [250, 250, 250, 255]].concat();
        let matte = Matte { width: 3, height: 1, alpha: vec![255, 128, 0] };
        let region = Bounds { x: 0, y: 0, width: 2, height: 1 };
        let styled: Vec<u8> = [[90, 0, 0, 255], [0, 90, 0, 255]].concat();
        let keep = composite(&original, &matte, region, &styled, Background::Keep);
        assert_eq!(keep, [[90, 0, 0, 255], [100, 145, 100, 255], [250, 250, 250, 255]].concat());
        let white = composite(&original, &matte, region, &styled, Background::White);
        assert_eq!(white, [[90, 0, 0, 255], [127, 172, 127, 255], [255, 255, 255, 255]].concat());
        let cut = composite(&original, &matte, region, &styled, Background::Transparent);
        assert_eq!(cut, [[90, 0, 0, 255], [0, 90, 0, 128], [255, 255, 255, 0]].concat());
    }
}
