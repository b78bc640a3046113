//! The contact sheet: the photo once as it is and once in every preset style, each tile labelled with the style's
//! number and name, so a seller can pick a look at a glance.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::{Rgba, RgbaImage};
use vitrine::{Background, Options, StyleSpec, Styler};

use crate::failure::Failure;

const GAP: u32 = 8;
const GLYPH: u32 = 8;
const BACKGROUND: Rgba<u8> = Rgba([255, 255, 255, 255]);
const INK: Rgba<u8> = Rgba([40, 40, 40, 255]);

pub fn render(
    styler: &mut Styler,
    photo: &RgbaImage,
    columns: u32,
    background: Background,
) -> Result<RgbaImage, Failure> {
    let names = vitrine::model::style_names();
    let (tw, th) = photo.dimensions();
    // Letters twice their 8 px size where a typical label fits, else at 8 px.
    let scale = if tw >= 2 * GLYPH * 16 { 2 } else { 1 };
    let label_h = GLYPH * scale + GAP;
    let count = styler.model().style_count as u32 + 1;
    let rows = count.div_ceil(columns);
    let mut sheet = RgbaImage::from_pixel(columns * (tw + GAP) + GAP, rows * (th + label_h + GAP) + GAP, BACKGROUND);
    for n in 0..count {
        let (tile, label) = if n == 0 {
            (photo.clone(), "original".to_string())
        } else {
            let index = (n - 1) as usize;
            let options = Options { style: StyleSpec::Preset(index), background, ..Options::default() };
            let styled = styler.stylize(tw, th, photo.as_raw(), &options)?;
            let tile = RgbaImage::from_raw(tw, th, styled)
                .ok_or_else(|| Failure::input("the styled tile has the wrong size"))?;
            let name = names.get(index).map(String::as_str).unwrap_or("");
            (tile, format!("{index} {name}"))
        };
        let (x, y) = (GAP + (n % columns) * (tw + GAP), GAP + (n / columns) * (th + label_h + GAP));
        image::imageops::overlay(&mut sheet, &flatten(&tile), x as i64, y as i64);
        draw_text(&mut sheet, &fit_label(&label, tw / (GLYPH * scale)), x, y + th + GAP / 2, scale);
    }
    Ok(sheet)
}

/// Transparent parts of a photo shown on the sheet's white, so tiles read the same as the page behind them.
fn flatten(tile: &RgbaImage) -> RgbaImage {
    let mut out = RgbaImage::from_pixel(tile.width(), tile.height(), BACKGROUND);
    image::imageops::overlay(&mut out, tile, 0, 0);
    out
}

fn fit_label(label: &str, max_chars: u32) -> String {
    let max = max_chars as usize;
    if label.chars().count() <= max {
        return label.to_string();
    }
    let kept: String = label.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}.")
}

fn draw_text(sheet: &mut RgbaImage, text: &str, x: u32, y: u32, scale: u32) {
    for (i, ch) in text.chars().enumerate() {
        let Some(glyph) = BASIC_FONTS.get(ch).or_else(|| BASIC_FONTS.get('?')) else { continue };
        let left = x + i as u32 * GLYPH * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..GLYPH {
                if bits & (1 << col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (left + col * scale + dx, y + row as u32 * scale + dy);
                        if px < sheet.width() && py < sheet.height() {
                            sheet.put_pixel(px, py, INK);
                        }
                    }
                }
            }
        }
    }
}
