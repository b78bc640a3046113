#!/usr/bin/env python3
"""The large-photo reference: a 2048x2048 product photo styled with preset 19 by onnxruntime on the original fp32
multistyle26.onnx, the whole image at once. Too large to commit (50 MB), so `make large-test` writes it into
target/ before the test that reads it (tests/large.rs).

    python models/large_reference.py target/large-reference/coffee_2048_style19.safetensors
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from convert import onnx_path  # noqa: E402
from reference import SAMPLES, prepare, weights_of  # noqa: E402

SIDE = 2048
STYLE = 19


def main() -> int:
    out = Path(sys.argv[1])
    photo = Image.open(SAMPLES / "coffee.jpg").convert("RGBA")
    # The sample photo scaled up to a catalogue-sized square (Lanczos, as a seller's camera file would be smooth).
    rgba = np.asarray(photo.resize((SIDE, SIDE), Image.LANCZOS), dtype=np.uint8)
    session = ort.InferenceSession(str(onnx_path()), providers=["CPUExecutionProvider"])
    weights = weights_of({STYLE: 1.0})
    expected = session.run(None, {"image": prepare(rgba)[None], "style_weights": weights})[0][0]
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({"input": np.ascontiguousarray(rgba), "expected": np.ascontiguousarray(expected, dtype=np.float32)}, str(out))
    print(f"wrote {out}: {SIDE}x{SIDE}, style {STYLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
