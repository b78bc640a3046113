//! One error type for everything a caller can get wrong or run into. Each message says what to do next.

use thiserror::Error;

/// Everything vitrine can report. Marked non-exhaustive so new cases do not break callers.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The model bytes are not a readable vitrine model (truncated, not safetensors, damaged header or tensors).
    #[error("the model file is damaged or is not a vitrine model ({reason}); use the model that ships with vitrine or re-run models/convert.py")]
    ModelFormat { reason: String },

    /// The model was written by a newer (or unknown) version of the converter.
    #[error("the model file has format version {found}, but this build of vitrine reads version {supported}; convert the model again with this release's models/convert.py")]
    ModelVersion { found: u64, supported: u64 },

    /// The model's graph is inconsistent: a tensor missing, a shape that does not match the op, an unknown name.
    #[error(
        "the model's graph is inconsistent: {reason}; the file was not produced by models/convert.py or was altered"
    )]
    ModelGraph { reason: String },

    /// A preset style index beyond the model's styles.
    #[error("style index {index} does not exist; this model has styles 0 to {}", count - 1)]
    StyleIndex { index: usize, count: usize },

    /// Style weights that cannot be normalised into a mix.
    #[error("style weights are not usable: {reason}; give non-negative finite weights with a positive sum, for example 3:0.5,12:0.5")]
    StyleWeights { reason: String },

    /// A style vector that does not fit the model: wrong length, not finite, or a file of another format or version.
    #[error("the style vector is not usable: {reason}; make one from a picture with `vitrine style PICTURE -o style.json` (or styleFromImage in the browser)")]
    StyleVector { reason: String },

    /// The style given is of a kind this model does not take (a preset for the arbitrary-style model, say).
    #[error("{reason}")]
    StyleKind { reason: String },

    /// The blend with the original photo must be a fraction.
    #[error("strength must be a number from 0 to 1, got {value}")]
    Strength { value: f32 },

    /// Zero-sized or too small for the network's convolutions.
    #[error(
        "the image is {width}x{height}, smaller than this network allows; both sides need at least {min_side} pixels"
    )]
    ImageTooSmall { width: u32, height: u32, min_side: u32 },

    /// Beyond the configured limits.
    #[error("the image is {width}x{height}, beyond the limits of {max_side} pixels a side and {max_pixels} pixels in all; scale it down first (the CLI's --max-size does this)")]
    ImageTooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },

    /// The pixel buffer does not match the stated size.
    #[error("the pixel buffer holds {got} bytes, but a {width}x{height} RGBA image needs {expected}")]
    PixelBuffer { width: u32, height: u32, expected: usize, got: usize },

    /// No GPU adapter or device could be had.
    #[error("no usable GPU: {reason}; use the CPU backend instead (--backend cpu)")]
    GpuUnavailable { reason: String },

    /// The image needs a buffer larger than this GPU allows in one binding.
    #[error("this image needs a {needed}-byte GPU buffer, but the GPU allows {limit} bytes per buffer; use a smaller image or the CPU backend")]
    GpuBufferLimit { needed: u64, limit: u64 },

    /// The GPU device was lost or a GPU operation failed mid-run.
    #[error("the GPU failed while styling ({reason}); try again, or use the CPU backend")]
    GpuFailed { reason: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn graph(reason: impl Into<String>) -> Self {
        Error::ModelGraph { reason: reason.into() }
    }

    pub(crate) fn format(reason: impl Into<String>) -> Self {
        Error::ModelFormat { reason: reason.into() }
    }
}
