//! Errors as JavaScript sees them: an `Error` with a stable `code` and a message that names the JS option to change.

use wasm_bindgen::JsValue;

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
        Error::GpuFailed { .. } => "GPU_FAILED",
    }
}

/// The message for a web page: the native messages name CLI flags where these name the JS options.
fn message(error: &Error) -> String {
    match error {
        Error::ModelFormat { reason } => {
            format!("the model file is damaged or is not a vitrine model ({reason}); leave the `model` option out to use the one in the package")
        }
        Error::ModelVersion { found, supported } => format!(
            "the model file has format version {found}, but this vitrine reads version {supported}; use the model that ships with this package version"
        ),
        Error::ModelGraph { reason } => format!(
            "the model's graph is inconsistent: {reason}; the file was altered or not made for vitrine; leave the `model` option out to use the one in the package"
        ),
        Error::ImageTooLarge { width, height, max_side, max_pixels } => format!(
            "the image is {width}x{height}, beyond the limits of {max_side} pixels a side and {max_pixels} pixels in all; pass a smaller `maxSize` (the default, 1024, scales it down for you)"
        ),
        Error::GpuUnavailable { reason } => {
            format!("no usable WebGPU: {reason}; use backend: 'auto' (which falls back to the CPU) or backend: 'cpu'")
        }
        Error::GpuBufferLimit { needed, limit } => format!(
            "this image needs a {needed}-byte GPU buffer, but this GPU allows {limit} bytes per buffer; pass a smaller `maxSize` (or `tileSize`, if you set one) or use backend: 'cpu'"
        ),
        Error::StyleVector { reason } => format!(
            "the style vector is not usable: {reason}; make one from a picture with styler.styleFromImage(picture), or pass the object it returned as it is"
        ),
        Error::GpuFailed { reason } => {
            format!("the GPU failed while styling ({reason}); try again, or use backend: 'cpu'")
        }
        other => other.to_string(),
    }
}

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        js_error(code(&error), &message(&error))
    }
}
