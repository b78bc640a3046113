//! Decoding a photo or style picture from its bytes, with the decoded size checked against the header before any
//! decoder allocates: JPEG through zune-jpeg in strict mode (a truncated stream is an error, not a picture padded
//! with grey), PNG and WebP through `image`, anything else refused. The CLI reads every picture through here and
//! `fuzz/fuzz_targets/image.rs` compiles this very file, so it depends on the codecs alone.

use std::fmt;
use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbaImage};

/// No side beyond this is decoded: far above any photo, and it keeps the size arithmetic small.
const DECODE_MAX_SIDE: u32 = 30_000;

/// How much memory decoding one picture may take: its pixels as the file stores them (grayscale, 16-bit, ...) and
/// their RGBA8 copy, checked against the header before the decoder allocates anything.
#[derive(Clone, Copy)]
pub struct DecodeBudget {
    pub bytes: u64,
}

impl DecodeBudget {
    /// A photo: 1 GiB, about 150 megapixels of RGB.
    pub const PHOTO: DecodeBudget = DecodeBudget { bytes: 1 << 30 };
    /// A style picture is used as a 256 px square, so a quarter of that: about 38 megapixels of RGB.
    pub const STYLE_PICTURE: DecodeBudget = DecodeBudget { bytes: 256 << 20 };

    /// Refuses a picture of `width` x `height` stored at `stored_bytes_per_pixel` that would not fit.
    pub fn check(
        self,
        width: u32,
        height: u32,
        stored_bytes_per_pixel: u64,
        stored_as_rgba8: bool,
    ) -> Result<(), String> {
        if width > DECODE_MAX_SIDE || height > DECODE_MAX_SIDE {
            return Err(format!(
                "the image is {width}x{height}, beyond the {DECODE_MAX_SIDE} pixels a side vitrine decodes; scale it down first"
            ));
        }
        let pixels = u64::from(width) * u64::from(height);
        let converted = if stored_as_rgba8 { 0 } else { pixels * 4 };
        let needed = pixels * stored_bytes_per_pixel + converted;
        if needed > self.bytes {
            return Err(format!(
                "the image is {width}x{height}; decoding it would take {} MiB, beyond the {} MiB vitrine allows for one picture; scale it down first",
                needed.div_ceil(1 << 20),
                self.bytes >> 20
            ));
        }
        Ok(())
    }
}

/// Decodes a picture within `budget`, applies its EXIF orientation, and returns RGBA8; the error says what to do.
pub fn decode(bytes: &[u8], budget: DecodeBudget) -> Result<RgbaImage, String> {
    let (mut picture, orientation) = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => decode_jpeg(bytes, budget)?,
        _ => decode_other(bytes, budget)?,
    };
    picture.apply_orientation(orientation);
    Ok(picture.into_rgba8())
}

fn unreadable(reason: impl fmt::Display) -> String {
    format!("not a readable image ({reason}); give a complete PNG, JPEG or WebP photo")
}

/// JPEG through zune-jpeg in strict mode: a truncated or corrupt stream is an error, not a picture padded with grey.
fn decode_jpeg(bytes: &[u8], budget: DecodeBudget) -> Result<(DynamicImage, Orientation), String> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(DECODE_MAX_SIDE as usize)
        .set_max_height(DECODE_MAX_SIDE as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| unreadable(format!("JPEG: {e}")))?;
    let (width, height) = decoder.dimensions().ok_or_else(|| unreadable("JPEG: no frame header"))?;
    let (width, height) = (width as u32, height as u32);
    // A progressive JPEG keeps every component's coefficients (16 bits each) beside the RGBA output.
    let components = decoder.input_colorspace().map_or(4, |c| c.num_components()) as u64;
    budget.check(width, height, 2 * components, false)?;
    let orientation =
        decoder.exif().and_then(|exif| Orientation::from_exif_chunk(exif)).unwrap_or(Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(|e| unreadable(format!("JPEG: {e}")))?;
    let picture = RgbaImage::from_raw(width, height, pixels).ok_or_else(|| unreadable("JPEG: a short frame"))?;
    Ok((DynamicImage::ImageRgba8(picture), orientation))
}

/// PNG and WebP through `image`, with the decoded size checked against the header first.
fn decode_other(bytes: &[u8], budget: DecodeBudget) -> Result<(DynamicImage, Orientation), String> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(unreadable)?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::WebP)) {
        return Err(unreadable("not a PNG, JPEG or WebP file"));
    }
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    budget.check(width, height, u64::from(color.bytes_per_pixel()), color == image::ColorType::Rgba8)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(budget.bytes);
    decoder.set_limits(limits).map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let picture = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    Ok((picture, orientation))
}
