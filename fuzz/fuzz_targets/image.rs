//! Photos and style pictures: PNG, JPEG, WebP and GIF headers and bodies, decoded by the CLI's own decoder
//! (`src/bin/vitrine/images/decode.rs`, compiled into this target: JPEG through zune-jpeg in strict mode, PNG and
//! WebP through `image`, every decoded size checked against the header and the photo budget before the decoder
//! allocates, anything else refused), then prepared for the network; and as a style picture, whose JPEGs too
//! large for its budget are decoded scaled down (jpeg-decoder). Any bytes must decode or fail with an error, never
//! panic or abort.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../src/bin/vitrine/images/decode.rs"]
#[allow(dead_code)]
mod decode;

fn decode_photo(bytes: &[u8]) -> Result<image::RgbaImage, String> {
    decode::decode(bytes, decode::DecodeBudget::PHOTO)
}

/// A style picture's read: with a budget of 1 MiB, a JPEG of more than about 100,000 pixels takes the scaled path
/// (jpeg-decoder's DCT scaling).
fn decode_style_picture(bytes: &[u8]) -> Result<image::RgbaImage, String> {
    decode::decode_for_side(bytes, decode::DecodeBudget { bytes: 1 << 20 }, 16)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(picture) = decode_style_picture(data) {
        assert!(picture.width() >= 1 && picture.height() >= 1);
    }
    let Ok(photo) = decode_photo(data) else { return };
    let (width, height) = photo.dimensions();
    let (w, h) = vitrine::pixels::working_size(width, height, 64);
    assert!(w <= 64 && h <= 64 && w >= 1 && h >= 1, "{width}x{height} fits 64 px as {w}x{h}");
    // The photo as the network would take it (white under alpha, reflect-padded to the stride multiple).
    if u64::from(width) * u64::from(height) <= 1 << 20 {
        let (pw, ph) = (width.div_ceil(4) as usize * 4, height.div_ceil(4) as usize * 4);
        if pw < 2 * width as usize && ph < 2 * height as usize {
            let _ = vitrine::pixels::prepare(photo.as_raw(), width as usize, height as usize, pw, ph);
        }
    }
});
