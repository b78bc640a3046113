//! Photos and style pictures: PNG, JPEG, WebP and GIF headers and bodies through `image`, decoded as the CLI
//! decodes them (`src/bin/vitrine/images.rs`, `read`: the same side and allocation limits, EXIF orientation, RGBA8),
//! then prepared for the network. Any bytes must decode or fail with an error, never panic or abort.
#![no_main]

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};
use libfuzzer_sys::fuzz_target;

// The CLI's decoder limits (images.rs: DECODE_MAX_SIDE, DECODE_MAX_BYTES).
const DECODE_MAX_SIDE: u32 = 30_000;
const DECODE_MAX_BYTES: u64 = 1 << 30;

fn decode(bytes: &[u8]) -> Result<image::RgbaImage, image::ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_MAX_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut photo = DynamicImage::from_decoder(decoder)?;
    photo.apply_orientation(orientation);
    Ok(photo.into_rgba8())
}

fuzz_target!(|data: &[u8]| {
    let Ok(photo) = decode(data) else { return };
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
