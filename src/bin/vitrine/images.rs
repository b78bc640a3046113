//! Reading and writing photos for the CLI: files and standard streams, with the decoded size checked before any
//! decoder allocates, truncated and corrupt files refused, EXIF orientation, downscaling, and writes through a
//! temporary file of the CLI's own (made by `tempfile` beside the target) that is renamed into place when complete
//! and removed on every failure.

use std::fmt;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use image::{ImageFormat, RgbaImage};

use crate::failure::Failure;

mod decode;

pub use decode::{decode, decode_for_side, DecodeBudget};

/// The largest photo file read, from disk or standard input.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

pub enum Source {
    Stdin,
    File(PathBuf),
}

pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Source {
    pub fn parse(text: &str) -> Self {
        if text == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(text))
        }
    }
}

impl Destination {
    pub fn parse(text: &str) -> Self {
        if text == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(text))
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("(stdin)"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Stdout => f.write_str("(stdout)"),
            Destination::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The image formats vitrine writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// PNG, with the alpha channel kept.
    Png,
    /// JPEG, flattened onto white (JPEG has no alpha), at --quality (default 90).
    Jpg,
    /// WebP with the alpha channel kept: lossless, or lossy at --quality.
    Webp,
}

/// JPEG quality when --quality is not given.
pub const DEFAULT_JPEG_QUALITY: u8 = 90;

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpg => "jpg",
            OutputFormat::Webp => "webp",
        }
    }

    /// The format a file name asks for, if it names one vitrine writes.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "png" => Some(OutputFormat::Png),
            "jpg" | "jpeg" => Some(OutputFormat::Jpg),
            "webp" => Some(OutputFormat::Webp),
            _ => None,
        }
    }
}

/// Image files a folder run picks up.
pub fn has_image_extension(path: &Path) -> bool {
    OutputFormat::from_path(path).is_some()
}

/// Whether two paths name one existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Reads and decodes a picture within `budget` (see [`decode`]). Every failure is the input's.
pub fn read(source: &Source, budget: DecodeBudget) -> Result<RgbaImage, Failure> {
    decode(&read_all(source)?, budget).map_err(Failure::input)
}

/// Reads and decodes a style picture, used at `short_side` pixels: a JPEG too large to decode whole within the
/// style picture's budget is decoded scaled down (see [`decode_for_side`]).
pub fn read_style_picture(source: &Source, short_side: u32) -> Result<RgbaImage, Failure> {
    decode_for_side(&read_all(source)?, DecodeBudget::STYLE_PICTURE, short_side).map_err(Failure::input)
}

/// The bytes of a picture file or of standard input; an empty one is refused.
fn read_all(source: &Source) -> Result<Vec<u8>, Failure> {
    let bytes = match source {
        Source::Stdin => read_capped(std::io::stdin().lock(), "standard input")?,
        Source::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
            read_capped(file, &path.display().to_string())?
        }
    };
    if bytes.is_empty() {
        return Err(Failure::input("the file is empty; give a PNG, JPEG or WebP photo"));
    }
    Ok(bytes)
}

/// Reads a whole stream, but no more than `MAX_FILE_BYTES`: a photo never needs more, and a runaway stream must
/// not exhaust memory.
pub fn read_capped(stream: impl Read, what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    stream
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Failure::input(format!(
            "{what} is larger than {} MiB; that is not a photo vitrine can style",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// Scales a photo down so its longer side is at most `max_size` (0: unchanged).
pub fn fit(photo: RgbaImage, max_size: u32) -> RgbaImage {
    let (width, height) = photo.dimensions();
    let (w, h) = vitrine::pixels::working_size(width, height, max_size);
    if (w, h) == (width, height) {
        return photo;
    }
    image::imageops::resize(&photo, w, h, image::imageops::FilterType::Lanczos3)
}

/// How an image is encoded: the format, and the quality asked for (JPEG: default 90; WebP: lossy if given).
#[derive(Clone, Copy)]
pub struct Encoding {
    pub format: OutputFormat,
    pub quality: Option<u8>,
}

/// Encodes to PNG or WebP (both keep alpha) or JPEG (onto white), and writes it.
pub fn write(image: &RgbaImage, destination: &Destination, encoding: Encoding) -> Result<(), Failure> {
    let failed = |e: &dyn fmt::Display| Failure::input(format!("cannot encode the result: {e}"));
    let mut encoded = Cursor::new(Vec::new());
    let result = match (encoding.format, encoding.quality) {
        (OutputFormat::Png, _) => image.write_to(&mut encoded, ImageFormat::Png),
        (OutputFormat::Webp, None) => {
            image.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut encoded))
        }
        (OutputFormat::Webp, Some(quality)) => {
            let webp = webp::Encoder::from_rgba(image.as_raw(), image.width(), image.height())
                .encode_simple(false, f32::from(quality))
                .map_err(|e| failed(&format!("{e:?}")))?;
            return write_bytes(&webp, destination);
        }
        (OutputFormat::Jpg, quality) => flatten_onto_white(image).write_with_encoder(
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, quality.unwrap_or(DEFAULT_JPEG_QUALITY)),
        ),
    };
    result.map_err(|e| failed(&e))?;
    write_bytes(&encoded.into_inner(), destination)
}

/// Writes finished bytes to standard output, or to a temporary file beside the target that is renamed over it when
/// complete. The temporary file has a fresh random name (never one a user's file could have) and is removed when
/// anything fails, a full disk included.
pub fn write_bytes(bytes: &[u8], destination: &Destination) -> Result<(), Failure> {
    match destination {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.flush())
                .map_err(|e| Failure::input(format!("cannot write standard output: {e}")))?;
        }
        Destination::File(path) => {
            let failed = |e: std::io::Error| {
                Failure::input(format!(
                    "cannot write {}: {e}; check that its folder is writable and has room",
                    path.display()
                ))
            };
            let mut temporary = temporary_beside(path).map_err(failed)?;
            let _unfinished = crate::interrupt::unfinished(temporary.path());
            let file = temporary.as_file_mut();
            file.write_all(bytes).and_then(|_| file.sync_all()).map_err(failed)?;
            // On failure the error holds the temporary file, and dropping it removes it.
            temporary.persist(path).map_err(|e| failed(e.error))?;
        }
    }
    Ok(())
}

/// A new temporary file in `target`'s folder (so the final rename stays on one file system), readable as a
/// normal file would be once renamed.
pub fn temporary_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".vitrine-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Subject to the umask, as files created by other programs are.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(folder)
}

fn flatten_onto_white(image: &RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let p = image.get_pixel(x, y).0;
        let a = p[3] as u32;
        image::Rgb(std::array::from_fn(|c| ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8))
    })
}

/// A style picture as the style predictor uses it: its centred square (the predictor reads nothing else), scaled
/// down only if that square is beyond the styler's limits.
pub fn style_square(picture: RgbaImage, limits: vitrine::Limits) -> RgbaImage {
    let (width, height) = picture.dimensions();
    let side = width.min(height);
    let square = if width == height {
        picture
    } else {
        image::imageops::crop_imm(&picture, (width - side) / 2, (height - side) / 2, side, side).to_image()
    };
    let pixels = u64::from(side) * u64::from(side);
    let mut target = side.min(limits.max_side);
    if pixels > limits.max_pixels {
        target = target.min((limits.max_pixels as f64).sqrt().floor() as u32);
    }
    fit(square, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_stored_and_converted_pixels() {
        let photo = DecodeBudget::PHOTO;
        // The grayscale bomb: 900 MB stored, 3.6 GB as RGBA.
        let message = photo.check(29_999, 29_999, 1, false).unwrap_err().to_string();
        assert!(message.contains("29999x29999") && message.contains("4292 MiB"), "{message}");
        // 16-bit RGBA: 8 bytes stored and 4 converted a pixel.
        assert!(photo.check(9_000, 9_000, 8, false).is_ok());
        assert!(photo.check(9_500, 9_500, 8, false).is_err());
        // A 12-megapixel photo, RGB and RGBA8 as stored.
        assert!(photo.check(4_000, 3_000, 3, false).is_ok());
        assert!(photo.check(4_000, 3_000, 4, true).is_ok());
        assert!(photo.check(30_001, 10, 1, false).unwrap_err().to_string().contains("30000 pixels a side"));
        // A style picture is used at 256 px: a quarter of that.
        assert!(DecodeBudget::STYLE_PICTURE.check(6_500, 6_500, 3, false).is_err());
        assert!(DecodeBudget::STYLE_PICTURE.check(4_000, 3_000, 3, false).is_ok());
    }

    #[test]
    fn sixteen_bit_and_grayscale_pictures_decode_within_the_budget() {
        let dir = std::env::temp_dir().join(format!("vitrine-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let deep = dir.join("deep.png");
        image::ImageBuffer::<image::Luma<u16>, _>::from_fn(40, 30, |x, _| image::Luma([(x * 1600) as u16]))
            .save(&deep)
            .unwrap();
        let picture = read(&Source::File(deep.clone()), DecodeBudget::PHOTO).unwrap();
        assert_eq!(picture.dimensions(), (40, 30));
        assert_eq!(picture.get_pixel(39, 0).0, [243, 243, 243, 255]);
        let tight = DecodeBudget { bytes: 40 * 30 * 6 - 1 };
        assert!(read(&Source::File(deep), tight).unwrap_err().to_string().contains("40x30"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
