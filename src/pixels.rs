//! Pixels in, pixels out: RGBA8 to the network's planar input and back, and everything done to the result that is
//! not the network: cropping the padding off, keeping the photo's colours, the strength blend and the alpha channel.
//! The CLI, the web API and the tests all go through here.

use crate::graph::{Shape, Tensor};

/// Bytes per RGBA8 pixel.
pub(crate) const RGBA: usize = 4;

/// The longer side a photo is scaled down to when the caller names none: the CLI's `--max-size`, the package's
/// `maxSize` and the element's `max-size` (the element's eager copy is held to this by `www/lib/build.mjs`).
pub const DEFAULT_MAX_SIZE: u32 = 1024;

/// The size an image is styled at when its longer side may be at most `max_side` (0: no bound): scaled down to fit
/// with its aspect kept, never scaled up.
pub fn working_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longer = width.max(height);
    if max_side == 0 || longer <= max_side {
        return (width, height);
    }
    let scale = max_side as f64 / longer as f64;
    let side = |v: u32| ((v as f64 * scale).round() as u32).clamp(1, max_side);
    (side(width), side(height))
}

/// The network's input: RGB in 0..1, planar, reflect-padded on the right and bottom to `padded_w x padded_h`.
/// Transparent pixels are composited onto white first, so whatever colour hides under alpha 0 cannot skew the
/// network's instance-norm statistics; the alpha comes back unchanged in `finish`.
pub fn prepare(rgba: &[u8], width: usize, height: usize, padded_w: usize, padded_h: usize) -> Tensor {
    let mut input = Tensor::zeros(Shape::new(3, padded_h, padded_w));
    let plane = padded_w * padded_h;
    let mirror = |i: usize, n: usize| if i < n { i } else { 2 * (n - 1) - i };
    for y in 0..padded_h {
        let sy = mirror(y, height);
        for x in 0..padded_w {
            let px = &rgba[(sy * width + mirror(x, width)) * RGBA..][..RGBA];
            let alpha = px[3] as f32 / 255.0;
            for (c, &value) in px[..3].iter().enumerate() {
                input.data[c * plane + y * padded_w + x] = value as f32 / 255.0 * alpha + (1.0 - alpha);
            }
        }
    }
    input
}

/// The style predictor's input from a picture: composited onto white, the centred square cut out, resampled to
/// `side x side` with Lanczos-3 (as the reference implementation prepares style pictures), planar RGB in 0..1.
pub(crate) fn prepare_style_picture(rgba: &[u8], width: usize, height: usize, side: usize) -> Tensor {
    let square = width.min(height);
    let (left, top) = ((width - square) / 2, (height - square) / 2);
    let mut cropped = image::RgbImage::new(square as u32, square as u32);
    for (x, y, pixel) in cropped.enumerate_pixels_mut() {
        let px = &rgba[((top + y as usize) * width + left + x as usize) * RGBA..][..RGBA];
        let alpha = px[3] as f32 / 255.0;
        // Compositing in 0..255 keeps an opaque picture's bytes exactly as they are.
        pixel.0 = std::array::from_fn(|c| (px[c] as f32 * alpha + 255.0 * (1.0 - alpha)).round() as u8);
    }
    let resized = if square == side {
        cropped
    } else {
        image::imageops::resize(&cropped, side as u32, side as u32, image::imageops::FilterType::Lanczos3)
    };
    let plane = side * side;
    let mut input = Tensor::zeros(Shape::new(3, side, side));
    for (i, pixel) in resized.pixels().enumerate() {
        for c in 0..3 {
            input.data[c * plane + i] = pixel.0[c] as f32 / 255.0;
        }
    }
    input
}

/// What to do with the network's output before it is returned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Finish {
    /// 1 is the full style, 0 the untouched photo.
    pub strength: f32,
    /// Take the brightness from the styled image and the colour from the photo.
    pub preserve_color: bool,
}

/// Crops the network's output back to `width x height` and applies `finish`, returning RGBA8 with the
/// original alpha.
pub fn finish(stylized: &Tensor, original: &[u8], width: usize, height: usize, finish: Finish) -> Vec<u8> {
    let plane = stylized.shape.plane();
    let row = stylized.shape.width;
    let mut out = vec![0u8; width * height * RGBA];
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            let src = &original[i * RGBA..][..RGBA];
            let alpha = src[3] as f32 / 255.0;
            // The photo as the network saw it (composited onto white), in 0..1.
            let photo: [f32; 3] = std::array::from_fn(|c| src[c] as f32 / 255.0 * alpha + (1.0 - alpha));
            let mut styled: [f32; 3] = std::array::from_fn(|c| stylized.data[c * plane + y * row + x].clamp(0.0, 1.0));
            if finish.preserve_color {
                styled = keep_colour(styled, photo);
            }
            let dst = &mut out[i * RGBA..][..RGBA];
            for c in 0..3 {
                let mixed = photo[c] + (styled[c] - photo[c]) * finish.strength;
                dst[c] = (mixed.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
            dst[3] = src[3];
        }
    }
    out
}

/// `finish` for a result that is already RGBA8 (a full-strength result, or one styled smaller and scaled back up):
/// the same strength, colour and alpha steps, so callers can re-blend without running the network again.
pub(crate) fn finish_rgba(styled: &[u8], original: &[u8], width: usize, height: usize, finish_with: Finish) -> Vec<u8> {
    let plane = width * height;
    let mut planar = Tensor::zeros(Shape::new(3, height, width));
    for (i, px) in styled.chunks_exact(RGBA).take(plane).enumerate() {
        for (c, &value) in px[..3].iter().enumerate() {
            planar.data[c * plane + i] = value as f32 / 255.0;
        }
    }
    finish(&planar, original, width, height, finish_with)
}

/// BT.601 YCbCr, as `keep_colour` uses it (and the live frame shader, which is given these numbers): the luma and
/// the two chroma rows of RGB to YCbCr, and back to RGB the factors of Cr in red, Cb and Cr in green, Cb in blue.
pub(crate) const LUMA: [f32; 3] = [0.299, 0.587, 0.114];
pub(crate) const CHROMA_B: [f32; 3] = [-0.168_736, -0.331_264, 0.5];
pub(crate) const CHROMA_R: [f32; 3] = [0.5, -0.418_688, -0.081_312];
pub(crate) const CHROMA_TO_RGB: [f32; 4] = [1.402, 0.344_136, 0.714_136, 1.772];

/// The styled pixel's luma (BT.601) with the photo's chroma: the product keeps its true colour.
fn keep_colour(styled: [f32; 3], photo: [f32; 3]) -> [f32; 3] {
    let dot = |row: [f32; 3], p: [f32; 3]| row[0] * p[0] + row[1] * p[1] + row[2] * p[2];
    let y = dot(LUMA, styled);
    let (cb, cr) = (dot(CHROMA_B, photo), dot(CHROMA_R, photo));
    let [r_cr, g_cb, g_cr, b_cb] = CHROMA_TO_RGB;
    [y + r_cr * cr, y - g_cb * cb - g_cr * cr, y + b_cb * cb].map(|v| v.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_reflects_without_repeating_the_edge() {
        // A 3x1 grey ramp padded to 6 wide reads 0 1 2 | 1 0 ... mirrored at the last pixel.
        let rgba: Vec<u8> = [0u8, 100, 200].iter().flat_map(|&v| [v, v, v, 255]).collect();
        let t = prepare(&rgba, 3, 1, 5, 1);
        let red: Vec<u8> = t.data[..5].iter().map(|v| (v * 255.0).round() as u8).collect();
        assert_eq!(red, [0, 100, 200, 100, 0]);
    }

    #[test]
    fn transparent_pixels_are_white_to_the_network_and_keep_their_alpha() {
        let rgba = [10u8, 20, 30, 0];
        let t = prepare(&rgba, 1, 1, 1, 1);
        assert_eq!(t.data, [1.0, 1.0, 1.0]);
        let out = finish(&t, &rgba, 1, 1, Finish { strength: 1.0, preserve_color: false });
        assert_eq!(out, [255, 255, 255, 0]);
    }

    #[test]
    fn strength_zero_returns_the_photo_and_keep_colour_keeps_grey_grey() {
        let rgba = [200u8, 50, 25, 255];
        let styled = Tensor::from_vec(Shape::new(3, 1, 1), vec![0.1, 0.9, 0.4]).unwrap();
        assert_eq!(finish(&styled, &rgba, 1, 1, Finish { strength: 0.0, preserve_color: false }), rgba);
        let grey = [128u8, 128, 128, 255];
        let out = finish(&styled, &grey, 1, 1, Finish { strength: 1.0, preserve_color: true });
        assert!(out[0] == out[1] && out[1] == out[2], "{out:?}");
    }

    #[test]
    fn re_blending_a_full_strength_result_matches_blending_the_network_output() {
        let (w, h) = (5, 3);
        let original: Vec<u8> =
            (0..w * h).flat_map(|i| [(i * 17) as u8, (i * 5) as u8, 200, if i % 4 == 0 { 0 } else { 255 }]).collect();
        let values: Vec<f32> = (0..3 * w * h).map(|i| (i as f32 * 0.37).sin() * 0.5 + 0.5).collect();
        let styled = Tensor::from_vec(Shape::new(3, h, w), values).unwrap();
        let full = finish(&styled, &original, w, h, Finish { strength: 1.0, preserve_color: false });
        for (strength, preserve_color) in [(0.6, false), (0.3, true), (1.0, true)] {
            let direct = finish(&styled, &original, w, h, Finish { strength, preserve_color });
            let again = finish_rgba(&full, &original, w, h, Finish { strength, preserve_color });
            // The full-strength result was rounded to 8 bits once more: at most one level apart.
            assert!(direct.iter().zip(&again).all(|(a, b)| a.abs_diff(*b) <= 1), "{strength} {preserve_color}");
        }
    }
}
