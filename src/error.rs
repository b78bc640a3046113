//! One error type for everything a caller can get wrong or run into. Each message is a cause and what to do next;
//! the cause is written once, the remedy once per surface (the CLI and Rust callers, or a web page), since a fix is
//! a flag in one and an option in the other.

use std::fmt;

/// Everything vitrine can report. Marked non-exhaustive so new cases do not break callers.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The model bytes are not a readable vitrine model (truncated, not safetensors, damaged header or tensors).
    ModelFormat { reason: String },
    /// The model was written by a newer (or unknown) version of the converter.
    ModelVersion { found: u64, supported: u64 },
    /// The model's graph is inconsistent: a tensor missing, a shape that does not match the op, an unknown name.
    ModelGraph { reason: String },
    /// A preset style index beyond the model's styles.
    StyleIndex { index: usize, count: usize },
    /// Style weights that cannot be normalised into a mix.
    StyleWeights { reason: String },
    /// A style vector that does not fit the model: wrong length, not finite, or a file of another format or version.
    StyleVector { reason: String },
    /// The style given is of a kind this model does not take (a preset for the arbitrary-style model, say).
    StyleKind { reason: String },
    /// The blend with the original photo must be a fraction.
    Strength { value: f32 },
    /// Zero-sized or too small for the network's convolutions.
    ImageTooSmall { width: u32, height: u32, min_side: u32 },
    /// Beyond the configured limits.
    ImageTooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    /// The pixel buffer does not match the stated size.
    PixelBuffer { width: u32, height: u32, expected: usize, got: usize },
    /// A forced tile side the network's strided convolutions cannot line up with.
    TileSize { side: usize, multiple: usize },
    /// A background mode vitrine does not know.
    BackgroundMode { given: String },
    /// No GPU adapter or device could be had.
    GpuUnavailable { reason: String },
    /// The image needs a buffer larger than this GPU allows in one binding.
    GpuBufferLimit { needed: u64, limit: u64 },
    /// The GPU device was lost or a GPU operation failed mid-run.
    GpuFailed { reason: String },
    /// A broken promise inside vitrine itself, not anything the caller gave: a bug to report.
    Internal { reason: String },
}

/// Where an error is shown, which decides how its remedy is put: CLI flags, or the JS package's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Surface {
    /// The CLI and Rust callers (`Display`).
    Native,
    /// A web page using the npm package.
    Web,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// What went wrong, the same on every surface.
    pub(crate) fn cause(&self) -> String {
        match self {
            Error::ModelFormat { reason } => format!("the model file is damaged or is not a vitrine model ({reason})"),
            Error::ModelVersion { found, supported } => {
                format!("the model file has format version {found}, but this build of vitrine reads version {supported}")
            }
            Error::ModelGraph { reason } => format!("the model's graph is inconsistent: {reason}"),
            Error::StyleIndex { index, .. } => format!("style index {index} does not exist"),
            Error::StyleWeights { reason } => format!("style weights are not usable: {reason}"),
            Error::StyleVector { reason } => format!("the style vector is not usable: {reason}"),
            Error::StyleKind { reason } => reason.clone(),
            Error::Strength { value } => format!("strength must be a number from 0 to 1, got {value}"),
            Error::ImageTooSmall { width, height, .. } => {
                format!("the image is {width}x{height}, smaller than this network allows")
            }
            Error::ImageTooLarge { width, height, max_side, max_pixels } => format!(
                "the image is {width}x{height}, beyond the limits of {max_side} pixels a side and {max_pixels} pixels in all"
            ),
            Error::PixelBuffer { width, height, expected, got } => {
                format!("the pixel buffer holds {got} bytes, but a {width}x{height} RGBA image needs {expected}")
            }
            Error::TileSize { side, .. } => format!("a tile side of {side} px does not suit this network"),
            Error::BackgroundMode { given } => format!("`{given}` is not a background mode"),
            Error::GpuUnavailable { reason } => format!("no usable GPU: {reason}"),
            Error::GpuBufferLimit { needed, limit } => {
                format!("this image needs a {needed}-byte GPU buffer, but the GPU allows {limit} bytes per buffer")
            }
            Error::GpuFailed { reason } => format!("the GPU failed while styling ({reason})"),
            Error::Internal { reason } => format!("vitrine hit an internal error ({reason})"),
        }
    }

    /// What to do about it, in the terms of `surface`; `None` where the cause says it all.
    pub(crate) fn remedy(&self, surface: Surface) -> Option<String> {
        let web = surface == Surface::Web;
        let text = match self {
            Error::ModelFormat { .. } if web => "leave the `model` option out to use the one in the package".into(),
            Error::ModelFormat { .. } => "use the model that ships with vitrine or re-run models/convert.py".into(),
            Error::ModelVersion { .. } if web => "use the model that ships with this package version".into(),
            Error::ModelVersion { .. } => "convert the model again with this release's models/convert.py".into(),
            Error::ModelGraph { .. } if web => {
                "the file was altered or not made for vitrine; leave the `model` option out to use the one in the package"
                    .into()
            }
            Error::ModelGraph { .. } => "the file was not produced by models/convert.py or was altered".into(),
            Error::StyleIndex { count, .. } => format!("this model has styles 0 to {}", count.saturating_sub(1)),
            Error::StyleWeights { .. } => {
                "give non-negative finite weights with a positive sum, for example 3:0.5,12:0.5".into()
            }
            Error::StyleVector { .. } if web => {
                "make one from a picture with styler.styleFromImage(picture), or pass the object it returned as it is"
                    .into()
            }
            Error::StyleVector { .. } => {
                "make one from a picture with `vitrine style PICTURE -o style.json` (or styleFromImage in the browser)"
                    .into()
            }
            Error::StyleKind { .. } if web => {
                "give the preset model a preset or a mix, and a style file from styler.styleFromImage for your own style"
                    .into()
            }
            Error::StyleKind { .. } => {
                "give the 26-style network a preset or mix (--style), and the arbitrary-style network a style picture (--style-image) or style file (--style-vector)".into()
            }
            Error::Strength { .. } | Error::PixelBuffer { .. } => return None,
            Error::ImageTooSmall { min_side, .. } => format!("both sides need at least {min_side} pixels"),
            Error::ImageTooLarge { .. } if web => {
                "pass a smaller `maxSize` (the default, 1024, scales it down for you)".into()
            }
            Error::ImageTooLarge { .. } => "scale it down first (the CLI's --max-size does this)".into(),
            Error::TileSize { multiple, .. } if web => {
                format!("pass a `tileSize` that is a positive multiple of {multiple}, or leave it out")
            }
            Error::TileSize { multiple, .. } => {
                format!("give a positive multiple of {multiple} px, or none to let vitrine choose")
            }
            Error::BackgroundMode { .. } => {
                let names: Vec<&str> = crate::Background::ALL.iter().map(|mode| mode.name()).collect();
                format!("use one of {}", names.join(", "))
            }
            Error::GpuUnavailable { .. } if web => {
                "use backend: 'auto' (which falls back to the CPU) or backend: 'cpu'".into()
            }
            Error::GpuUnavailable { .. } => "use the CPU backend instead (--backend cpu)".into(),
            Error::GpuBufferLimit { .. } if web => {
                "pass a smaller `maxSize` (or `tileSize`, if you set one) or use backend: 'cpu'".into()
            }
            Error::GpuBufferLimit { .. } => "use a smaller image or the CPU backend".into(),
            Error::GpuFailed { .. } if web => "try again, or use backend: 'cpu'".into(),
            Error::GpuFailed { .. } => "try again, or use the CPU backend".into(),
            Error::Internal { .. } => {
                "this is a bug in vitrine; please report it with the command or call that caused it".into()
            }
        };
        Some(text)
    }

    /// The cause and the remedy for `surface`, as one sentence.
    pub(crate) fn message(&self, surface: Surface) -> String {
        match self.remedy(surface) {
            Some(remedy) => format!("{}; {remedy}", self.cause()),
            None => self.cause(),
        }
    }

    pub(crate) fn graph(reason: impl Into<String>) -> Self {
        Error::ModelGraph { reason: reason.into() }
    }

    pub(crate) fn format(reason: impl Into<String>) -> Self {
        Error::ModelFormat { reason: reason.into() }
    }

    /// An invariant of vitrine's own code that did not hold: never the model's or the caller's fault.
    pub(crate) fn internal(reason: impl Into<String>) -> Self {
        Error::Internal { reason: reason.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Surface::Native))
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The native messages are what they were before causes and remedies were written apart.
    #[test]
    fn native_messages_keep_their_words() {
        let cases = [
            (
                Error::ModelGraph { reason: "x".into() },
                "the model's graph is inconsistent: x; the file was not produced by models/convert.py or was altered",
            ),
            (
                Error::StyleIndex { index: 30, count: 26 },
                "style index 30 does not exist; this model has styles 0 to 25",
            ),
            (Error::Strength { value: 2.0 }, "strength must be a number from 0 to 1, got 2"),
            (
                Error::ImageTooSmall { width: 1, height: 2, min_side: 4 },
                "the image is 1x2, smaller than this network allows; both sides need at least 4 pixels",
            ),
            (
                Error::GpuUnavailable { reason: "none".into() },
                "no usable GPU: none; use the CPU backend instead (--backend cpu)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn every_remedy_on_the_web_names_no_cli_flag() {
        let errors = [
            Error::ModelFormat { reason: String::new() },
            Error::ModelVersion { found: 2, supported: 1 },
            Error::ModelGraph { reason: String::new() },
            Error::StyleVector { reason: String::new() },
            Error::StyleKind { reason: String::new() },
            Error::ImageTooLarge { width: 1, height: 1, max_side: 1, max_pixels: 1 },
            Error::TileSize { side: 3, multiple: 4 },
            Error::GpuUnavailable { reason: String::new() },
            Error::GpuBufferLimit { needed: 2, limit: 1 },
            Error::GpuFailed { reason: String::new() },
        ];
        for error in errors {
            let web = error.message(Surface::Web);
            assert!(!web.contains("--") && !web.contains("convert.py"), "{web}");
            assert_ne!(web, error.message(Surface::Native));
        }
    }
}
