#!/usr/bin/env python3
"""Reference outputs for vitrine's end-to-end tests, from onnxruntime on the original fp32 multistyle26.onnx.

Each case becomes tests/fixtures/<case>.safetensors holding
  * `input`          u8  [h, w, 4]  the RGBA8 bytes the Rust test feeds
  * `style_weights`  f32 [26]       the normalised style mix (what StyleSpec::resolve gives)
  * `expected`       f32 [3, h, w]  onnxruntime, fp32 weights, cropped back to h x w
  * `expected_int8`  f32 [3, h, w]  NumPy run of the shipped model's graph with its int8 weights dequantised:
                                    what the Rust CPU path computes, up to float summation order
and a metadata entry `case` (JSON: source image, crop, style spec, PSNRs, and what the model's f16 norm tables cost
against the same network with f32 tables). The network input is built exactly as
src/pixels.rs::prepare builds it, in f32, so both sides feed identical tensors.

    python models/reference.py      # rewrites tests/fixtures/*.safetensors and tests/fixtures/README.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from convert import onnx_path, recover_multistyle26, run_graph  # noqa: E402

ROOT = HERE.parent
SAMPLES = ROOT / "www" / "samples"
FIXTURES = ROOT / "tests" / "fixtures"
MODEL = HERE / "multistyle26.vitrine.safetensors"
STYLES = 26
MULTIPLE = 4  # two stride-2 convs

# name, sample, (left, top, width, height), style spec ({index: weight}), note
CASES = [
    ("coffee_64x64_style0", "coffee.jpg", (268, 120, 64, 64), {0: 1.0}, "sides a multiple of 4: no padding"),
    ("coffee_61x47_style19", "coffee.jpg", (150, 210, 61, 47), {19: 1.0}, "odd sides: reflect-padded to 64x48"),
    ("coffee_56x72_mix3_12", "coffee.jpg", (380, 60, 56, 72), {3: 0.5, 12: 0.5}, "a two-style mix, 3:0.5,12:0.5"),
    ("logo_72x70_style7", "logo.png", (0, 0, 72, 70), {7: 1.0},
     "RGBA: a transparent corner and the disc's anti-aliased edge; the colour under alpha 0 is scrambled"),
]


def prepare(rgba: np.ndarray) -> np.ndarray:
    """src/pixels.rs::prepare: composite onto white in f32, reflect-pad right/bottom to a multiple of 4, planar."""
    h, w, _ = rgba.shape
    f = rgba.astype(np.float32)
    value = f[..., :3] / np.float32(255.0)
    alpha = f[..., 3:] / np.float32(255.0)
    rgb = value * alpha + (np.float32(1.0) - alpha)
    pad_h, pad_w = -h % MULTIPLE, -w % MULTIPLE
    rgb = np.pad(rgb, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
    return np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)


def weights_of(spec: dict[int, float]) -> np.ndarray:
    w = np.zeros(STYLES, dtype=np.float32)
    for index, weight in spec.items():
        w[index] += np.float32(weight)
    return w / w.sum(dtype=np.float32)


def load_int8_model():
    tensors = load_file(str(MODEL))
    with safe_open(str(MODEL), framework="numpy") as f:
        description = json.loads(f.metadata()["vitrine"])

    def dequantised(op):
        q, scale = tensors[op["weight"]], tensors[op["weight_scale"]]
        return q.astype(np.float32) * scale[:, None, None, None]

    return description["nodes"], tensors, dequantised


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def case_input(sample: str, box, name: str) -> np.ndarray:
    left, top, w, h = box
    image = np.asarray(Image.open(SAMPLES / sample).convert("RGBA"))
    rgba = np.array(image[top:top + h, left:left + w], dtype=np.uint8)
    if sample == "logo.png":
        # Whatever hides under alpha 0 must not reach the network: fill it with a loud, deterministic pattern.
        hidden = rgba[..., 3] == 0
        y, x = np.nonzero(hidden)
        rgba[y, x, 0] = (x * 37) % 256
        rgba[y, x, 1] = (y * 91) % 256
        rgba[y, x, 2] = 255
        assert hidden.any() and (rgba[..., 3] == 255).any(), name
    return rgba


def main() -> int:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one summation order, so reruns on one machine give the same bytes
    session = ort.InferenceSession(str(onnx_path()), options, providers=["CPUExecutionProvider"])
    ops, tensors, dequantised = load_int8_model()
    # The same network with the norm tables as f32, as in the ONNX file (format version 1 stored them so).
    _, float_tensors, _ = recover_multistyle26(onnx.load(str(onnx_path())))
    f32_tables = dict(tensors, **{n: float_tensors[n] for n, t in tensors.items() if t.dtype == np.float16})

    rows = []
    for name, sample, box, spec, note in CASES:
        rgba = case_input(sample, box, name)
        h, w, _ = rgba.shape
        image = prepare(rgba)
        weights = weights_of(spec)
        fp32 = session.run(None, {"image": image[None], "style_weights": weights})[0][0][:, :h, :w]
        int8 = run_graph(ops, tensors, image, weights, dequantised)[:, :h, :w]
        quality = psnr(int8, fp32)
        f32_table_run = run_graph(ops, f32_tables, image, weights, dequantised)[:, :h, :w]
        table_cost = psnr(int8, f32_table_run)
        meta = {
            "source": f"www/samples/{sample}", "crop": {"left": box[0], "top": box[1], "width": w, "height": h},
            "padded": {"width": image.shape[2], "height": image.shape[1]},
            "style": ",".join(f"{i}:{v:g}" for i, v in spec.items()) if len(spec) > 1 else str(next(iter(spec))),
            "note": note, "psnr_int8_vs_fp32_db": round(quality, 2),
            "max_abs_int8_vs_fp32": round(float(np.abs(int8 - fp32).max()), 5),
            "psnr_f16_vs_f32_tables_db": round(table_cost, 2),
            "max_abs_f16_vs_f32_tables": round(float(np.abs(int8 - f32_table_run).max()), 5),
        }
        save_file({
            "input": rgba,
            "style_weights": weights,
            "expected": np.ascontiguousarray(fp32, dtype=np.float32),
            "expected_int8": np.ascontiguousarray(int8, dtype=np.float32),
        }, str(FIXTURES / f"{name}.safetensors"), metadata={"case": json.dumps(meta, sort_keys=True)})
        rows.append((name, w, h, meta["style"], quality, meta["max_abs_int8_vs_fp32"], table_cost,
                     meta["max_abs_f16_vs_f32_tables"]))
        print(f"{name}: {w}x{h} style {meta['style']}: int8 vs fp32 PSNR {quality:.2f} dB, "
              f"max abs {meta['max_abs_int8_vs_fp32']}; f16 vs f32 tables {table_cost:.2f} dB, "
              f"max abs {meta['max_abs_f16_vs_f32_tables']}")
    write_readme(rows)
    return 0


def write_readme(rows) -> None:
    table = "\n".join(f"| `{n}` | {w}x{h} | {s} | {p:.2f} | {m} | {tp:.2f} | {tm} |"
                      for n, w, h, s, p, m, tp, tm in rows)
    (FIXTURES / "README.md").write_text(f"""# End-to-end reference outputs

Written by `python models/reference.py` (do not edit by hand). Each `<case>.safetensors` holds `input` (u8 [h, w, 4],
RGBA8), `style_weights` (f32 [26], normalised), `expected` (f32 [3, h, w]: onnxruntime on the original fp32
`multistyle26.onnx`, cropped to h x w) and `expected_int8` (f32 [3, h, w]: a NumPy run of the shipped
`models/multistyle26.vitrine.safetensors` with its int8 weights dequantised), plus a `case` metadata entry (JSON).
The network input is built as `src/pixels.rs::prepare` does: composite onto white in f32, reflect-pad the right and
bottom to a multiple of 4, planar RGB in 0..1. Outputs are the raw network output (before `pixels::finish`).

What int8 weights cost against fp32 (PSNR over the cropped output, peak 1.0): the quality the Rust CPU path
should reach against `expected`. Against `expected_int8` it should agree to float rounding (about 1e-5). The last
two columns are what the model's f16 norm tables (format version 2) cost: `expected_int8` against the same int8
network with the tables as f32.

| case | size | style | PSNR int8 vs fp32 (dB) | max abs difference | PSNR f16 vs f32 tables (dB) | max abs difference |
| --- | --- | --- | --- | --- | --- | --- |
{table}
""")


if __name__ == "__main__":
    sys.exit(main())
