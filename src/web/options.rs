//! JavaScript option values to vitrine's types, with the same errors a Rust caller would get.

use wasm_bindgen::{JsCast, JsValue};

use super::error::js_error;
use crate::pixels::DEFAULT_MAX_SIZE;
use crate::style::{blend_vectors, StyleFile, STYLE_FILE_FORMAT, STYLE_FILE_VERSION};
use crate::{Backend, Background, Error, StyleSpec};

pub fn backend_of(name: &str) -> Result<Backend, JsValue> {
    match name {
        "auto" => Ok(Backend::Auto),
        "webgpu" => Ok(Backend::Gpu),
        "cpu" => Ok(Backend::Cpu),
        other => Err(js_error("BAD_OPTION", &format!("backend must be 'auto', 'webgpu' or 'cpu', got '{other}'"))),
    }
}

/// What a `style` option asks for: the preset model's styles, or a style vector for the arbitrary-style model.
pub enum StyleRequest {
    Presets(StyleSpec),
    /// The (blended) vector, and the model each style file was made for.
    Vector {
        vector: Vec<f32>,
        models: Vec<String>,
    },
}

impl StyleRequest {
    /// The `StyleSpec` the `Styler` takes.
    pub fn into_spec(self) -> StyleSpec {
        match self {
            StyleRequest::Presets(spec) => spec,
            StyleRequest::Vector { vector, .. } => StyleSpec::Vector(vector),
        }
    }
}

fn vector_error(reason: impl Into<String>) -> JsValue {
    Error::StyleVector { reason: reason.into() }.into()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn has(object: &JsValue, key: &str) -> bool {
    js_sys::Reflect::has(object, &JsValue::from_str(key)).unwrap_or(false)
}

/// Any `style` option: a style file object (`{ format: 'vitrine-style', version: 1, model, vector }`), a blend of
/// style files (`{ vectors: [{ style, weight }] }`), or a preset style as `style_of` reads it.
pub fn style_request_of(value: &JsValue) -> Result<StyleRequest, JsValue> {
    let plain_object = value.is_object() && !value.is_function() && !js_sys::Array::is_array(value);
    if plain_object && has(value, "vectors") {
        let parts = get(value, "vectors");
        if !js_sys::Array::is_array(&parts) {
            return Err(vector_error("`vectors` must be an array of { style, weight }"));
        }
        let parts: js_sys::Array = parts.unchecked_into();
        let mut files = Vec::with_capacity(parts.length() as usize);
        for (i, part) in parts.iter().enumerate() {
            if !part.is_object() {
                return Err(vector_error(format!("vectors[{i}] must be an object {{ style, weight }}")));
            }
            let file = style_file_of(&get(&part, "style")).map_err(|e| prefix(e, &format!("vectors[{i}].style: ")))?;
            let weight = get(&part, "weight");
            let weight = if weight.is_undefined() { Some(1.0) } else { weight.as_f64() };
            let Some(weight) = weight else {
                return Err(vector_error(format!("vectors[{i}].weight is not a number")));
            };
            files.push((file, weight as f32));
        }
        let blend: Vec<(&[f32], f32)> = files.iter().map(|(f, w)| (f.vector.as_slice(), *w)).collect();
        let vector = blend_vectors(&blend)?;
        return Ok(StyleRequest::Vector { vector, models: files.into_iter().map(|(f, _)| f.model).collect() });
    }
    if plain_object && ["format", "version", "model", "vector"].iter().any(|key| has(value, key)) {
        let file = style_file_of(value)?;
        return Ok(StyleRequest::Vector { vector: file.vector, models: vec![file.model] });
    }
    style_of(value).map(StyleRequest::Presets)
}

/// Prefixes the message of a coded JS error (to say which part of a blend it came from).
fn prefix(error: JsValue, text: &str) -> JsValue {
    let message = js_sys::Reflect::get(&error, &JsValue::from_str("message")).ok().and_then(|m| m.as_string());
    match message {
        Some(message) => {
            let _ = js_sys::Reflect::set(
                &error,
                &JsValue::from_str("message"),
                &JsValue::from_str(&format!("{text}{message}")),
            );
            error
        }
        None => error,
    }
}

/// A style file object, checked as `StyleFile::from_json` checks a file (format, version, finite numbers); the
/// vector may be an array or a typed array.
pub fn style_file_of(value: &JsValue) -> Result<StyleFile, JsValue> {
    if !value.is_object() || value.is_function() || js_sys::Array::is_array(value) {
        return Err(vector_error(format!(
            "a style vector is an object {{ format: '{STYLE_FILE_FORMAT}', version: {STYLE_FILE_VERSION}, model, vector }} as styleFromImage returns it"
        )));
    }
    let vector = get(value, "vector");
    if !(js_sys::Array::is_array(&vector) || js_sys::ArrayBuffer::is_view(&vector)) {
        return Err(vector_error("its `vector` is missing or is not an array of numbers"));
    }
    let numbers = js_sys::Array::from(&vector);
    let plain = js_sys::Array::new_with_length(numbers.length());
    for (i, number) in numbers.iter().enumerate() {
        match number.as_f64() {
            Some(n) if n.is_finite() && (n as f32).is_finite() => plain.set(i as u32, JsValue::from_f64(n)),
            _ => {
                let shown = match (number.as_f64(), number.as_string()) {
                    (Some(n), _) if n.is_nan() => "NaN".into(),
                    (Some(n), _) if n.is_infinite() => if n > 0.0 { "Infinity" } else { "-Infinity" }.into(),
                    (Some(n), _) => format!("{n}, beyond 32-bit floats,"),
                    (None, Some(text)) => format!("the string \"{text}\""),
                    _ if number.is_undefined() || number.is_null() => "empty".into(),
                    _ => "not a number".into(),
                };
                return Err(vector_error(format!("vector[{i}] is {shown}, not a finite number")));
            }
        }
    }
    // The same checks, in the same order, as a style file read from disk.
    let copy = js_sys::Object::new();
    for key in ["format", "version", "model"] {
        let _ = js_sys::Reflect::set(&copy, &JsValue::from_str(key), &get(value, key));
    }
    let _ = js_sys::Reflect::set(&copy, &JsValue::from_str("vector"), &plain);
    let text = js_sys::JSON::stringify(&copy).ok().and_then(|t| t.as_string()).unwrap_or_default();
    Ok(StyleFile::from_json(&text)?)
}

/// A preset index (a whole number), a `{ index: weight }` mix, or an array of one weight per style.
pub fn style_of(value: &JsValue) -> Result<StyleSpec, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(StyleSpec::Preset(0));
    }
    if let Some(number) = value.as_f64() {
        return Ok(StyleSpec::Preset(index_of(number, &format!("{number}"))?));
    }
    if let Some(array) = value.dyn_ref::<js_sys::Array>() {
        let weights = array.iter().map(|w| weight_of(&w)).collect::<Result<Vec<f32>, JsValue>>()?;
        return Ok(StyleSpec::Weights(weights));
    }
    if value.is_object() && !value.is_function() {
        let entries = js_sys::Object::entries(value.unchecked_ref());
        let mut mix = Vec::with_capacity(entries.length() as usize);
        for entry in entries.iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            let index = key.trim().parse::<f64>().map_err(|_| bad_index(&key))?;
            mix.push((index_of(index, &key)?, weight_of(&pair.get(1))?));
        }
        return Ok(StyleSpec::Mix(mix));
    }
    Err(js_error(
        "STYLE_WEIGHTS",
        "style must be a preset index such as 19, a mix such as { 3: 0.5, 12: 0.5 }, or a style vector from styler.styleFromImage",
    ))
}

fn bad_index(shown: &str) -> JsValue {
    js_error(
        "STYLE_INDEX",
        &format!("style index {shown} is not a whole number from 0; use an index from styler.styles"),
    )
}

fn index_of(number: f64, shown: &str) -> Result<usize, JsValue> {
    if number.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&number) {
        Ok(number as usize)
    } else {
        Err(bad_index(shown))
    }
}

fn weight_of(value: &JsValue) -> Result<f32, JsValue> {
    match value.as_f64() {
        Some(weight) => Ok(weight as f32),
        None => Err(Error::StyleWeights { reason: format!("weight {value:?} is not a number") }.into()),
    }
}

/// `undefined` is the full style; anything else must be a number from 0 to 1 (checked with the request).
pub fn strength_of(value: &JsValue) -> Result<f32, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(1.0);
    }
    match value.as_f64() {
        Some(strength) => Ok(strength as f32),
        None => Err(Error::Strength { value: f32::NAN }.into()),
    }
}

/// As `strength_of`, with the range checked now rather than with the request.
pub fn checked_strength(value: &JsValue) -> Result<f32, JsValue> {
    let strength = strength_of(value)?;
    if !(0.0..=1.0).contains(&strength) {
        return Err(Error::Strength { value: strength }.into());
    }
    Ok(strength)
}

/// The `background` option: `undefined` (or null) is `'auto'`; otherwise one of the modes' names, as the CLI's
/// `--background` takes them (`Background`'s `FromStr`), else `BAD_OPTION` naming the modes.
pub fn background_of(value: &JsValue) -> Result<Background, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Background::default());
    }
    let given = match value.as_string() {
        Some(name) => name,
        None => js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "?".into()),
    };
    Ok(given.parse::<Background>()?)
}

/// `None` for no scaling. `undefined` is the default size; 0 and `Infinity` mean the full size.
pub fn max_size_of(value: &JsValue) -> Result<Option<u32>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Some(DEFAULT_MAX_SIZE));
    }
    match value.as_f64() {
        Some(n) if n == 0.0 || n == f64::INFINITY => Ok(None),
        Some(n) if n.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&n) => Ok(Some(n as u32)),
        _ => Err(js_error(
            "BAD_OPTION",
            "maxSize must be a whole number of pixels (the longer side the image is styled at), or 0 for the full size",
        )),
    }
}

/// A width or height given as a JS number: a whole number of pixels that fits a u32 (the size checks against the
/// network and the limits come after).
pub fn pixel_count_of(value: f64, what: &str) -> Result<u32, JsValue> {
    if value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value) {
        return Ok(value as u32);
    }
    Err(js_error("BAD_OPTION", &format!("{what} must be a whole number of pixels, not {value}")))
}

/// `None` lets vitrine choose (whole images, or tiles where an image needs them). Otherwise every image is styled
/// in streamed tiles of this side, which must be a positive multiple of `multiple` (the network's stride product).
pub fn tile_size_of(value: &JsValue, multiple: usize) -> Result<Option<usize>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && (1.0..=u32::MAX as f64).contains(&n) && (n as usize).is_multiple_of(multiple) => Ok(Some(n as usize)),
        _ => Err(js_error(
            "BAD_OPTION",
            &format!("tileSize must be a whole number of pixels that is a positive multiple of {multiple} (the side of the tiles every image is then styled in), or left out to let vitrine choose"),
        )),
    }
}
