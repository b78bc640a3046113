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
        let pixels = u64::from(width) * u64::from(height);
        let converted = if stored_as_rgba8 { 0 } else { pixels * 4 };
        self.allow(width, height, pixels * stored_bytes_per_pixel + converted)
    }

    /// Refuses decoding a `width` x `height` picture in `needed` bytes beyond the budget, or beyond the largest side.
    fn allow(self, width: u32, height: u32, needed: u64) -> Result<(), String> {
        if width > DECODE_MAX_SIDE || height > DECODE_MAX_SIDE {
            return Err(format!(
                "the image is {width}x{height}, beyond the {DECODE_MAX_SIDE} pixels a side vitrine decodes; scale it down first"
            ));
        }
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
    decode_scaled_to(bytes, budget, None)
}

/// Decodes a picture that is used only at `short_side` pixels on its shorter side (a style picture). A JPEG whose
/// whole decode would not fit `budget` is decoded at 1/2, 1/4 or 1/8 of its size in the DCT domain instead, keeping
/// at least twice `short_side` so the resize after it still averages; anything else, and a JPEG that fits, as
/// [`decode`].
pub fn decode_for_side(bytes: &[u8], budget: DecodeBudget, short_side: u32) -> Result<RgbaImage, String> {
    decode_scaled_to(bytes, budget, Some(short_side))
}

/// Both of the above: `short_side`, when given, lets a JPEG too large for `budget` be decoded scaled down.
fn decode_scaled_to(bytes: &[u8], budget: DecodeBudget, short_side: Option<u32>) -> Result<RgbaImage, String> {
    let (mut picture, orientation) = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => {
            let (decoder, width, height, components) = zune_jpeg_headers(bytes)?;
            // A progressive JPEG keeps every component's coefficients (16 bits each) beside the RGBA output.
            match (budget.check(width, height, 2 * components, false), short_side) {
                (Err(_), Some(side)) => decode_jpeg_scaled(bytes, budget, side)?,
                (fits, _) => fits.and_then(|()| decode_jpeg(decoder, width, height))?,
            }
        }
        _ => decode_other(bytes, budget)?,
    };
    picture.apply_orientation(orientation);
    Ok(picture.into_rgba8())
}

fn unreadable(reason: impl fmt::Display) -> String {
    format!("not a readable image ({reason}); give a complete PNG, JPEG or WebP photo")
}

type ZuneJpeg<'a> = zune_jpeg::JpegDecoder<zune_core::bytestream::ZCursor<&'a [u8]>>;

/// zune-jpeg in strict mode, its headers read: the decoder, the size and the number of components.
fn zune_jpeg_headers(bytes: &[u8]) -> Result<(ZuneJpeg<'_>, u32, u32, u64), String> {
    use zune_core::{bytestream::ZCursor, colorspace::ColorSpace, options::DecoderOptions};
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(DECODE_MAX_SIDE as usize)
        .set_max_height(DECODE_MAX_SIDE as usize)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| unreadable(format!("JPEG: {e}")))?;
    let (width, height) = decoder.dimensions().ok_or_else(|| unreadable("JPEG: no frame header"))?;
    let components = decoder.input_colorspace().map_or(4, |c| c.num_components()) as u64;
    Ok((decoder, width as u32, height as u32, components))
}

/// JPEG through zune-jpeg in strict mode, its headers read and its size within the budget: a truncated or corrupt
/// stream is an error, not a picture padded with grey.
fn decode_jpeg(mut decoder: ZuneJpeg<'_>, width: u32, height: u32) -> Result<(DynamicImage, Orientation), String> {
    let orientation =
        decoder.exif().and_then(|exif| Orientation::from_exif_chunk(exif)).unwrap_or(Orientation::NoTransforms);
    let pixels = decoder.decode().map_err(|e| unreadable(format!("JPEG: {e}")))?;
    let picture = RgbaImage::from_raw(width, height, pixels).ok_or_else(|| unreadable("JPEG: a short frame"))?;
    Ok((DynamicImage::ImageRgba8(picture), orientation))
}

/// A JPEG at the smallest of 1/8, 1/4, 1/2 and 1 of its size that keeps `2 * short_side` on its shorter side,
/// scaled in the inverse DCT (jpeg-decoder; zune-jpeg has no such option). A truncated stream is an error here too:
/// the decoder reads past the end for the missing data. The memory counted: the scaled planes and their RGBA copy,
/// and for a progressive stream every coefficient of the whole picture, which it keeps whatever the scale. Not
/// counted: jpeg-decoder decodes each colour component on a thread of its own at this size, and each thread's
/// allocator arena is address space that a tight `ulimit -v` counts.
fn decode_jpeg_scaled(
    bytes: &[u8],
    budget: DecodeBudget,
    short_side: u32,
) -> Result<(DynamicImage, Orientation), String> {
    use jpeg_decoder::{CodingProcess, Decoder, PixelFormat};
    let jpeg = |e: jpeg_decoder::Error| unreadable(format!("JPEG: {e}"));
    let mut decoder = Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(jpeg)?;
    let info = decoder.info().ok_or_else(|| unreadable("JPEG: no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    // Scaling applies to DCT streams of gray or RGB pixels; the rest would need the whole picture decoded.
    let kind = match (info.pixel_format, info.coding_process) {
        (_, CodingProcess::Lossless) => Some("lossless"),
        (PixelFormat::CMYK32, _) => Some("CMYK"),
        (PixelFormat::L16, _) => Some("16-bit"),
        (PixelFormat::L8 | PixelFormat::RGB24, CodingProcess::DctSequential | CodingProcess::DctProgressive) => None,
    };
    if let Some(kind) = kind {
        return Err(format!(
            "the image is a {width}x{height} {kind} JPEG, too large to decode whole for a style picture; save it as an RGB JPEG or scale it down first"
        ));
    }
    let stored = info.pixel_format.pixel_bytes() as u64;
    let (keep, shorter) = (2 * u64::from(short_side.max(1)), u64::from(width.min(height).max(1)));
    let wanted = |side: u32| (u64::from(side) * keep).div_ceil(shorter).min(u64::from(u16::MAX)) as u16;
    let (scaled_w, scaled_h) = decoder.scale(wanted(width), wanted(height)).map_err(jpeg)?;
    let (scaled_w, scaled_h) = (u32::from(scaled_w), u32::from(scaled_h));
    let coefficients = match info.coding_process {
        CodingProcess::DctProgressive => u64::from(width) * u64::from(height) * stored * 2,
        CodingProcess::DctSequential | CodingProcess::Lossless => 0,
    };
    budget.allow(width, height, coefficients + u64::from(scaled_w) * u64::from(scaled_h) * (2 * stored + 4))?;
    decoder.set_max_decoding_buffer_size(usize::try_from(budget.bytes).unwrap_or(usize::MAX));
    let pixels = decoder.decode().map_err(jpeg)?;
    let short_frame = || unreadable("JPEG: a short frame");
    let picture = match info.pixel_format {
        PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(scaled_w, scaled_h, pixels).ok_or_else(short_frame)?)
        }
        PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(scaled_w, scaled_h, pixels).ok_or_else(short_frame)?)
        }
        PixelFormat::CMYK32 | PixelFormat::L16 => return Err(unreadable("JPEG: refused above")),
    };
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    Ok((picture, orientation))
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
