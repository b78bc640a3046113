//! Photos and style pictures: PNG, JPEG, WebP and GIF headers and bodies, decoded as the CLI decodes them
//! (`src/bin/vitrine/images.rs`, `read`: JPEG through zune-jpeg in strict mode, PNG and WebP through `image`, every
//! decoded size checked against the header and the 1 GiB budget before the decoder allocates, anything else
//! refused), then prepared for the network. Any bytes must decode or fail with an error, never panic or abort.
//! The CLI's reader is not a library function, so this is a copy: keep it in step with `images.rs`.
#![no_main]

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbaImage};
use libfuzzer_sys::fuzz_target;

// The CLI's decoder limits (images.rs: DECODE_MAX_SIDE, DecodeBudget::PHOTO).
const DECODE_MAX_SIDE: u32 = 30_000;
const DECODE_MAX_BYTES: u64 = 1 << 30;

/// `DecodeBudget::check`: the pixels as stored plus their RGBA8 copy, within the budget.
fn within_budget(width: u32, height: u32, stored_bytes_per_pixel: u64, stored_as_rgba8: bool) -> Result<(), String> {
    if width > DECODE_MAX_SIDE || height > DECODE_MAX_SIDE {
        return Err(format!("{width}x{height} is beyond {DECODE_MAX_SIDE} px a side"));
    }
    let pixels = u64::from(width) * u64::from(height);
    let needed = pixels * stored_bytes_per_pixel + if stored_as_rgba8 { 0 } else { pixels * 4 };
    if needed > DECODE_MAX_BYTES {
        return Err(format!("{width}x{height} needs {needed} bytes"));
    }
    Ok(())
}

fn decode_jpeg(bytes: &[u8]) -> Result<(DynamicImage, image::metadata::Orientation), String> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(DECODE_MAX_SIDE as usize)
        .set_max_height(DECODE_MAX_SIDE as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions().ok_or("no frame header")?;
    let (width, height) = (width as u32, height as u32);
    let components = decoder.input_colorspace().map_or(4, |c| c.num_components()) as u64;
    within_budget(width, height, 2 * components, false)?;
    let orientation = decoder
        .exif()
        .and_then(|exif| image::metadata::Orientation::from_exif_chunk(exif))
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let picture = RgbaImage::from_raw(width, height, pixels).ok_or("a short frame")?;
    Ok((DynamicImage::ImageRgba8(picture), orientation))
}

fn decode_other(bytes: &[u8]) -> Result<(DynamicImage, image::metadata::Orientation), String> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::WebP)) {
        return Err("not a PNG, JPEG or WebP file".into());
    }
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    within_budget(width, height, u64::from(color.bytes_per_pixel()), color == image::ColorType::Rgba8)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_MAX_BYTES);
    decoder.set_limits(limits).map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    Ok((DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?, orientation))
}

fn decode(bytes: &[u8]) -> Result<RgbaImage, String> {
    let (mut picture, orientation) = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => decode_jpeg(bytes)?,
        _ => decode_other(bytes)?,
    };
    picture.apply_orientation(orientation);
    Ok(picture.into_rgba8())
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
