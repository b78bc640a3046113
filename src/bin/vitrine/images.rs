//! Reading and writing photos for the CLI: files, folders and standard streams, with decoder limits, EXIF
//! orientation, downscaling, and writes that never leave a half-written file behind.

use std::fmt;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbaImage};

use crate::Failure;

/// Decoding stops beyond these, before the decoder allocates: far above any photo, far below a decompression bomb.
const DECODE_MAX_SIDE: u32 = 30_000;
const DECODE_MAX_BYTES: u64 = 1 << 30;
/// The largest photo file read, from disk or standard input.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Image files a folder run picks up.
const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

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

/// Pairs every input image with where its result goes. `label` names the style in default output names
/// (`NAME_style{label}.png`).
pub fn plan_jobs(inputs: &[String], output: Option<&str>, label: &str) -> Result<Vec<(Source, Destination)>, Failure> {
    let mut sources = Vec::new();
    let mut from_folder = false;
    for input in inputs {
        if input == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            from_folder = true;
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot list {input}: {e}"))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && has_image_extension(p))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(Failure(format!("{input} holds no PNG, JPEG or WebP images")));
            }
            sources.extend(found.into_iter().map(Source::File));
        } else if path.is_file() {
            sources.push(Source::File(path.to_path_buf()));
        } else {
            return Err(Failure(format!("{input} does not exist")));
        }
    }
    if sources.iter().filter(|s| matches!(s, Source::Stdin)).count() > 1 {
        return Err(Failure("standard input (-) can be read only once".into()));
    }
    let many = sources.len() > 1 || from_folder;
    let suffix = format!("_style{}", label.replace(':', "-").replace(',', "_"));
    let mut jobs = Vec::new();
    for source in sources {
        let destination = match (output, &source) {
            (Some("-"), _) if many => {
                return Err(Failure("several images cannot all go to standard output; give -o a folder".into()))
            }
            (Some("-"), _) | (None, Source::Stdin) => Destination::Stdout,
            (Some(out), Source::File(path)) if many => {
                std::fs::create_dir_all(out).map_err(|e| format!("cannot create the folder {out}: {e}"))?;
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                Destination::File(Path::new(out).join(format!("{name}{suffix}.png")))
            }
            (Some(out), Source::Stdin) if many => Destination::File(Path::new(out).join(format!("stdin{suffix}.png"))),
            (Some(out), _) => Destination::File(PathBuf::from(out)),
            (None, Source::File(path)) => {
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                Destination::File(path.with_file_name(format!("{name}{suffix}.png")))
            }
        };
        if let (Source::File(input), Destination::File(output)) = (&source, &destination) {
            if same_file(input, output) {
                return Err(Failure(format!("{} would overwrite its own input; choose another -o", input.display())));
            }
            if output.is_dir() {
                return Err(Failure(format!("{} is a folder; give a file name, or several inputs", output.display())));
            }
            format_for(output)?;
        }
        jobs.push((source, destination));
    }
    Ok(jobs)
}

fn has_image_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Decodes a photo, applies its EXIF orientation, and returns RGBA8.
pub fn read(source: &Source) -> Result<RgbaImage, Failure> {
    let bytes = match source {
        Source::Stdin => read_capped(std::io::stdin().lock(), "standard input")?,
        Source::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            read_capped(file, &path.display().to_string())?
        }
    };
    if bytes.is_empty() {
        return Err(Failure("the file is empty; give a PNG, JPEG or WebP photo".into()));
    }
    let unreadable =
        |e: image::ImageError| Failure(format!("not a readable image ({e}); give a PNG, JPEG or WebP photo"));
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(DECODE_MAX_SIDE);
    limits.max_image_height = Some(DECODE_MAX_SIDE);
    limits.max_alloc = Some(DECODE_MAX_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut photo = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    photo.apply_orientation(orientation);
    Ok(photo.into_rgba8())
}

/// Reads a whole stream, but no more than `MAX_FILE_BYTES`: a photo never needs more, and a runaway stream must
/// not exhaust memory.
pub fn read_capped(stream: impl Read, what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    stream.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Failure(format!(
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

fn format_for(path: &Path) -> Result<ImageFormat, Failure> {
    match ImageFormat::from_path(path) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => Ok(format),
        _ => Err(Failure(format!("cannot write {}: name the output .png or .jpg", path.display()))),
    }
}

/// Encodes to PNG (keeps alpha) or JPEG (onto white), into a temporary file renamed into place when complete.
pub fn write(image: &RgbaImage, destination: &Destination) -> Result<(), Failure> {
    let format = match destination {
        Destination::Stdout => ImageFormat::Png,
        Destination::File(path) => format_for(path)?,
    };
    let mut encoded = Cursor::new(Vec::new());
    let result = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(flatten_onto_white(image)).write_to(&mut encoded, format)
    } else {
        image.write_to(&mut encoded, format)
    };
    result.map_err(|e| format!("cannot encode the result: {e}"))?;
    write_bytes(&encoded.into_inner(), destination)
}

/// Writes finished bytes to standard output, or to a temporary name renamed into place when complete.
pub fn write_bytes(bytes: &[u8], destination: &Destination) -> Result<(), Failure> {
    match destination {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| format!("cannot write standard output: {e}"))?;
        }
        Destination::File(path) => {
            let partial = path.with_extension("partial");
            std::fs::write(&partial, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            std::fs::rename(&partial, path).map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                format!("cannot write {}: {e}", path.display())
            })?;
        }
    }
    Ok(())
}

fn flatten_onto_white(image: &RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let p = image.get_pixel(x, y).0;
        let a = p[3] as u32;
        image::Rgb(std::array::from_fn(|c| ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8))
    })
}

/// Scales a picture down, only as far as needed, to fit the styler's limits (a style picture may be any size:
/// the style predictor uses only its centred square, resampled to its own input size).
pub fn fit_within(picture: RgbaImage, limits: vitrine::Limits) -> RgbaImage {
    let (width, height) = picture.dimensions();
    let longer = width.max(height);
    let pixels = width as u64 * height as u64;
    let mut side = longer.min(limits.max_side);
    if pixels > limits.max_pixels {
        // One pixel to spare, for the rounding of the shorter side.
        let scaled = (longer as f64 * (limits.max_pixels as f64 / pixels as f64).sqrt()).floor() as u32;
        side = side.min(scaled.saturating_sub(1).max(1));
    }
    fit(picture, side)
}
