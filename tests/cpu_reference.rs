//! The CPU executor against onnxruntime on the original fp32 network (fixtures from `models/reference.py`).
//!
//! Two bars per case: against a NumPy run of the same int8 weights the CPU path must agree to float rounding
//! (max abs 1e-3: rounding differences amplified through 18 conv+norm layers, measured up to 1.4e-4; the int8
//! quantisation error itself is 100 times larger, 0.02 to 0.05, so a wrong op cannot hide under it), and against the fp32 original it must reach 44 dB PSNR, which is what int8 weights cost
//! (45.3 to 51.4 dB measured on these cases; see tests/fixtures/README.md).

use std::path::Path;

use safetensors::SafeTensors;
use vitrine::{cpu, pixels, Model, StyleParams};

mod common;
use common::{crop_planar, f32s, psnr_unit as psnr};

const MAX_ABS_VS_INT8_REFERENCE: f32 = 1e-3;
const MIN_PSNR_VS_FP32_DB: f64 = 44.0;

#[test]
fn cpu_matches_onnxruntime_on_every_fixture() {
    let model = Model::builtin().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let tensors = SafeTensors::deserialize(&bytes).unwrap();
        let input = tensors.tensor("input").unwrap();
        let (height, width) = (input.shape()[0], input.shape()[1]);
        let weights = f32s(&tensors, "style_weights");
        let (padded_w, padded_h) = model.padded_size(width as u32, height as u32);
        let network_input = pixels::prepare(input.data(), width, height, padded_w, padded_h);
        let params = StyleParams::mix(&model.graph, &weights);
        let output = cpu::run(&model.graph, network_input, &params).unwrap();
        let got = crop_planar(&output, width, height);
        let int8_reference = f32s(&tensors, "expected_int8");
        let fp32_reference = f32s(&tensors, "expected");
        let max_abs = got.iter().zip(&int8_reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let quality = psnr(&got, &fp32_reference);
        let name = path.file_name().unwrap().to_string_lossy();
        println!("{name}: max abs vs int8 NumPy {max_abs:.2e}, PSNR vs fp32 onnxruntime {quality:.2} dB");
        assert!(max_abs <= MAX_ABS_VS_INT8_REFERENCE, "{name}: {max_abs} from the int8 reference");
        assert!(quality >= MIN_PSNR_VS_FP32_DB, "{name}: {quality} dB against fp32");
        cases += 1;
    }
    assert!(cases >= 4, "expected the four committed fixtures, found {cases}");
}
