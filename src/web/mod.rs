//! The browser's entry points (wasm-bindgen). `www/lib/vitrine.js` wraps them in the public `Styler` class: it
//! fetches the models, turns any image source into RGBA bytes and queues calls; every option is checked here, so
//! JavaScript and Rust callers get the same rules and the same messages.
//!
//! One `WasmStyler` holds the preset model's `Styler` and, once a style vector is first used, a second `Styler` for
//! the arbitrary-style transformer, to which the style predictor is attached when a picture's vector is first
//! needed. The page fetches each model only then (`styleNeeds` says which a call needs), so a page that only uses
//! presets downloads neither.
//!
//! `tileSize` (a create option, for tests and tuning) makes both `Styler`s stream every image in tiles of that side
//! (`Styler::with_tile_size`); without it each image runs whole, or tiled where it needs to be (see `tiling`).
//!
//! `background` (`Background`'s names) goes to `Styler::stylize_report_async`, and `stylize` returns the image with
//! the report. Where the package finishes at full size without the network (`maxSize`, `finish`), it analyses the
//! full-size photo (`analyseBackdrop`): `composite` puts a result styled smaller and scaled up through that matte,
//! and `finish` re-blends a composited result against the photo as the mode treats its backdrop (`backdrop.rs`).

mod backdrop;
mod error;
#[cfg(feature = "gpu")]
mod live;
mod options;

use wasm_bindgen::prelude::*;

use crate::style::StyleFile;
use crate::tiling::Mode;
use crate::{pixels, Backend, Background, Error, Model, Options, StyleInput, Styler};
pub use error::{code, js_error};
#[cfg(feature = "gpu")]
pub use live::WasmLive;
use options::{
    backend_of, background_of, checked_strength, max_size_of, pixel_count_of, strength_of, style_request_of,
    tile_size_of, StyleRequest,
};

/// A `Styler` for JavaScript. Calls must not overlap (the wrapper queues them).
#[wasm_bindgen]
pub struct WasmStyler {
    styler: Styler,
    /// The arbitrary-style transformer (and its predictor, once attached), loaded on first use.
    vector: Option<Styler>,
    backend: Backend,
    /// Streamed tiles of this side for every image, in both models (`tileSize`).
    tile_size: Option<usize>,
}

#[wasm_bindgen]
impl WasmStyler {
    /// Loads `model` (the bytes of a vitrine model file) onto `backend` ("auto", "webgpu" or "cpu"). `tile_size`
    /// (`undefined`, or a positive multiple of the network's stride product, 4) streams every image in tiles of that
    /// side, even one that fits whole: for tests and tuning.
    pub async fn create(model: Vec<u8>, backend: String, tile_size: JsValue) -> Result<WasmStyler, JsValue> {
        console_error_panic_hook::set_once();
        let backend = backend_of(&backend)?;
        let model = Model::from_bytes(&model)?;
        let tile_size = tile_size_of(&tile_size, model.spatial_multiple)?;
        let styler = Styler::new_async(model, backend).await?.with_tile_size(tile_size)?;
        Ok(WasmStyler { styler, vector: None, backend, tile_size })
    }

    /// Which models a call with this `style` and `strength` needs, checking both first (so a bad style vector is
    /// refused before anything is downloaded): "presets", "vector" (the arbitrary-style transformer) or
    /// "predictor" (the transformer and the style predictor: strength below 1 with a style vector).
    #[wasm_bindgen(js_name = styleNeeds)]
    pub fn style_needs(style: JsValue, strength: JsValue) -> Result<String, JsValue> {
        let strength = checked_strength(&strength)?;
        Ok(match style_request_of(&style)? {
            StyleRequest::Presets(_) => "presets",
            StyleRequest::Vector { .. } if strength < 1.0 => "predictor",
            StyleRequest::Vector { .. } => "vector",
        }
        .into())
    }

    /// Checks a style as `stylize` will, a preset mix against `style_count` styles (a static function: a live
    /// session checks styles while a call may hold the styler).
    #[wasm_bindgen(js_name = checkStyle)]
    pub fn check_style(style: JsValue, style_count: u32) -> Result<(), JsValue> {
        match style_request_of(&style)? {
            StyleRequest::Presets(spec) => spec.resolve(style_count as usize).map(drop).map_err(JsValue::from),
            StyleRequest::Vector { .. } => Ok(()),
        }
    }

    /// Loads the arbitrary-style transformer (the bytes of `arbitrary_transform.vitrine.safetensors`) on this
    /// styler's backend.
    #[wasm_bindgen(js_name = loadVectorModel)]
    pub async fn load_vector_model(&mut self, model: Vec<u8>) -> Result<(), JsValue> {
        let model = Model::from_bytes(&model)?;
        if !matches!(model.style_input, StyleInput::Vector(_)) {
            return Err(Error::StyleKind {
                reason: format!(
                    "`{}` is not a style-vector model; pass arbitrary_transform.vitrine.safetensors as transformModel",
                    model.name
                ),
            }
            .into());
        }
        self.vector = Some(Styler::new_async(model, self.backend).await?.with_tile_size(self.tile_size)?);
        Ok(())
    }

    /// Attaches the style predictor (the bytes of `arbitrary_predict.vitrine.safetensors`) to the transformer.
    #[wasm_bindgen(js_name = loadPredictor)]
    pub async fn load_predictor(&mut self, model: Vec<u8>) -> Result<(), JsValue> {
        let model = Model::from_bytes(&model)?;
        let vector = self.vector_styler()?;
        Ok(vector.attach_predictor(model).await?)
    }

    #[wasm_bindgen(getter, js_name = hasVectorModel)]
    pub fn has_vector_model(&self) -> bool {
        self.vector.is_some()
    }

    #[wasm_bindgen(getter, js_name = hasPredictor)]
    pub fn has_predictor(&self) -> bool {
        self.vector.as_ref().is_some_and(Styler::has_predictor)
    }

    fn vector_styler(&mut self) -> Result<&mut Styler, JsValue> {
        self.vector.as_mut().ok_or_else(|| {
            Error::StyleKind { reason: "style vectors need the arbitrary-style model; load it first".into() }.into()
        })
    }

    /// A picture's style vector as a style file object: `{ format, version, model, vector }`, `vector` an array.
    #[wasm_bindgen(js_name = styleVector)]
    pub async fn style_vector(&mut self, width: u32, height: u32, rgba: Vec<u8>) -> Result<JsValue, JsValue> {
        let styler = self.vector_styler()?;
        let vector = styler.style_vector_async(width, height, &rgba).await?;
        let file = StyleFile::new(&styler.model().name, vector);
        let object = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
        let _ = set("format", JsValue::from_str(&file.format));
        let _ = set("version", JsValue::from(file.version));
        let _ = set("model", JsValue::from_str(&file.model));
        // Each number as the shortest decimal that reads back as the same f32, so `JSON.stringify` writes what the
        // CLI's style file holds (about 1 KB), not f64 digits of f32 values.
        let shortest = |v: f32| v.to_string().parse::<f64>().unwrap_or(f64::from(v));
        let numbers: js_sys::Array = file.vector.iter().map(|&v| JsValue::from_f64(shortest(v))).collect();
        let _ = set("vector", numbers.into());
        Ok(object.into())
    }

    /// "webgpu" or "cpu": what the next call runs on.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        match self.styler.backend_name() {
            "gpu" => "webgpu".into(),
            other => other.into(),
        }
    }

    /// "fused" (the default) or "baseline" (one kernel per op): the GPU kernels the next calls record, for
    /// benchmarks that compare them. Does nothing on the CPU.
    #[wasm_bindgen(js_name = useKernels)]
    pub fn use_kernels(&mut self, kernels: &str) -> Result<(), JsValue> {
        #[cfg(feature = "gpu")]
        let set = match kernels {
            "fused" => crate::gpu::KernelSet::Fused,
            "baseline" => crate::gpu::KernelSet::Baseline,
            other => {
                return Err(js_error("BAD_OPTION", &format!("kernels must be 'fused' or 'baseline', got '{other}'")))
            }
        };
        #[cfg(feature = "gpu")]
        self.styler.use_gpu_kernels(set);
        #[cfg(not(feature = "gpu"))]
        let _ = kernels;
        Ok(())
    }

    /// "f16" or "f32": how the network stores its activations where it runs (f16 on a WebGPU adapter with
    /// `shader-f16`).
    #[wasm_bindgen(getter)]
    pub fn precision(&self) -> String {
        self.styler.precision().into()
    }

    /// Why the CPU runs when `backend: 'auto'` was asked for (or after the GPU was lost), if it does.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.styler.fallback_reason().map(str::to_string)
    }

    /// The GPU adapter's name, when the GPU runs.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> Option<String> {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = self.styler.gpu() {
            return Some(gpu.summary().name.clone());
        }
        None
    }

    /// How the preset network runs an image styled at `width x height` (after `maxSize`): `{ mode, tiles, tileSize,
    /// halo, hostBytes, deviceBufferBytes }`, `mode` "whole", "layered" or "streamed"; `tiles` is 1 unless streamed.
    #[wasm_bindgen(js_name = tilePlan)]
    pub fn tile_plan(&self, width: f64, height: f64) -> Result<JsValue, JsValue> {
        // JS numbers, checked here: wasm-bindgen would wrap 2**32 + 8 to 8 and -1 to 4294967295.
        let (width, height) = (pixel_count_of(width, "width")?, pixel_count_of(height, "height")?);
        let plan = self.styler.tile_plan(width, height)?;
        let (mode, tiles, tile, halo) = match &plan.mode {
            Mode::Whole => ("whole", 1, None, 0),
            Mode::Layered => ("layered", 1, None, 0),
            Mode::Streamed { tile, halo, tiles, .. } => ("streamed", tiles.len(), Some(*tile), *halo),
        };
        let object = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
        let _ = set("mode", JsValue::from_str(mode));
        let _ = set("tiles", JsValue::from(tiles as u32));
        let _ = set("tileSize", tile.map_or(JsValue::NULL, |t| JsValue::from(t as u32)));
        let _ = set("halo", JsValue::from(halo as u32));
        let _ = set("hostBytes", JsValue::from_f64(plan.host_bytes as f64));
        let _ = set("deviceBufferBytes", JsValue::from_f64(plan.device_buffer_bytes as f64));
        Ok(object.into())
    }

    /// The smallest width and height the network accepts.
    #[wasm_bindgen(getter, js_name = minSide)]
    pub fn min_side(&self) -> u32 {
        self.styler.model().min_side
    }

    /// GPU readbacks the executor has made (null on the CPU). Read it between calls, not during one.
    #[wasm_bindgen(getter)]
    pub fn readbacks(&self) -> Option<f64> {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = self.styler.gpu() {
            return Some(gpu.readbacks() as f64);
        }
        None
    }

    /// The network's stride product: widths and heights it runs at without padding are multiples of it.
    #[wasm_bindgen(getter, js_name = spatialMultiple)]
    pub fn spatial_multiple(&self) -> u32 {
        self.styler.model().spatial_multiple as u32
    }

    /// `[{ id, name, thumbnail }]`, `thumbnail` a path relative to the package (null for a model of other styles).
    pub fn styles(&self) -> js_sys::Array {
        let count = self.styler.model().style_count;
        let mut named: Vec<(String, Option<String>)> = (0..count).map(|i| (format!("Style {i}"), None)).collect();
        // The manifest describes the built-in model's styles: a model with another count gets plain numbers.
        let presets = crate::model::builtin_styles();
        if presets.len() == count {
            for style in presets {
                if let Some(slot) = named.get_mut(style.id) {
                    *slot = (style.name, Some(style.thumbnail));
                }
            }
        }
        named
            .into_iter()
            .enumerate()
            .map(|(id, (name, thumbnail))| {
                let entry = js_sys::Object::new();
                let set = |key: &str, value: JsValue| js_sys::Reflect::set(&entry, &JsValue::from_str(key), &value);
                let _ = set("id", JsValue::from(id as u32));
                let _ = set("name", JsValue::from_str(&name));
                let _ = set("thumbnail", thumbnail.map_or(JsValue::NULL, |t| JsValue::from_str(&t)));
                JsValue::from(entry)
            })
            .collect()
    }

    /// The size a `width x height` image is styled at under `maxSize` (`undefined`: 1024; 0 or `Infinity`: full
    /// size), as `[width, height]`. Also checks `maxSize`.
    #[wasm_bindgen(js_name = workingSize)]
    pub fn working_size(width: u32, height: u32, max_size: JsValue) -> Result<Vec<u32>, JsValue> {
        let (w, h) = pixels::working_size(width, height, max_size_of(&max_size)?.unwrap_or(0));
        Ok(vec![w, h])
    }

    /// Styles RGBA8 pixels: `{ rgba, background }`, `rgba` a `Uint8Array` of the same size (alpha kept, but for a
    /// transparent backdrop) and `background` what was done with the backdrop (`{ mode, applied, product, reason
    /// }`). `style` is an index, a `{ index: weight }` mix, an array of one weight per style, a style file object or
    /// `{ vectors: [{ style, weight }] }`; `strength` is 0..1 (`undefined`: 1). With a style vector, strength blends
    /// in the photo's own vector (Magenta's way) and needs the predictor. `background` is a mode's name
    /// (`undefined`: "auto").
    #[allow(clippy::too_many_arguments)]
    pub async fn stylize(
        &mut self,
        width: u32,
        height: u32,
        rgba: Vec<u8>,
        style: JsValue,
        strength: JsValue,
        preserve_color: bool,
        background: JsValue,
    ) -> Result<JsValue, JsValue> {
        let choice = style_request_of(&style)?;
        let strength = strength_of(&strength)?;
        let background = background_of(&background)?;
        let styler = match &choice {
            StyleRequest::Presets(_) => &mut self.styler,
            StyleRequest::Vector { models, .. } => {
                let styler = self.vector_styler()?;
                let name = &styler.model().name;
                if let Some(other) = models.iter().find(|m| *m != name) {
                    return Err(Error::StyleVector {
                        reason: format!(
                            "it was made for the model `{other}`, and vitrine paints style vectors with `{name}`"
                        ),
                    }
                    .into());
                }
                styler
            }
        };
        let options = Options { style: choice.into_spec(), strength, preserve_color, background };
        let stylized = styler.stylize_report_async(width, height, &rgba, &options).await?;
        let object = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
        let _ = set("rgba", js_sys::Uint8Array::from(stylized.rgba.as_slice()).into());
        let _ = set("background", backdrop::report_object(&stylized.background));
        Ok(object.into())
    }

    /// Checks a `background` option (`undefined` is "auto") and returns the mode's name, before any pixel is read.
    #[wasm_bindgen(js_name = checkBackground)]
    pub fn check_background(background: &JsValue) -> Result<String, JsValue> {
        Ok(background_of(background)?.name().into())
    }

    /// The backdrop analysis of a full-size RGBA8 photo under `background` (a mode's name): `{ background, matte }`,
    /// `background` the report `stylize` gives for this photo and mode, `matte` a `Uint8Array` of one byte a pixel
    /// (255 product, 0 backdrop) when the backdrop is to be composited, else null (the photo is painted whole). For
    /// `composite` and `finish`, where a result is finished at full size without the network.
    #[wasm_bindgen(js_name = analyseBackdrop)]
    pub fn analyse_backdrop(width: u32, height: u32, rgba: &[u8], background: &JsValue) -> Result<JsValue, JsValue> {
        let mode = background_of(background)?;
        check_buffers(width, height, &[rgba])?;
        let (report, matte) = backdrop::analysed(width, height, rgba, mode);
        let object = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value);
        let _ = set("background", backdrop::report_object(&report));
        let _ = set("matte", matte.map_or(JsValue::NULL, |m| js_sys::Uint8Array::from(m.as_slice()).into()));
        Ok(object.into())
    }

    /// The strength and colour steps of `stylize` on an RGBA8 result: one styled smaller (`maxSize`), scaled back up
    /// and composited, or a full-strength result re-blended without running the network. Both `width x height`
    /// RGBA8. With a `matte` from `analyseBackdrop` (of `original`, under the same `background`), `styled` is a
    /// composited result and the blend is against the photo as the mode treats its backdrop (`unpainted`): the
    /// product fades as `stylize` fades it, and the backdrop stays the photo's own, pure white, or cut out.
    #[allow(clippy::too_many_arguments)]
    pub fn finish(
        width: u32,
        height: u32,
        original: &[u8],
        styled: &[u8],
        strength: JsValue,
        preserve_color: bool,
        background: &JsValue,
        matte: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, JsValue> {
        let strength = checked_strength(&strength)?;
        let mode = background_of(background)?;
        let (w, h) = (width as usize, height as usize);
        check_buffers(width, height, &[original, styled])?;
        let finish = pixels::Finish { strength, preserve_color };
        let Some(matte) = matte.filter(|_| mode != Background::Paint) else {
            return Ok(pixels::finish_rgba(styled, original, w, h, finish));
        };
        check_matte(width, height, &matte)?;
        let under = backdrop::unpainted(original, &matte, mode);
        let mut finished = pixels::finish_rgba(styled, &under, w, h, finish);
        if mode == Background::Transparent {
            backdrop::cut_out(&mut finished, original, &matte);
        }
        Ok(finished)
    }

    /// A painted frame (`styled`: styled smaller and scaled back up, say) through a `matte` from `analyseBackdrop`
    /// over the full-size photo, as `background` says: the photo's own backdrop, pure white, or the matte as alpha.
    /// `finish` then applies strength and colours to it.
    pub fn composite(
        width: u32,
        height: u32,
        original: &[u8],
        styled: &[u8],
        background: &JsValue,
        matte: &[u8],
    ) -> Result<Vec<u8>, JsValue> {
        let mode = background_of(background)?;
        check_buffers(width, height, &[original, styled])?;
        check_matte(width, height, matte)?;
        Ok(backdrop::composite(original, styled, matte, mode))
    }

    /// Checks a strength before an image is styled at a smaller size and finished at full size.
    #[wasm_bindgen(js_name = checkStrength)]
    pub fn check_strength(strength: &JsValue) -> Result<(), JsValue> {
        checked_strength(strength).map(drop)
    }

    /// Destroys the GPU device, as a driver reset would, so tests can watch the next call recover.
    #[wasm_bindgen(js_name = loseDevice)]
    pub fn lose_device(&self) -> bool {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = self.styler.gpu() {
            gpu.lose_device();
            return true;
        }
        false
    }
}

/// RGBA8 buffers of `width x height`, or `BAD_IMAGE`.
fn check_buffers(width: u32, height: u32, buffers: &[&[u8]]) -> Result<(), JsValue> {
    let expected = width as usize * height as usize * pixels::RGBA;
    match buffers.iter().find(|buffer| buffer.len() != expected) {
        Some(buffer) => Err(Error::PixelBuffer { width, height, expected, got: buffer.len() }.into()),
        None => Ok(()),
    }
}

/// A matte of one byte a pixel of `width x height`, or `BAD_IMAGE`.
fn check_matte(width: u32, height: u32, matte: &[u8]) -> Result<(), JsValue> {
    let expected = width as usize * height as usize;
    if matte.len() != expected {
        return Err(js_error(
            "BAD_IMAGE",
            &format!("the matte has {} bytes, but a {width}x{height} photo needs {expected}", matte.len()),
        ));
    }
    Ok(())
}
