//! Errors as JavaScript sees them: an `Error` with a stable `code` and the message for the web surface
//! (`Error::message(Surface::Web)`), whose remedy names the JS option to change.

use wasm_bindgen::JsValue;

use crate::error::Surface;
use crate::Error;

/// An `Error` whose `code` property a page can switch on.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error cannot fail; if it somehow did, the message still carries the cause.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// The stable code of each `vitrine::Error`. Matched exhaustively, so a new variant must be given one here.
pub fn code(error: &Error) -> &'static str {
    match error {
        Error::ModelFormat { .. } => "MODEL_FORMAT",
        Error::ModelVersion { .. } => "MODEL_VERSION",
        Error::ModelGraph { .. } => "MODEL_GRAPH",
        Error::StyleIndex { .. } => "STYLE_INDEX",
        Error::StyleWeights { .. } => "STYLE_WEIGHTS",
        Error::StyleVector { .. } => "STYLE_VECTOR",
        Error::StyleKind { .. } => "STYLE_KIND",
        Error::Strength { .. } => "STRENGTH",
        Error::ImageTooSmall { .. } => "IMAGE_TOO_SMALL",
        Error::ImageTooLarge { .. } => "IMAGE_TOO_LARGE",
        Error::PixelBuffer { .. } => "BAD_IMAGE",
        Error::GpuUnavailable { .. } => "GPU_UNAVAILABLE",
        Error::GpuBufferLimit { .. } => "GPU_BUFFER_LIMIT",
        Error::TileSize { .. } | Error::BackgroundMode { .. } => "BAD_OPTION",
        Error::GpuFailed { .. } => "GPU_FAILED",
        Error::Internal { .. } => "INTERNAL",
    }
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        js_error(code(&error), &error.message(Surface::Web))
    }
}
