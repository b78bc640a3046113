//! JavaScript option values to vitrine's types, with the same errors a Rust caller would get.

use wasm_bindgen::{JsCast, JsValue};

use super::error::js_error;
use super::DEFAULT_MAX_SIZE;
use crate::{Backend, Error, StyleSpec};

pub fn backend_of(name: &str) -> Result<Backend, JsValue> {
    match name {
        "auto" => Ok(Backend::Auto),
        "webgpu" => Ok(Backend::Gpu),
        "cpu" => Ok(Backend::Cpu),
        other => Err(js_error("BAD_OPTION", &format!("backend must be 'auto', 'webgpu' or 'cpu', got '{other}'"))),
    }
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
        "style must be a preset index such as 19, or a mix such as { 3: 0.5, 12: 0.5 }",
    ))
}

fn bad_index(shown: &str) -> JsValue {
    js_error("STYLE_INDEX", &format!("style index {shown} is not a whole number from 0; use an index from styler.styles"))
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
