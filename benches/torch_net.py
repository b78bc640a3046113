#!/usr/bin/env python3
"""vitrine's network in PyTorch, built from the model file's own graph, as the GPU peer of `benches/device.sh`.

    python3 benches/torch_net.py run --input DIR [--model FILE] [--sizes 512,1024,2048] [--device cuda|cpu]
                                     [--variants fp32,tf32,fp16,fp32-cl,tf32-cl,fp16-cl] [--runs 10] [--warmup 3]
                                     [--style 19] [--compare FILE | --compare-dir DIR] [--output-dir DIR]
                                     [--max-seconds S] [--json FILE]
    python3 benches/torch_net.py flops [--model FILE] [--sizes 512,1024,2048]
    python3 benches/torch_net.py inputs --input DIR --sizes 512,1024,2048
    python3 benches/torch_net.py report --torch FILE [--vitrine FILE]

The network is read from the model file's graph (`__metadata__["vitrine"]`, node by node, as src/model/ reads it):
int8 weights times their per-output-channel scale in f32 (exactly vitrine's `ConvWeights::weight`), instance norm
with the population variance and the style's gamma and beta (the style table rows mixed by the style weights, as
`StyleParams::mix` does), reflect or zero padding, nearest upsampling, ReLU, sigmoid, add, clip, global average pool.
Both sides therefore compute the same function; `--compare FILE` (one size) or `--compare-dir DIR` (holding
`vitrine_<size>.f32`) prints the PSNR of every variant's image against vitrine's `--output` (planar f32), as here:

    cargo bench --bench native -- --input target/bench --size 256 --backend cpu --output /tmp/v.f32 --no-stylize
    python3 benches/torch_net.py run --input target/bench --sizes 256 --device cpu --variants fp32 --compare /tmp/v.f32

Variants: `fp32` (TF32 off: `torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False`),
`tf32` (both on), `fp16` (`model.half()`, half input); `-cl` runs the same in the channels_last memory format, and
`-graph` captures the forward pass once as a CUDA graph and replays it (no launch per kernel: vitrine, too, makes one
submission per run). Every variant runs under `torch.inference_mode()` with `torch.backends.cudnn.benchmark = True`.
Instance norm is `F.instance_norm` in NCHW (f32 gamma and beta with a half input, so cuDNN's norm takes it); in
channels_last it is `torch.var_mean` over the plane, since `F.instance_norm` copies a channels_last tensor back to NCHW
first.

Two times per run: **device** (CUDA events around the forward pass; input and output stay on the GPU) and **host**
(wall clock from a host f32 array to a host f32 array: upload, any cast, forward, cast back, download), which is what
vitrine's `GpuExecutor::run` does and so the like-for-like figure. Medians of `--runs` runs after `--warmup`.

`inputs` writes each `photo_<size>.f32` that is missing from its `photo_<size>.rgba` (the same pixels divided by 255,
planar, as benches/native.py writes it), so a bundle need only carry the smaller RGBA files.
`report` prints the table `benches/device.sh` shows: medians, vitrine/torch ratios, GFLOP/s against the card's peak.
"""
import argparse
import json
import math
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "multistyle26.vitrine.safetensors"
METADATA_KEY = "vitrine"
FORMAT_NAME = "vitrine-model"
STYLE = 19
VARIANTS = ("fp32", "tf32", "fp16", "fp32-cl", "tf32-cl", "fp16-cl", "fp32-graph", "fp16-cl-graph")

# --- the model file -------------------------------------------------------------------------------------------------

DTYPES = {"F32": "<f4", "F16": "<f2", "I8": "i1", "U8": "u1", "I32": "<i4", "I64": "<i8", "F64": "<f8"}


def read_safetensors(path):
    """(tensors by name as numpy arrays, metadata dict), read by hand: an 8-byte header length, a JSON header, and
    the data, each tensor at its offsets from the end of the header."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = memoryview(data)[8 + length:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        tensors[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"])
    return tensors, metadata


def load_model(path):
    tensors, metadata = read_safetensors(path)
    if METADATA_KEY not in metadata:
        sys.exit(f"error: {path} has no `{METADATA_KEY}` metadata entry: not a vitrine model file")
    graph = json.loads(metadata[METADATA_KEY])
    if graph.get("format") != FORMAT_NAME:
        sys.exit(f"error: {path} is format {graph.get('format')!r}, not {FORMAT_NAME}")
    return graph, tensors


def dequantise(tensors, node):
    """vitrine's float weight for each int8 one: `q as f32 * scale[out channel]`, in f32."""
    q = tensors[node["weight"]]
    scale = tensors[node["weight_scale"]].astype(np.float32)
    return q.astype(np.float32) * scale[:, None, None, None]


def style_weights(graph, style):
    """One-hot weights for a preset index, as `StyleSpec::Preset(style).resolve` gives."""
    kind = graph["style"]["kind"]
    if kind != "preset_mix":
        sys.exit(f"error: this model takes a style of kind {kind}; only preset-mix models run here")
    count = graph["style"]["count"]
    if not 0 <= style < count:
        sys.exit(f"error: style {style} is outside 0..{count - 1}")
    weights = np.zeros(count, dtype=np.float32)
    weights[style] = 1.0
    return weights


def mix(table, weights):
    """`StyleParams::mix`: the rows of a `[styles][channels]` table summed in f32, style by style, skipping zeros."""
    out = np.zeros(table.shape[1], dtype=np.float32)
    for style, weight in enumerate(weights):
        if weight != 0.0:
            out = out + np.float32(weight) * table[style].astype(np.float32)
    return out


def sides(pad):
    """`pad` as (top, left, bottom, right): one number or four."""
    return (pad,) * 4 if isinstance(pad, int) else tuple(pad)


def conv_flops(graph, tensors, size):
    """Multiply-adds times two of every convolution at a `size x size` input: 2*kh*kw*(cin/groups)*cout*Hout*Wout,
    from a walk of the graph's shapes."""
    shapes = {graph["input"]["name"]: (graph["input"]["channels"], size, size)}
    total = 0
    for node in graph["nodes"]:
        op = node["op"]
        if op == "add":
            shapes[node["output"]] = shapes[node["inputs"][0]]
            continue
        c, h, w = shapes[node["input"]]
        if op == "conv2d":
            cout, cin_per_group, kh, kw = tensors[node["weight"]].shape
            top, left, bottom, right = sides(node["pad"])
            ho = (h + top + bottom - kh) // node["stride"] + 1
            wo = (w + left + right - kw) // node["stride"] + 1
            total += 2 * kh * kw * cin_per_group * cout * ho * wo
            shapes[node["output"]] = (cout, ho, wo)
        elif op == "upsample_nearest":
            shapes[node["output"]] = (c, h * node["factor"], w * node["factor"])
        elif op == "global_avg_pool":
            shapes[node["output"]] = (c, 1, 1)
        elif op in ("instance_norm", "relu", "sigmoid", "clip"):
            shapes[node["output"]] = (c, h, w)
        else:
            sys.exit(f"error: op {op} is not known here")
    return total


# --- the network in PyTorch -----------------------------------------------------------------------------------------


def build(graph, tensors, style):
    """The graph as a torch.nn.Module: one step per node, in the file's order, each value freed after its last use."""
    import torch
    import torch.nn.functional as F

    weights = style_weights(graph, style)

    class VitrineNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.channels_last = False
            uses = {}
            for index, node in enumerate(graph["nodes"]):
                for name in node.get("inputs", [node.get("input")]):
                    uses[name] = index
            self.last_use = uses
            for index, node in enumerate(graph["nodes"]):
                op = node["op"]
                key = f"n{index}"
                if op == "conv2d":
                    w = dequantise(tensors, node)
                    self.register_buffer(key + "_w", torch.from_numpy(w.copy()))
                    if node.get("bias"):
                        bias = tensors[node["bias"]].astype(np.float32).copy()
                        self.register_buffer(key + "_b", torch.from_numpy(bias))
                elif op == "instance_norm":
                    affine = node["affine"]
                    if "style_table" not in affine:
                        sys.exit(f"error: {node['name']}: only style-table norms run here")
                    table = affine["style_table"]
                    gamma = mix(tensors[table["gamma"]], weights)
                    beta = mix(tensors[table["beta"]], weights)
                    self.register_buffer(key + "_g", torch.from_numpy(gamma))
                    self.register_buffer(key + "_be", torch.from_numpy(beta))
                elif op not in ("relu", "sigmoid", "add", "upsample_nearest", "clip", "global_avg_pool"):
                    sys.exit(f"error: op {op} is not known here")

        def norm(self, x, key, eps):
            gamma, beta = getattr(self, key + "_g"), getattr(self, key + "_be")
            if not self.channels_last:
                return F.instance_norm(x, weight=gamma, bias=beta, eps=eps)
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, unbiased=False)
            scale = gamma.view(1, -1, 1, 1) * torch.rsqrt(var + eps)
            return (x - mean) * scale + beta.view(1, -1, 1, 1)

        def forward(self, x):
            values = {graph["input"]["name"]: x}
            for index, node in enumerate(graph["nodes"]):
                op = node["op"]
                key = f"n{index}"
                names = node.get("inputs", [node.get("input")])
                args = [values[n] for n in names]
                # In place where this node is its input's last reader (never on the caller's input).
                own = [self.last_use[n] == index and n != graph["input"]["name"] for n in names]
                last = all(own)
                if op == "conv2d":
                    top, left, bottom, right = sides(node["pad"])
                    y = args[0]
                    bias = getattr(self, key + "_b", None)
                    if node["pad_mode"] == "reflect":
                        if top or left or bottom or right:
                            y = F.pad(y, (left, right, top, bottom), mode="reflect")
                        y = F.conv2d(y, getattr(self, key + "_w"), bias, stride=node["stride"],
                                     groups=node["groups"])
                    elif top == bottom and left == right:
                        y = F.conv2d(y, getattr(self, key + "_w"), bias, stride=node["stride"],
                                     padding=(top, left), groups=node["groups"])
                    else:
                        y = F.pad(y, (left, right, top, bottom))
                        y = F.conv2d(y, getattr(self, key + "_w"), bias, stride=node["stride"],
                                     groups=node["groups"])
                elif op == "instance_norm":
                    y = self.norm(args[0], key, node["eps"])
                elif op == "relu":
                    y = torch.relu_(args[0]) if last else torch.relu(args[0])
                elif op == "sigmoid":
                    y = torch.sigmoid_(args[0]) if last else torch.sigmoid(args[0])
                elif op == "clip":
                    y = torch.clamp(args[0], node["min"], node["max"])
                elif op == "add":
                    y = args[0].add_(args[1]) if own[0] else args[0] + args[1]
                elif op == "upsample_nearest":
                    y = F.interpolate(args[0], scale_factor=node["factor"], mode="nearest")
                elif op == "global_avg_pool":
                    y = args[0].mean(dim=(2, 3), keepdim=True)
                for n in names:
                    if self.last_use[n] == index and n != graph["output"]:
                        values.pop(n, None)
                values[node["output"]] = y
            return values[graph["output"]]

    return VitrineNet()


def configure(variant):
    """(dtype, channels_last, CUDA graph) for a variant (`fp32`, `tf32` or `fp16`, then `-cl` and/or `-graph`),
    after setting the backends' TF32 switches for it."""
    import torch

    base, *options = variant.split("-")
    if base not in ("fp32", "tf32", "fp16") or not set(options) <= {"cl", "graph"} or len(set(options)) < len(options):
        sys.exit(f"error: unknown variant {variant} (fp32, tf32 or fp16, then -cl and/or -graph)")
    tf32 = base == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    return (torch.float16 if base == "fp16" else torch.float32), "cl" in options, "graph" in options


# --- inputs and outputs ---------------------------------------------------------------------------------------------


def planar_from_rgba(rgba, size):
    """benches/native.py's planar f32 from the RGBA8 of the same image: RGB / 255, channels first."""
    rgb = np.fromfile(rgba, dtype=np.uint8).reshape(size, size, 4)[:, :, :3]
    return np.ascontiguousarray((rgb.astype(np.float32) / 255.0).transpose(2, 0, 1))


def read_input(directory, size):
    path = Path(directory) / f"photo_{size}.f32"
    if path.exists():
        return np.fromfile(path, dtype="<f4").reshape(3, size, size)
    rgba = Path(directory) / f"photo_{size}.rgba"
    if not rgba.exists():
        sys.exit(f"error: neither {path} nor {rgba} exists (benches/native.py --prepare-only writes them)")
    return planar_from_rgba(rgba, size)


def psnr(a, b):
    """As benches/native.py: both clipped to 0..1."""
    mse = float(np.mean((np.clip(a, 0, 1).astype(np.float64) - np.clip(b, 0, 1).astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


def median(values):
    return statistics.median(values) if values else None


# --- timing ---------------------------------------------------------------------------------------------------------


def time_variant(net, host, variant, device, runs, warmup, deadline):
    """Device and host times (ms) of `runs` runs after `warmup`, and the last output as planar f32. Stops early
    (fewer runs, at least one) once `deadline` (time.monotonic) has passed."""
    import torch

    dtype, channels_last, graphed = configure(variant)
    if graphed and device.type != "cuda":
        raise NotImplementedError("CUDA graphs need a CUDA device")
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = net.to(device=device, dtype=dtype)
    if channels_last:
        model = model.to(memory_format=fmt)
    model.channels_last = channels_last
    if device.type == "cuda" and dtype != torch.float32 and not channels_last:
        # F.instance_norm takes f32 gamma and beta with a half input, which lets cuDNN's norm take it.
        for name, buffer in list(model.named_buffers()):
            if name.endswith(("_g", "_be")):
                setattr(model, name, buffer.float())
    cuda = device.type == "cuda"
    source = torch.from_numpy(host[None])

    def upload():
        x = source.to(device)
        if dtype != torch.float32:
            x = x.to(dtype)
        return x.contiguous(memory_format=fmt)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    device_ms, host_ms = [], []
    with torch.inference_mode():
        x = upload()
        sync()
        if graphed:
            # Warm-up (cuDNN's search included) on a side stream, then one capture of the whole forward pass, which
            # replays without a launch per kernel; the host run copies into the captured input (cast included).
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(max(warmup, 2)):
                    model(x)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                captured = model(x)

            def forward():
                graph.replay()
                return captured

            def host_run():
                x.copy_(source)
                return forward()
        else:
            def forward():
                return model(x)

            def host_run():
                return model(upload())

        for _ in range(warmup):
            forward()
        sync()
        for i in range(runs):
            if i and time.monotonic() > deadline:
                break
            if cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                forward()
                end.record()
                torch.cuda.synchronize()
                device_ms.append(start.elapsed_time(end))
            else:
                started = time.perf_counter()
                forward()
                device_ms.append((time.perf_counter() - started) * 1e3)
            started = time.perf_counter()
            out = host_run().float().cpu().numpy()
            host_ms.append((time.perf_counter() - started) * 1e3)
    return device_ms, host_ms, np.ascontiguousarray(out[0])


def run(args):
    import torch

    graph, tensors = load_model(args.model)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("error: PyTorch sees no CUDA device (pass --device cpu to run on the CPU)")
    variants = args.variants.split(",")
    if args.compare and "," in args.sizes:
        sys.exit("error: --compare takes vitrine's output at one size; give one size, or use --compare-dir")
    for variant in variants:
        configure(variant)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__} on {name}; cuDNN {torch.backends.cudnn.version()}; "
          f"{args.runs} timed runs after {args.warmup} warm-up; medians in ms", file=sys.stderr)
    results = []
    started = time.monotonic()
    sizes = [int(s) for s in args.sizes.split(",")]
    # The eager variants at every size first, then the captured ones: a capture that fails cannot disturb them.
    eager = [v for v in variants if "graph" not in v.split("-")]
    plan = [(size, v) for group in (eager, [v for v in variants if v not in eager]) for size in sizes for v in group]
    inputs_by_size = {}
    for size, variant in plan:
        host = inputs_by_size.setdefault(size, read_input(args.input, size))
        flops = conv_flops(graph, tensors, size)
        reference = None
        if args.compare:
            reference = np.fromfile(args.compare, dtype="<f4")
        elif args.compare_dir:
            ref_path = Path(args.compare_dir) / f"vitrine_{size}.f32"
            if ref_path.exists():
                reference = np.fromfile(ref_path, dtype="<f4")
        if args.max_seconds and time.monotonic() - started > args.max_seconds:
            print(f"  {variant} at {size}: skipped, past --max-seconds {args.max_seconds}", file=sys.stderr)
            continue
        deadline = started + args.max_seconds if args.max_seconds else math.inf
        # A fresh copy of the f32 weights each time: .half() and the memory format change the module in place.
        net = build(graph, tensors, args.style)
        try:
            device_ms, host_ms, out = time_variant(net, host, variant, device, args.runs, args.warmup, deadline)
        except (RuntimeError, NotImplementedError) as error:
            print(f"  {variant} at {size}: failed: {str(error).splitlines()[0]}", file=sys.stderr)
            continue
        finally:
            del net
            if device.type == "cuda":
                torch.cuda.empty_cache()
        agreement = psnr(out.ravel(), reference) if reference is not None and reference.size == out.size else None
        if args.output_dir:
            Path(args.output_dir).mkdir(parents=True, exist_ok=True)
            out.astype("<f4").tofile(Path(args.output_dir) / f"torch_{variant}_{size}.f32")
        record = {"side": "torch", "variant": variant, "size": size, "device": name, "flops": flops,
                  "device_ms": device_ms, "host_ms": host_ms, "device_median_ms": median(device_ms),
                  "host_median_ms": median(host_ms), "psnr_vs_vitrine": agreement}
        results.append(record)
        psnr_text = f"{agreement:.1f} dB vs vitrine" if agreement is not None else "no vitrine output to compare"
        print(f"  {variant:13} {size:5} px: device {record['device_median_ms']:9.2f} ms, host "
              f"{record['host_median_ms']:9.2f} ms ({len(device_ms)} runs); {psnr_text}", file=sys.stderr)
    summary = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "device": name,
               "results": results}
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    else:
        print(json.dumps(summary))


def flops(args):
    graph, tensors = load_model(args.model)
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"{size} px: {conv_flops(graph, tensors, size) / 1e9:.2f} GFLOP in the convolutions")


def inputs(args):
    for size in [int(s) for s in args.sizes.split(",")]:
        target = Path(args.input) / f"photo_{size}.f32"
        if not target.exists():
            planar_from_rgba(Path(args.input) / f"photo_{size}.rgba", size).astype("<f4").tofile(target)
            print(f"wrote {target}")


# --- the report -----------------------------------------------------------------------------------------------------

# Peak dense throughput in TFLOP/s, by the name nvidia-smi gives: (f32 non-tensor, TF32 tensor, f16 tensor with f32
# accumulate, f16 non-tensor). NVIDIA's datasheets quote tensor figures "with sparsity", twice the dense ones halved
# here. Sources: H100/H200: the NVIDIA H100 Tensor Core GPU Architecture whitepaper (SXM5: 66.9 f32, 133.8 f16
# non-tensor, 494.7 TF32, 989.4 f16; PCIe: 51.2, 102.4, 378, 756) and the H200 datasheet (SXM: the same GH100 at the
# same clocks, 67 f32 / 989 TF32 / 1979 f16 with sparsity; NVL: 60 / 835 / 1671 with sparsity). A100: the NVIDIA A100
# Tensor Core GPU Architecture whitepaper (19.5 f32, 78 f16 non-tensor, 156 TF32, 312 f16). L4: the NVIDIA L4
# datasheet (30.3 f32, 120 TF32 and 242 f16 with sparsity). RTX 4090: the NVIDIA Ada GPU Architecture whitepaper,
# appendix A (82.6 f32 and f16 non-tensor, 82.6 TF32, 165.2 f16 with f32 accumulate).
PEAKS = (
    ("H200 NVL", (60.0, 417.5, 835.5, 120.0)),
    ("H200", (66.9, 494.7, 989.4, 133.8)),
    ("H100 PCIe", (51.2, 378.0, 756.0, 102.4)),
    ("H100 NVL", (60.0, 417.5, 835.5, 120.0)),
    ("H100", (66.9, 494.7, 989.4, 133.8)),
    ("A100", (19.5, 156.0, 312.0, 78.0)),
    ("L4", (30.3, 60.0, 121.0, 30.3)),
    ("RTX 4090", (82.6, 82.6, 165.2, 82.6)),
)


def peaks_for(name):
    for key, peaks in PEAKS:
        if key.lower() in (name or "").lower():
            return key, peaks
    return None, None


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def read_vitrine(path):
    """The bench binary's summary lines, each tagged by device.sh with the kernels it ran (`"kernels"`)."""
    rows = []
    if path and Path(path).exists():
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def fmt(value, spec):
    return format(value, spec) if value is not None else "-"


def rate_text(rate):
    return "-" if rate is None else f"{rate:.0f}" if rate >= 100 else f"{rate:.2f}"


def percent(rate, peak_tflops):
    if rate is None or not peak_tflops:
        return "-"
    value = 100 * rate / (peak_tflops * 1e3)
    return f"{value:.1f}" if value >= 1 else f"{value:.3f}"


def report(args):
    graph, tensors = load_model(args.model)
    torch_summary = json.loads(Path(args.torch).read_text()) if args.torch and Path(args.torch).exists() else {}
    torch_rows = torch_summary.get("results", [])
    vitrine_rows = read_vitrine(args.vitrine)
    name = args.gpu_name or gpu_name()
    key, peaks = peaks_for(name)
    if peaks:
        peak_text = (f"{key} peaks (dense, TFLOP/s): f32 {peaks[0]}, f16 {peaks[3]} (non-tensor); TF32 {peaks[1]}, "
                     f"f16 {peaks[2]} (tensor)")
    else:
        peak_text = f"unknown peak for {name or 'this machine (no nvidia-smi)'}"
    print(f"\nGPU: {name or 'none found by nvidia-smi'}; {peak_text}")
    if torch_summary:
        summary = torch_summary
        print(f"torch {summary.get('torch')} (cuDNN {summary.get('cudnn')}) on {summary.get('device')}")
    sizes = sorted({r["size"] for r in vitrine_rows} | {r["size"] for r in torch_rows})
    # Which peak each side may reach: vitrine's WGSL and torch's fp32 run on the f32 units, TF32 and fp16 on the
    # tensor cores (cuDNN picks them for convolutions).
    own_peak = {"vitrine": 0, "fp32": 0, "tf32": 1, "fp16": 2}
    header = ("size", "side", "median ms (host)", "median ms (device)", "vitrine/torch (host)",
              "vitrine/torch (device)", "GFLOP/s", "% f32 peak", "% own peak", "PSNR vs vitrine")
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size in sizes:
        flop = conv_flops(graph, tensors, size)
        ours = [r for r in vitrine_rows if r.get("size") == size]
        for v in ours:
            ms = v.get("network_median_ms")
            rate = flop / (ms * 1e-3) / 1e9 if ms else None
            label = f"vitrine [{v.get('kernels', 'default')}] {v.get('device', '')}"
            if v.get("software"):
                label += " SOFTWARE"
            pct = percent(rate, peaks[0] if peaks else None)
            print(f"| {size} | {label} | {fmt(ms, '.2f')} | - | - | - | {rate_text(rate)} | {pct} | {pct} | - |")
        for t in [r for r in torch_rows if r["size"] == size]:
            host_ms, device_ms = t["host_median_ms"], t["device_median_ms"]
            device_rate = flop / (device_ms * 1e-3) / 1e9 if device_ms else None
            base = t["variant"].partition("-")[0]
            ratio_host = "; ".join(f"{v['network_median_ms'] / host_ms:.2f}" for v in ours
                                   if v.get("network_median_ms") and host_ms) or "-"
            ratio_device = "; ".join(f"{v['network_median_ms'] / device_ms:.2f}" for v in ours
                                     if v.get("network_median_ms") and device_ms) or "-"
            pct_f32 = percent(device_rate, peaks[0] if peaks else None)
            pct_own = percent(device_rate, peaks[own_peak[base]] if peaks else None)
            agree = f"{t['psnr_vs_vitrine']:.1f} dB" if t.get("psnr_vs_vitrine") is not None else "-"
            print(f"| {size} | torch {t['variant']} | {fmt(host_ms, '.2f')} | {fmt(device_ms, '.2f')} | {ratio_host} | "
                  f"{ratio_device} | {rate_text(device_rate)} | {pct_f32} | {pct_own} | {agree} |")
    print("\nhost = planar f32 in host memory to planar f32 in host memory (vitrine's GpuExecutor::run, torch's "
          "upload, "
          "forward, download); device = torch's forward pass alone (CUDA events; wall clock on a CPU). vitrine/torch "
          "above 1: torch "
          "faster (one ratio per vitrine kernels entry, in the order of the vitrine rows). GFLOP/s from the "
          "convolutions' FLOPs (2*k*k*cin/groups*cout*Hout*Wout summed: "
          + ", ".join(f"{s} px {conv_flops(graph, tensors, s) / 1e9:.1f} GFLOP" for s in sizes)
          + "); GFLOP/s and % peak from the device time for torch, the host time for vitrine (its only one); own "
          "peak: f32 for vitrine and fp32, "
          "TF32 tensor for tf32, f16 tensor for fp16.")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="time the PyTorch variants")
    p_run.add_argument("--input", required=True, help="folder with photo_<size>.f32 or photo_<size>.rgba")
    p_run.add_argument("--sizes", default="512,1024,2048")
    p_run.add_argument("--device", default="cuda")
    p_run.add_argument("--variants", default=",".join(VARIANTS), help="fp32, tf32 or fp16, then -cl and/or -graph")
    p_run.add_argument("--runs", type=int, default=10)
    p_run.add_argument("--warmup", type=int, default=3)
    p_run.add_argument("--style", type=int, default=STYLE)
    p_run.add_argument("--max-seconds", type=float, default=0, help="skip what is left after this long (0: never)")
    p_run.add_argument("--compare-dir", help="folder with vitrine_<size>.f32 (vitrine's --output) to compare with")
    p_run.add_argument("--compare", help="vitrine's --output file for the one size in --sizes, to compare with")
    p_run.add_argument("--output-dir", help="write torch_<variant>_<size>.f32 (planar f32) here")
    p_run.add_argument("--json", help="write the timings here instead of standard output")
    p_flops = sub.add_parser("flops", help="the convolutions' FLOPs at each size")
    p_flops.add_argument("--sizes", default="512,1024,2048")
    p_inputs = sub.add_parser("inputs", help="write missing photo_<size>.f32 from photo_<size>.rgba")
    p_inputs.add_argument("--input", required=True)
    p_inputs.add_argument("--sizes", default="512,1024,2048")
    p_report = sub.add_parser("report", help="the table: medians, ratios, GFLOP/s against the card's peak")
    p_report.add_argument("--torch", help="run's --json file")
    p_report.add_argument("--vitrine", help="the bench binary's summary lines, one JSON object a line")
    p_report.add_argument("--gpu-name", help="the card's name (default: nvidia-smi's)")
    for p in (p_run, p_flops, p_report):
        p.add_argument("--model", default=str(DEFAULT_MODEL))
    args = parser.parse_args()
    {"run": run, "flops": flops, "inputs": inputs, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
