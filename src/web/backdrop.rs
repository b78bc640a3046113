//! The background modes for JavaScript: the report as the package gives it (the fields of the CLI's `--json`
//! `"background"` record), and the full-size analysis and arithmetic the package needs where it finishes a result
//! at full size without the network. A photo styled at the smaller `maxSize` and scaled back up is composited
//! through the full-size photo's own matte (`composite`), and a composited result is re-blended for strength and
//! true colours against the photo as the mode treats its backdrop (`unpainted`), so a kept backdrop is the photo's
//! own pixels (not an upscaled copy), a white one is exactly 255 and a cut-out keeps its alpha (`cut_out`). Public
//! API only: the analysis is `backdrop::analyse`, and the composite is the core's arithmetic on a whole frame.

use wasm_bindgen::JsValue;

use crate::backdrop::{self, Analysis, Applied, Background, BackgroundReport};

/// `{ mode, applied, product, reason }`: `product` the product's share of the frame (its shortest f32 decimal, as
/// the CLI writes it) or null, `reason` why the photo was painted whole or null.
pub fn report_object(report: &BackgroundReport) -> JsValue {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
    let _ = set("mode", JsValue::from_str(report.mode.name()));
    let _ = set("applied", JsValue::from_str(report.applied.name()));
    let shortest = |v: f32| v.to_string().parse::<f64>().unwrap_or(f64::from(v));
    let _ = set("product", report.product.map_or(JsValue::NULL, |p| JsValue::from_f64(shortest(p))));
    let _ = set("reason", report.reason.map_or(JsValue::NULL, |r| JsValue::from_str(r.name())));
    object.into()
}

/// What a mode does with a product it found (the core's own rule: auto keeps a plain backdrop).
fn applied(mode: Background) -> Applied {
    match mode {
        Background::Auto | Background::Keep => Applied::Kept,
        Background::White => Applied::White,
        Background::Transparent => Applied::Transparent,
        Background::Paint => Applied::Painted,
    }
}

/// The photo's analysis under `mode`: the report `stylize` gives for it, and the product's matte (one byte a pixel)
/// when the backdrop is to be composited, None when the photo is painted whole.
pub fn analysed(width: u32, height: u32, rgba: &[u8], mode: Background) -> (BackgroundReport, Option<Vec<u8>>) {
    let painted = |reason| BackgroundReport { mode, applied: Applied::Painted, product: None, reason };
    if mode == Background::Paint {
        return (painted(None), None);
    }
    match backdrop::analyse(width, height, rgba) {
        Analysis::Product { matte, fraction, .. } => (
            BackgroundReport { mode, applied: applied(mode), product: Some(fraction), reason: None },
            Some(matte.alpha),
        ),
        Analysis::Whole { reason } => (painted(Some(reason)), None),
    }
}

fn blend(over: u8, under: u8, m: u32) -> u8 {
    ((u32::from(over) * m + u32::from(under) * (255 - m) + 127) / 255) as u8
}

/// The painted frame `top` (RGBA8) through `matte` over the photo, as `mode` says: the photo's own backdrop (auto,
/// keep), pure white, or none (the matte as alpha); paint leaves `top` as it is. The arithmetic is the core's
/// composite, over the whole frame.
pub fn composite(original: &[u8], top: &[u8], matte: &[u8], mode: Background) -> Vec<u8> {
    let mut out = top.to_vec();
    if mode == Background::Paint {
        return out;
    }
    for ((px, photo), &m) in out.chunks_exact_mut(4).zip(original.chunks_exact(4)).zip(matte) {
        let m = u32::from(m);
        match mode {
            Background::Auto | Background::Keep => {
                for (value, &under) in px[..3].iter_mut().zip(&photo[..3]) {
                    *value = blend(*value, under, m);
                }
                px[3] = photo[3];
            }
            Background::White => {
                for value in &mut px[..3] {
                    *value = blend(*value, 255, m);
                }
                px[3] = photo[3];
            }
            Background::Transparent => px[3] = ((m * u32::from(photo[3]) + 127) / 255) as u8,
            Background::Paint => {}
        }
    }
    out
}

/// The photo as `mode` treats its backdrop, unpainted: what a composited result fades to at strength 0 (the photo
/// itself, or its backdrop made white through the matte), with the photo's alpha. Strength and true colours are
/// affine in the styled pixel, so re-blending a composited full-strength result against this gives what the core
/// gives at that strength: the product faded as before compositing, the backdrop exactly as the mode makes it.
pub fn unpainted(original: &[u8], matte: &[u8], mode: Background) -> Vec<u8> {
    let mut out = original.to_vec();
    if mode == Background::White {
        for (px, &m) in out.chunks_exact_mut(4).zip(matte) {
            for value in &mut px[..3] {
                *value = blend(*value, 255, u32::from(m));
            }
        }
    }
    out
}

/// A cut-out's alpha: the matte times the photo's own.
pub fn cut_out(finished: &mut [u8], original: &[u8], matte: &[u8]) {
    for ((px, photo), &m) in finished.chunks_exact_mut(4).zip(original.chunks_exact(4)).zip(matte) {
        px[3] = ((u32::from(m) * u32::from(photo[3]) + 127) / 255) as u8;
    }
}
