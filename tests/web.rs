//! The crate in the browser (headless Chromium, `make web-test`): the GPU path on WebGPU against the CPU path, the
//! backend choice, device-loss recovery and the JS bindings' errors. Chromium's WebGPU here is SwiftShader, on the
//! CPU at about 0.4 GFLOP/s, so images are tiny.
#![cfg(target_arch = "wasm32")]

use vitrine::graph::Tensor;
use vitrine::web::WasmStyler;
use vitrine::{cpu, gpu::GpuExecutor, pixels, Backend, Model, Options, StyleParams, StyleSpec, Styler};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// GPU against CPU on the network's raw output. lavapipe measures about 1e-5; different summation order in the
/// norm reductions and the GPU's fused multiply-adds stay far below the int8 weights' own error (0.02 to 0.05).
const MAX_ABS_NETWORK: f32 = 1e-3;
/// The same after rounding to RGBA8: one level either way where a value sits on a rounding boundary.
const MAX_ABS_RGBA8: u8 = 1;

const WIDTH: u32 = 24;
const HEIGHT: u32 = 20;

/// A photo-like RGBA8 test card: smooth gradients, a hard edge, and an alpha ramp in one corner.
fn test_card(width: u32, height: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let edge = if x * 2 > width { 200 } else { 40 };
            rgba.extend_from_slice(&[
                (x * 255 / width) as u8,
                (y * 255 / height) as u8,
                edge,
                if x < 6 && y < 6 { (x * 40 + y * 2) as u8 } else { 255 },
            ]);
        }
    }
    rgba
}

fn styles() -> [StyleSpec; 2] {
    [StyleSpec::Preset(19), StyleSpec::Mix(vec![(3, 0.5), (12, 0.5)])]
}

fn code_of(error: &JsValue) -> String {
    js_sys::Reflect::get(error, &JsValue::from_str("code")).ok().and_then(|c| c.as_string()).unwrap_or_default()
}

/// A field of a JS object the bindings returned.
fn field(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).expect("an object")
}

/// The pixels of `stylize`'s `{ rgba, background }`.
fn rgba_of(result: &JsValue) -> Vec<u8> {
    js_sys::Uint8Array::from(field(result, "rgba")).to_vec()
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[wasm_bindgen_test]
async fn gpu_network_output_matches_the_cpu() {
    let model = Model::builtin().expect("built-in model");
    let graph = &model.graph;
    let mut gpu = GpuExecutor::new(graph).await.expect("this browser has WebGPU (is --enable-unsafe-webgpu set?)");
    let rgba = test_card(WIDTH, HEIGHT);
    let (pw, ph) = model.padded_size(WIDTH, HEIGHT);
    let input: Tensor = pixels::prepare(&rgba, WIDTH as usize, HEIGHT as usize, pw, ph);
    for style in styles() {
        let weights = style.resolve(model.style_count).expect("valid style");
        let params = StyleParams::mix(graph, &weights);
        let expected = cpu::run(graph, input.clone(), &params).expect("CPU run");
        let got = gpu.run(graph, &input, &params).await.expect("GPU run");
        assert_eq!(got.shape, expected.shape);
        let diff = max_abs(&got.data, &expected.data);
        console_log!("{style:?} on {}: max abs GPU vs CPU {diff:.2e}", gpu.summary().name);
        assert!(diff <= MAX_ABS_NETWORK, "{style:?}: GPU differs from the CPU by {diff}");
    }
}

#[wasm_bindgen_test]
async fn gpu_styler_matches_the_cpu_styler_and_recovers_from_a_lost_device() {
    let mut gpu = Styler::new_async(Model::builtin().expect("model"), Backend::Gpu).await.expect("WebGPU styler");
    let mut cpu = Styler::new_async(Model::builtin().expect("model"), Backend::Cpu).await.expect("CPU styler");
    assert_eq!((gpu.backend_name(), cpu.backend_name()), ("gpu", "cpu"));
    let rgba = test_card(WIDTH, HEIGHT);
    let mut last = Vec::new();
    for style in styles() {
        let options = Options { style, strength: 0.9, preserve_color: false, ..Options::default() };
        let a = gpu.stylize_async(WIDTH, HEIGHT, &rgba, &options).await.expect("GPU stylize");
        let b = cpu.stylize_async(WIDTH, HEIGHT, &rgba, &options).await.expect("CPU stylize");
        assert_eq!(a.len(), rgba.len());
        let worst = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        assert!(worst <= MAX_ABS_RGBA8, "RGBA8 results differ by {worst}");
        assert!(a.iter().zip(&rgba).skip(3).step_by(4).all(|(x, y)| x == y), "alpha must be kept");
        last = a;
    }

    // A lost device (a driver reset, a tab in the background) fails no call: the next one opens a new device.
    gpu.gpu().expect("GPU engine").lose_device();
    let options = Options { style: styles()[1].clone(), strength: 0.9, preserve_color: false, ..Options::default() };
    let again = gpu.stylize_async(WIDTH, HEIGHT, &rgba, &options).await.expect("stylize after a device loss");
    assert_eq!(gpu.backend_name(), "gpu");
    assert!(!gpu.gpu().expect("GPU engine").is_lost(), "a fresh device");
    assert_eq!(again, last);
}

#[wasm_bindgen_test]
async fn auto_uses_the_cpu_on_a_software_adapter() {
    let model = Model::builtin().expect("model");
    let software = GpuExecutor::new(&model.graph).await.expect("WebGPU").summary().software;
    let styler = Styler::new_async(model, Backend::Auto).await.expect("auto styler");
    if software {
        // SwiftShader reports itself as a fallback adapter.
        assert_eq!(styler.backend_name(), "cpu");
        let reason = styler.fallback_reason().unwrap_or_default();
        assert!(reason.contains("software"), "{reason}");
    } else {
        assert_eq!(styler.backend_name(), "gpu");
    }
}

async fn cpu_bindings() -> WasmStyler {
    WasmStyler::create(vitrine::model::BUILTIN_MODEL.to_vec(), "cpu".into(), JsValue::UNDEFINED)
        .await
        .map_err(|e| code_of(&e))
        .expect("CPU bindings")
}

async fn stylize_error(styler: &mut WasmStyler, side: u32, style: JsValue, strength: JsValue) -> String {
    // Sizes are checked before the buffer, so a huge side needs no pixels.
    let rgba = if side > 256 { Vec::new() } else { test_card(side, side) };
    match styler.stylize(side, side, rgba, style, strength, false, JsValue::UNDEFINED).await {
        Ok(_) => String::from("no error"),
        Err(e) => code_of(&e),
    }
}

#[wasm_bindgen_test]
async fn bindings_report_each_bad_input_with_its_code() {
    let create = |bytes: Vec<u8>, backend: &str| WasmStyler::create(bytes, backend.into(), JsValue::UNDEFINED);
    let model = vitrine::model::BUILTIN_MODEL.to_vec();
    assert_eq!(create(model.clone(), "gpu").await.err().map(|e| code_of(&e)).as_deref(), Some("BAD_OPTION"));
    assert_eq!(
        create(b"not a model".to_vec(), "cpu").await.err().map(|e| code_of(&e)).as_deref(),
        Some("MODEL_FORMAT")
    );

    let mut styler = cpu_bindings().await;
    assert_eq!(styler.backend(), "cpu");
    assert_eq!(styler.styles().length(), 26);
    let mix = |pairs: &[(&str, f64)]| {
        let object = js_sys::Object::new();
        for (key, value) in pairs {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_f64(*value));
        }
        JsValue::from(object)
    };
    let one = JsValue::from_f64(1.0);
    let cases = [
        (20, JsValue::from_f64(26.0), one.clone(), "STYLE_INDEX"),
        (20, JsValue::from_f64(1.5), one.clone(), "STYLE_INDEX"),
        (20, JsValue::from_f64(-1.0), one.clone(), "STYLE_INDEX"),
        (20, mix(&[("x", 1.0)]), one.clone(), "STYLE_INDEX"),
        (20, mix(&[("3", -1.0)]), one.clone(), "STYLE_WEIGHTS"),
        (20, mix(&[("3", 0.0)]), one.clone(), "STYLE_WEIGHTS"),
        (20, mix(&[]), one.clone(), "STYLE_WEIGHTS"),
        (20, JsValue::from_str("19"), one.clone(), "STYLE_WEIGHTS"),
        (20, JsValue::from_f64(3.0), JsValue::from_f64(1.5), "STRENGTH"),
        (20, JsValue::from_f64(3.0), JsValue::from_f64(f64::NAN), "STRENGTH"),
        (20, JsValue::from_f64(3.0), JsValue::from_str("strong"), "STRENGTH"),
        (2, JsValue::from_f64(3.0), one.clone(), "IMAGE_TOO_SMALL"),
        (4097, JsValue::from_f64(3.0), one.clone(), "IMAGE_TOO_LARGE"),
    ];
    for (side, style, strength, code) in cases {
        let shown = format!("{side} px, style {style:?}, strength {strength:?}");
        assert_eq!(stylize_error(&mut styler, side, style, strength).await, code, "{shown}");
    }
    let short = styler
        .stylize(20, 20, vec![0; 10], JsValue::from_f64(0.0), JsValue::UNDEFINED, false, JsValue::UNDEFINED)
        .await;
    assert_eq!(short.err().map(|e| code_of(&e)).as_deref(), Some("BAD_IMAGE"));

    // A mix given as an object, as JS writes { 3: 0.5, 12: 0.5 }, is the Rust mix.
    let rgba = test_card(WIDTH, HEIGHT);
    let from_js = styler
        .stylize(
            WIDTH,
            HEIGHT,
            rgba.clone(),
            mix(&[("3", 0.5), ("12", 0.5)]),
            JsValue::UNDEFINED,
            false,
            JsValue::UNDEFINED,
        )
        .await
        .map(|result| rgba_of(&result))
        .map_err(|e| code_of(&e))
        .expect("stylize");
    let mut direct = Styler::new_async(Model::builtin().expect("model"), Backend::Cpu).await.expect("styler");
    let options = Options { style: styles()[1].clone(), ..Options::default() };
    assert_eq!(from_js, direct.stylize_async(WIDTH, HEIGHT, &rgba, &options).await.expect("stylize"));
}

#[wasm_bindgen_test]
fn working_size_and_finish() {
    let size = |w, h, max: JsValue| WasmStyler::working_size(w, h, max).map_err(|e| code_of(&e));
    assert_eq!(size(2000, 1000, JsValue::UNDEFINED), Ok(vec![1024, 512]));
    assert_eq!(size(300, 200, JsValue::UNDEFINED), Ok(vec![300, 200]));
    assert_eq!(size(300, 200, JsValue::from_f64(150.0)), Ok(vec![150, 100]));
    assert_eq!(size(5000, 10, JsValue::from_f64(0.0)), Ok(vec![5000, 10]));
    assert_eq!(size(5000, 10, JsValue::from_f64(1000.0)), Ok(vec![1000, 2]));
    assert_eq!(size(10, 10, JsValue::from_f64(-5.0)), Err("BAD_OPTION".into()));
    assert_eq!(size(10, 10, JsValue::from_f64(10.5)), Err("BAD_OPTION".into()));

    let photo = test_card(8, 6);
    let styled: Vec<u8> = photo.iter().map(|v| 255 - v).collect();
    let finish = |strength: f64| {
        WasmStyler::finish(8, 6, &photo, &styled, JsValue::from_f64(strength), false, &JsValue::UNDEFINED, None)
    };
    // Strength 0 is the photo (composited onto white under partial alpha, as the network saw it), alpha kept.
    let unchanged = finish(0.0).map_err(|e| code_of(&e)).expect("finish");
    assert!(unchanged.iter().zip(&photo).skip(3).step_by(4).all(|(a, b)| a == b));
    assert_eq!(unchanged[photo.len() - 4..], photo[photo.len() - 4..]);
    assert_eq!(finish(2.0).err().map(|e| code_of(&e)).as_deref(), Some("STRENGTH"));
}

/// The arbitrary-style pair is not compiled into the wasm library (the page fetches it); the test brings its own.
const TRANSFORM: &[u8] = include_bytes!("../models/arbitrary_transform.vitrine.safetensors");
const PREDICTOR: &[u8] = include_bytes!("../models/arbitrary_predict.vitrine.safetensors");

/// Styles the test card at full strength, or says which code it failed with.
async fn stylize_card(styler: &mut WasmStyler, style: JsValue) -> Result<Vec<u8>, String> {
    styler
        .stylize(WIDTH, HEIGHT, test_card(WIDTH, HEIGHT), style, JsValue::UNDEFINED, false, JsValue::UNDEFINED)
        .await
        .map(|result| rgba_of(&result))
        .map_err(|e| code_of(&e))
}

/// A style file object as `styleFromImage` returns it.
fn style_file(vector: &[f32], version: f64) -> JsValue {
    let object = js_sys::Object::new();
    let set = |key: &str, value: JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(key), &value).expect("set");
    set("format", JsValue::from_str("vitrine-style"));
    set("version", JsValue::from_f64(version));
    set("model", JsValue::from_str("arbitrary_transform"));
    let numbers: js_sys::Array = vector.iter().map(|&v| JsValue::from_f64(f64::from(v))).collect();
    set("vector", numbers.into());
    object.into()
}

/// Style vectors through the bindings: which models a call needs, a vector painted on WebGPU and on the CPU path
/// (within one level), the picture's vector from the predictor as a style file, and each bad vector's code.
#[wasm_bindgen_test]
async fn style_vectors_through_the_bindings() {
    let needs = |style: JsValue, strength: f64| {
        WasmStyler::style_needs(style, JsValue::from_f64(strength)).map_err(|e| code_of(&e))
    };
    let vector: Vec<f32> = (0..100).map(|i| ((i * 37 % 100) as f32 / 50.0 - 1.0) * 0.8).collect();
    assert_eq!(needs(JsValue::from_f64(19.0), 0.5), Ok("presets".into()));
    assert_eq!(needs(style_file(&vector, 1.0), 1.0), Ok("vector".into()));
    assert_eq!(needs(style_file(&vector, 1.0), 0.4), Ok("predictor".into()));
    // Format, version and numbers are checked before any model is loaded; the length needs the model.
    assert_eq!(needs(style_file(&vector, 2.0), 1.0), Err("STYLE_VECTOR".into()));
    assert_eq!(needs(style_file(&[0.1, f32::NAN], 1.0), 1.0), Err("STYLE_VECTOR".into()));
    assert_eq!(needs(style_file(&vector, 1.0), 1.5), Err("STRENGTH".into()));

    let (width, height) = (WIDTH, HEIGHT);
    let rgba = test_card(width, height);
    let mut painted = Vec::new();
    for backend in ["webgpu", "cpu"] {
        let mut styler = WasmStyler::create(vitrine::model::BUILTIN_MODEL.to_vec(), backend.into(), JsValue::UNDEFINED)
            .await
            .map_err(|e| code_of(&e))
            .expect("styler");
        // Before the transformer is loaded a vector has nothing to paint with.
        assert_eq!(stylize_card(&mut styler, style_file(&vector, 1.0)).await.err().as_deref(), Some("STYLE_KIND"));
        styler.load_vector_model(TRANSFORM.to_vec()).await.map_err(|e| code_of(&e)).expect("transformer");
        assert!(styler.has_vector_model() && !styler.has_predictor());
        painted.push(stylize_card(&mut styler, style_file(&vector, 1.0)).await.expect("a vector paints"));
        assert_eq!(
            stylize_card(&mut styler, style_file(&vector[..99], 1.0)).await.err().as_deref(),
            Some("STYLE_VECTOR")
        );
        // Presets still paint beside it.
        assert!(stylize_card(&mut styler, JsValue::from_f64(19.0)).await.is_ok());
    }
    let worst = painted[0].iter().zip(&painted[1]).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
    console_log!("a style vector on WebGPU vs the CPU path at {WIDTH}x{HEIGHT}: max difference {worst} of 255");
    assert!(worst <= MAX_ABS_RGBA8, "vector painting differs by {worst}");

    // The predictor on the CPU path: a picture's vector as a style file, which paints as the same numbers do.
    let mut styler = WasmStyler::create(vitrine::model::BUILTIN_MODEL.to_vec(), "cpu".into(), JsValue::UNDEFINED)
        .await
        .map_err(|e| code_of(&e))
        .expect("styler");
    styler.load_vector_model(TRANSFORM.to_vec()).await.map_err(|e| code_of(&e)).expect("transformer");
    styler.load_predictor(PREDICTOR.to_vec()).await.map_err(|e| code_of(&e)).expect("predictor");
    let file = styler.style_vector(width, height, rgba.clone()).await.map_err(|e| code_of(&e)).expect("style vector");
    let get = |key: &str| js_sys::Reflect::get(&file, &JsValue::from_str(key)).expect("field");
    assert_eq!(get("format").as_string().as_deref(), Some("vitrine-style"));
    assert_eq!(get("version").as_f64(), Some(1.0));
    let numbers: Vec<f32> =
        js_sys::Array::from(&get("vector")).iter().map(|v| v.as_f64().expect("a number") as f32).collect();
    assert_eq!(numbers.len(), 100);
    let mut direct =
        Styler::new_async(Model::from_bytes(TRANSFORM).expect("model"), Backend::Cpu).await.expect("styler");
    direct.attach_predictor(Model::from_bytes(PREDICTOR).expect("model")).await.expect("predictor");
    assert_eq!(
        numbers,
        direct.style_vector_async(width, height, &rgba).await.expect("vector"),
        "the file's numbers read back as the same f32"
    );
    let options =
        Options { style: StyleSpec::Vector(numbers), strength: 0.5, preserve_color: false, ..Options::default() };
    let expected = direct.stylize_async(width, height, &rgba, &options).await.expect("stylize");
    let got = styler
        .stylize(width, height, rgba.clone(), file, JsValue::from_f64(0.5), false, JsValue::UNDEFINED)
        .await
        .map(|result| rgba_of(&result))
        .map_err(|e| code_of(&e))
        .expect("stylize");
    assert_eq!(got, expected);
}

/// `tileSize` through the bindings: bad values are `BAD_OPTION`; a 256 px photo in 64 px tiles plans 16 streamed
/// tiles; forced tiles reach both the preset model and the lazily loaded transformer, and paint what whole runs paint
/// (on the CPU path at the test card's size: cheap, and each tile's crop with its halo is the whole card, so this
/// checks the plumbing; tests/package/run.mjs holds a 256 px photo in 64 px tiles to the whole run).
#[wasm_bindgen_test]
async fn tile_size_streams_both_models_in_tiles() {
    let create = |tile: JsValue| WasmStyler::create(vitrine::model::BUILTIN_MODEL.to_vec(), "cpu".into(), tile);
    for bad in [
        JsValue::from_f64(0.0),
        JsValue::from_f64(-8.0),
        JsValue::from_f64(30.0),
        JsValue::from_f64(6.5),
        JsValue::from_str("64"),
        JsValue::from_f64(f64::INFINITY),
    ] {
        let shown = format!("{bad:?}");
        assert_eq!(create(bad).await.err().map(|e| code_of(&e)).as_deref(), Some("BAD_OPTION"), "tileSize {shown}");
    }
    let plan_of = |styler: &WasmStyler, side: u32| {
        let plan = styler.tile_plan(side.into(), side.into()).map_err(|e| code_of(&e)).expect("plan");
        let get = |key: &str| js_sys::Reflect::get(&plan, &JsValue::from_str(key)).expect("field");
        (
            get("mode").as_string().unwrap_or_default(),
            get("tiles").as_f64().unwrap_or(0.0),
            get("halo").as_f64().unwrap_or(0.0),
        )
    };
    let mut whole = create(JsValue::UNDEFINED).await.map_err(|e| code_of(&e)).expect("styler");
    let mut tiled = create(JsValue::from_f64(8.0)).await.map_err(|e| code_of(&e)).expect("styler with tiles");
    assert_eq!(plan_of(&whole, 256), ("whole".into(), 1.0, 0.0));
    let sixty_four = create(JsValue::from_f64(64.0)).await.map_err(|e| code_of(&e)).expect("styler with tiles");
    assert_eq!(plan_of(&sixty_four, 256), ("streamed".into(), 16.0, 72.0));
    let plan_code = |w: f64, h: f64| sixty_four.tile_plan(w, h).err().map(|e| code_of(&e));
    assert_eq!(plan_code(2.0, 2.0).as_deref(), Some("IMAGE_TOO_SMALL"));
    assert_eq!(plan_code(4097.0, 8.0).as_deref(), Some("IMAGE_TOO_LARGE"));
    // JS numbers are checked, never wrapped into another size: 2**32 + 8 is not 8, -1 is not 4294967295.
    assert_eq!(plan_code(4_294_967_304.0, 8.0).as_deref(), Some("BAD_OPTION"));
    assert_eq!(plan_code(-1.0, -1.0).as_deref(), Some("BAD_OPTION"));
    assert_eq!(plan_code(64.5, 64.0).as_deref(), Some("BAD_OPTION"));
    assert_eq!(plan_code(f64::NAN, 64.0).as_deref(), Some("BAD_OPTION"));
    assert_eq!(plan_code(4_294_967_295.0, 4_294_967_295.0).as_deref(), Some("IMAGE_TOO_LARGE"));

    let vector: Vec<f32> = (0..100).map(|i| ((i * 37 % 100) as f32 / 50.0 - 1.0) * 0.8).collect();
    for styler in [&mut whole, &mut tiled] {
        styler.load_vector_model(TRANSFORM.to_vec()).await.map_err(|e| code_of(&e)).expect("transformer");
    }
    for style in [JsValue::from_f64(19.0), style_file(&vector, 1.0)] {
        let shown = format!("{style:?}");
        let a = stylize_card(&mut whole, style.clone()).await.expect("whole");
        let b = stylize_card(&mut tiled, style).await.expect("tiled");
        let worst = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
        console_log!("{shown} at {WIDTH}x{HEIGHT} in 8 px tiles vs whole: max difference {worst} of 255");
        assert!(worst <= MAX_ABS_RGBA8, "{shown}: tiles differ from the whole run by {worst}");
    }
}

/// A composited full-strength result re-blended by `finish` against `stylize` at that strength: the painted
/// product and its composite are each rounded to 8 bits before the blend, one rounding more than `stylize` makes.
const MAX_ABS_COMPOSITED: u8 = 2;

const PRODUCT_WIDTH: u32 = 200;
const PRODUCT_HEIGHT: u32 = 160;

/// A product photo as a studio takes one: a dark rounded box (a gradient and a lighter band, anti-aliased edges)
/// with a soft grey shadow on a white backdrop. tests/package/page.js draws the same photo.
fn product_photo(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (f64::from(width), f64::from(height));
    let rounded = |px: f64, py: f64, cx: f64, cy: f64, hx: f64, hy: f64, r: f64| {
        let (qx, qy) = ((px - cx).abs() - (hx - r), (py - cy).abs() - (hy - r));
        qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0) - r
    };
    let (cx, cy, hx, hy, r) = (w / 2.0, h * 0.46, w * 0.26, h * 0.25, 14.0);
    let mut rgba = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let cover = (0.5 - rounded(px, py, cx, cy, hx, hy, r)).clamp(0.0, 1.0);
            let shadow = (-(rounded(px, py, cx + 4.0, cy + 8.0, hx, hy, r).max(0.0) / 7.0).powi(2)).exp();
            let backdrop = 255.0 - 62.0 * shadow;
            let t = (py - (cy - hy)) / (2.0 * hy);
            let band = if (py - cy).abs() < 6.0 { 70.0 } else { 0.0 };
            let product = [38.0 + 30.0 * t + band, 46.0 + 34.0 * t + band, 62.0 + 40.0 * t + band * 0.6];
            for value in product {
                rgba.push((cover * value + (1.0 - cover) * backdrop).round() as u8);
            }
            rgba.push(255);
        }
    }
    rgba
}

/// The backdrop far from the product and its shadow: a ring along the frame's edges.
fn far_backdrop(width: u32, height: u32) -> impl Iterator<Item = usize> {
    (0..height).flat_map(move |y| {
        (0..width)
            .filter(move |&x| x < 14 || x >= width - 14 || y < 12 || y >= height - 12)
            .map(move |x| (y * width + x) as usize)
    })
}

/// `{ mode, applied, product, reason }` as Rust values.
fn report_of(report: &JsValue) -> (Option<String>, Option<String>, Option<f64>, Option<String>) {
    let text = |key| field(report, key).as_string();
    (text("mode"), text("applied"), field(report, "product").as_f64(), text("reason"))
}

/// What each mode makes of the product photo's far backdrop, `rgba` against the photo: kept (within 2 levels),
/// pure white, transparent, or painted (changed); and the product's centre opaque.
fn check_backdrop(mode: &str, rgba: &[u8], photo: &[u8], shown: &str) {
    let (w, h) = (PRODUCT_WIDTH, PRODUCT_HEIGHT);
    let far: Vec<usize> = far_backdrop(w, h).collect();
    let worst = far.iter().flat_map(|&i| (0..3).map(move |c| rgba[i * 4 + c].abs_diff(photo[i * 4 + c]))).max();
    match mode {
        "auto" | "keep" => assert!(worst <= Some(2), "{shown}: the far backdrop moved by {worst:?}"),
        "white" => {
            assert!(far.iter().all(|&i| rgba[i * 4..][..3] == [255; 3]), "{shown}: the far backdrop is not white")
        }
        "transparent" => {
            assert!(far.iter().all(|&i| rgba[i * 4 + 3] == 0), "{shown}: the far backdrop is not transparent")
        }
        _ => assert!(worst >= Some(40), "{shown}: the backdrop was not painted (at most {worst:?} levels)"),
    }
    if mode != "transparent" {
        assert!(far.iter().all(|&i| rgba[i * 4 + 3] == 255), "{shown}: alpha kept");
    }
    // The shadow just below the product (grey in the photo) is backdrop too: kept, made white, or cut away.
    let shade = ((h * 74 / 100) * w + w / 2) as usize * 4;
    let (grey, got, alpha) = (photo[shade], rgba[shade], rgba[shade + 3]);
    assert!(grey < 220, "the photo's shadow is grey ({grey})");
    let kept = match mode {
        "auto" | "keep" => got.abs_diff(grey) <= 2,
        "white" => got == 255,
        "transparent" => alpha == 0,
        _ => true,
    };
    assert!(kept, "{shown}: the shadow became {got} (alpha {alpha}) from {grey}");
    let centre = ((h * 46 / 100) * w + w / 2) as usize;
    assert_eq!(rgba[centre * 4 + 3], 255, "{shown}: the product's centre is opaque");
}

/// The product photo in style 19 with `background`, or the code it failed with.
async fn stylize_product(styler: &mut WasmStyler, photo: &[u8], background: JsValue) -> Result<JsValue, String> {
    let (w, h, style) = (PRODUCT_WIDTH, PRODUCT_HEIGHT, JsValue::from_f64(19.0));
    styler.stylize(w, h, photo.to_vec(), style, JsValue::UNDEFINED, false, background).await.map_err(|e| code_of(&e))
}

/// `background` through the bindings on a 200x160 product photo on white: each mode's backdrop and report, the
/// report's fields as the CLI's `--json` has them, `undefined` as auto and the core's own result, bad modes as
/// `BAD_OPTION`; then the full-size analysis (`analyseBackdrop`) and `finish` through its matte, which the package's
/// `maxSize` and strength re-blend use: a painted frame re-blended at strength 0.5 with true colours keeps, whitens
/// or cuts out the backdrop exactly.
#[wasm_bindgen_test]
async fn background_modes_through_the_bindings() {
    let (w, h) = (PRODUCT_WIDTH, PRODUCT_HEIGHT);
    let photo = product_photo(w, h);
    let mut styler = cpu_bindings().await;
    let mut painted = Vec::new();
    let mut full_strength = std::collections::HashMap::new();
    for (mode, applied) in
        [("auto", "kept"), ("keep", "kept"), ("white", "white"), ("transparent", "transparent"), ("paint", "painted")]
    {
        let result = stylize_product(&mut styler, &photo, JsValue::from_str(mode)).await.expect("stylize");
        let rgba = rgba_of(&result);
        let (got_mode, got_applied, product, reason) = report_of(&field(&result, "background"));
        console_log!("background '{mode}': applied {got_applied:?}, product {product:?}, reason {reason:?}");
        assert_eq!((got_mode.as_deref(), got_applied.as_deref(), reason), (Some(mode), Some(applied), None));
        if mode == "paint" {
            assert_eq!(product, None);
            painted = rgba.clone();
        } else {
            assert!(product.is_some_and(|p| (0.1..0.5).contains(&p)), "{mode}: product share {product:?}");
        }
        check_backdrop(mode, &rgba, &photo, &format!("stylize '{mode}'"));
        full_strength.insert(mode, result);
    }

    // `undefined` is auto, and the bindings give the core's own image and report.
    let default = stylize_product(&mut styler, &photo, JsValue::UNDEFINED).await.expect("stylize");
    let mut direct = Styler::new_async(Model::builtin().expect("model"), Backend::Cpu).await.expect("styler");
    let options = Options { style: StyleSpec::Preset(19), ..Options::default() };
    let expected = direct.stylize_report_async(w, h, &photo, &options).await.expect("stylize");
    assert_eq!(rgba_of(&default), expected.rgba);
    let (mode, applied, product, _) = report_of(&field(&default, "background"));
    assert_eq!((mode.as_deref(), applied.as_deref()), (Some("auto"), Some("kept")));
    assert_eq!(product.map(|p| p as f32), expected.background.product);

    for bad in [JsValue::from_str("grey"), JsValue::from_str("Auto"), JsValue::from_f64(1.0), JsValue::TRUE] {
        let shown = format!("background {bad:?}");
        assert_eq!(
            stylize_product(&mut styler, &photo, bad.clone()).await.err().as_deref(),
            Some("BAD_OPTION"),
            "{shown}"
        );
        assert_eq!(WasmStyler::check_background(&bad).err().map(|e| code_of(&e)).as_deref(), Some("BAD_OPTION"));
        let analysis = WasmStyler::analyse_backdrop(w, h, &photo, &bad);
        assert_eq!(analysis.err().map(|e| code_of(&e)).as_deref(), Some("BAD_OPTION"), "{shown}");
    }
    assert_eq!(WasmStyler::check_background(&JsValue::UNDEFINED).map_err(|e| code_of(&e)), Ok("auto".into()));
    let short = WasmStyler::analyse_backdrop(w, h, &photo[..100], &JsValue::UNDEFINED);
    assert_eq!(short.err().map(|e| code_of(&e)).as_deref(), Some("BAD_IMAGE"));

    // The full-size analysis, the painted frame composited through its matte (the maxSize path, where the frame
    // was styled smaller), and finish re-blending a composited result: the backdrop as the mode makes it, and a
    // full-strength result re-blended to 0.6 with true colours is what stylize gives at 0.6 (within a level).
    for (mode, applied) in [("auto", "kept"), ("white", "white"), ("transparent", "transparent")] {
        let background = JsValue::from_str(mode);
        let analysis =
            WasmStyler::analyse_backdrop(w, h, &photo, &background).map_err(|e| code_of(&e)).expect("analysis");
        let (_, got_applied, product, _) = report_of(&field(&analysis, "background"));
        assert_eq!(got_applied.as_deref(), Some(applied));
        assert_eq!(product.map(|p| p as f32), expected.background.product, "the analysis stylize made");
        let matte = js_sys::Uint8Array::from(field(&analysis, "matte")).to_vec();
        assert_eq!(matte.len(), (w * h) as usize);
        let composite =
            |matte: &[u8]| WasmStyler::composite(w, h, &photo, &painted, &background, matte).map_err(|e| code_of(&e));
        let composited = composite(&matte).expect("composite");
        check_backdrop(mode, &composited, &photo, &format!("composite '{mode}'"));
        assert_eq!(composite(&matte[1..]).err().as_deref(), Some("BAD_IMAGE"));
        let finish = |styled: &[u8], strength: f64, matte: Vec<u8>| {
            WasmStyler::finish(w, h, &photo, styled, JsValue::from_f64(strength), true, &background, Some(matte))
                .map_err(|e| code_of(&e))
        };
        let faded = finish(&composited, 0.5, matte.clone()).expect("finish");
        check_backdrop(mode, &faded, &photo, &format!("finish '{mode}'"));
        assert_eq!(finish(&composited, 0.5, matte[1..].to_vec()).err().as_deref(), Some("BAD_IMAGE"));

        let full = rgba_of(&full_strength[mode]);
        let reblended = finish(&full, 0.6, matte.clone()).expect("finish");
        let direct = styler
            .stylize(w, h, photo.clone(), JsValue::from_f64(19.0), JsValue::from_f64(0.6), true, background.clone())
            .await
            .map(|result| rgba_of(&result))
            .map_err(|e| code_of(&e))
            .expect("stylize");
        // Colours under alpha 0 are nobody's: a cut-out is compared where it shows.
        let shown = reblended.chunks_exact(4).zip(direct.chunks_exact(4)).filter(|(a, b)| a[3] > 0 || b[3] > 0);
        let worst = shown.flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| x.abs_diff(*y))).max().unwrap_or(0);
        console_log!("background '{mode}': finish to 0.6 with true colours vs stylize at 0.6: max difference {worst}");
        assert!(worst <= MAX_ABS_COMPOSITED, "'{mode}': finish differs from stylize by {worst}");
    }
    let paint = WasmStyler::analyse_backdrop(w, h, &photo, &JsValue::from_str("paint")).expect("analysis");
    assert!(field(&paint, "matte").is_null());
    assert_eq!(report_of(&field(&paint, "background")).1.as_deref(), Some("painted"));
    // A photo too small to judge is painted whole, and the report says why.
    let card = test_card(WIDTH, HEIGHT);
    let small = WasmStyler::analyse_backdrop(WIDTH, HEIGHT, &card, &JsValue::from_str("white")).expect("analysis");
    assert!(field(&small, "matte").is_null());
    let (_, applied, product, reason) = report_of(&field(&small, "background"));
    assert_eq!((applied.as_deref(), product, reason.as_deref()), (Some("painted"), None, Some("too-small")));
}

#[path = "support/studio_card.rs"]
mod studio_card;

/// The backdrop analysis in wasm makes the same matte bytes as natively: `tests/backdrop.rs` holds the native build
/// to this digest of the integer-drawn studio card's matte.
const STUDIO_CARD_MATTE: u64 = 0x0579_38d9_5045_c11f;

#[wasm_bindgen_test]
fn the_matte_is_the_same_bytes_as_natively() {
    let (w, h, rgba) = studio_card::studio_card();
    let vitrine::backdrop::Analysis::Product { matte, .. } = vitrine::backdrop::analyse(w, h, &rgba) else {
        panic!("the studio card has a product");
    };
    assert_eq!(studio_card::fnv1a(&matte.alpha), STUDIO_CARD_MATTE);
}
