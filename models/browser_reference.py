#!/usr/bin/env python3
"""Reference outputs for the browser package test (tests/package/), from onnxruntime on the original fp32 network.

One photo the other fixtures never use (a 96x96 crop of www/samples/rocket.jpg) and two styles, preset 19 and a
mix, written to tests/fixtures/browser/rocket_96x96.safetensors:
  * `input`                 u8  [96, 96, 4]  the RGBA8 pixels the page hands to `styler.stylize`
  * `<case>.style_weights`  f32 [26]         the normalised mix
  * `<case>.expected`       f32 [3, 96, 96]  onnxruntime on the fp32 multistyle26.onnx (the raw network output)
and a metadata entry `cases` (JSON: each case's name, its `style` option as the JS API takes it, and what int8
weights cost against fp32 here). The network input is built as src/pixels.rs::prepare builds it.

    python models/browser_reference.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from convert import onnx_path, run_graph  # noqa: E402
from reference import load_int8_model, prepare, psnr, weights_of  # noqa: E402

ROOT = HERE.parent
OUT = ROOT / "tests" / "fixtures" / "browser" / "rocket_96x96.safetensors"
SOURCE = "www/samples/rocket.jpg"
CROP = (272, 118, 96, 96)  # left, top, width, height: the rocket's nose against the dusk sky
CASES = [("style19", {19: 1.0}), ("mix6_21", {6: 0.6, 21: 0.4})]


def main() -> int:
    left, top, w, h = CROP
    image = np.asarray(Image.open(ROOT / SOURCE).convert("RGBA"))
    rgba = np.ascontiguousarray(image[top:top + h, left:left + w], dtype=np.uint8)
    network_input = prepare(rgba)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one summation order, so reruns give the same bytes
    session = ort.InferenceSession(str(onnx_path()), options, providers=["CPUExecutionProvider"])
    ops, tensors, dequantised = load_int8_model()

    out = {"input": rgba}
    cases = []
    for name, spec in CASES:
        weights = weights_of(spec)
        fp32 = session.run(None, {"image": network_input[None], "style_weights": weights})[0][0][:, :h, :w]
        int8 = run_graph(ops, tensors, network_input, weights, dequantised)[:, :h, :w]
        out[f"{name}.style_weights"] = weights
        out[f"{name}.expected"] = np.ascontiguousarray(fp32, dtype=np.float32)
        quality = psnr(int8, fp32)
        style = next(iter(spec)) if len(spec) == 1 else {str(i): v for i, v in spec.items()}
        cases.append({"name": name, "style": style, "psnr_int8_vs_fp32_db": round(quality, 2)})
        print(f"{name}: style {style}: int8 vs fp32 PSNR {quality:.2f} dB")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    meta = {"source": SOURCE, "crop": dict(zip(("left", "top", "width", "height"), CROP)), "cases": cases}
    save_file(out, str(OUT), metadata={"cases": json.dumps(meta, sort_keys=True)})
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
