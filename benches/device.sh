#!/usr/bin/env bash
# vitrine's GPU path (Vulkan, through wgpu) against PyTorch on the same NVIDIA GPU, the same network, the same input.
#
#     bash target/device/device.sh                # on the NVIDIA machine, from the bundle `make device-bundle` makes
#     bash benches/device.sh --local              # here: vitrine on lavapipe and torch on the CPU, at 256 px
#
# The NVIDIA machine needs PyTorch with CUDA and numpy for python3, nothing else: no network, no Rust toolchain. The
# bundle (target/device/, see benches/BENCHMARKS.md) holds the release bench binary (benches/native.rs), the model
# file, the photo as RGBA8 at each size (the planar f32 the binary also reads is written from it here, the same pixels
# as benches/native.py writes), this script, benches/torch_net.py and the Vulkan loader's .deb (unpacked into / when
# no libvulkan.so.1 is there).
#
# Runs, within BUDGET_S seconds (480) in all:
#   1. vitrine, `--backend gpu`, the network alone (planar f32 in host memory to planar f32 in host memory), at each
#      size, once per entry KERNELS[:PRECISION] of KERNELS (default: fused:f16, fused:f32, baseline:f32; `default`:
#      the binary's own choice), passed as `--kernels NAME [--precision P]`; medians of its runs.
#   2. torch_net.py's variants (fp32 with TF32 off, tf32, fp16, each also channels_last, and two replayed as CUDA
#      graphs) at the same sizes, each image checked against vitrine's (PSNR).
#   3. The table: medians, vitrine/torch ratios, GFLOP/s against the card's peak (torch_net.py report).
#
# Options: --bundle DIR, --binary FILE, --model FILE, --inputs DIR (photo_<size>.rgba, and .f32 if made), --sizes LIST,
# --out DIR (default $OUT where set, else a new temporary folder), --local. Environment: KERNELS, TORCH_VARIANTS,
# TORCH_RUNS, BUDGET_S, PYTHON.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOCAL=0
SIZES=""
BUNDLE=""
BINARY=""
MODEL=""
INPUTS=""
OUT_DIR=""
while [ $# -gt 0 ]; do
    case "$1" in
        --local) LOCAL=1 ;;
        --bundle) BUNDLE=$2; shift ;;
        --binary) BINARY=$2; shift ;;
        --model) MODEL=$2; shift ;;
        --inputs) INPUTS=$2; shift ;;
        --sizes) SIZES=$2; shift ;;
        --out) OUT_DIR=$2; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# The bundle is this script's own folder when it was copied there, else target/device/ beside the sources.
if [ -z "$BUNDLE" ]; then
    if [ -x "$HERE/native" ]; then BUNDLE=$HERE; else BUNDLE=$ROOT/target/device; fi
fi
TORCH_NET=$HERE/torch_net.py
PYTHON=${PYTHON:-python3}
BUDGET_S=${BUDGET_S:-480}
# Entries KERNELS[:PRECISION]: the fused kernels in f16 and f32 (against torch fp16 and fp32) and the baseline.
KERNELS=${KERNELS:-fused:f16,fused:f32,baseline:f32}
if [ "$LOCAL" = 1 ]; then
    SIZES=${SIZES:-256}
    TORCH_VARIANTS=${TORCH_VARIANTS:-fp32,fp32-cl,tf32}
    TORCH_RUNS=${TORCH_RUNS:-2}
    TORCH_WARMUP=1
    TORCH_DEVICE=cpu
else
    SIZES=${SIZES:-512,1024,2048}
    TORCH_VARIANTS=${TORCH_VARIANTS:-fp32,tf32,fp16,fp32-cl,tf32-cl,fp16-cl,fp32-graph,fp16-cl-graph}
    TORCH_RUNS=${TORCH_RUNS:-20}
    TORCH_WARMUP=3
    TORCH_DEVICE=cuda
fi

find_binary() {
    local candidate
    for candidate in "$BUNDLE/native" "$ROOT"/target/release/deps/native-*; do
        if [ -f "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
    return 1
}
BINARY=${BINARY:-$(find_binary)} || {
    echo "error: no bench binary: pass --binary FILE, or run \`make device-bundle\` first" >&2
    exit 2
}
if [ -z "$MODEL" ]; then
    MODEL=$BUNDLE/multistyle26.vitrine.safetensors
    [ -f "$MODEL" ] || MODEL=$ROOT/models/multistyle26.vitrine.safetensors
fi
# Each size's photo from --inputs, else from the bundle or, failing that, target/bench (benches/native.py's folder).
INPUT_DIRS=("$BUNDLE/inputs" "$ROOT/target/bench")
[ -z "$INPUTS" ] || INPUT_DIRS=("$INPUTS")
OUT_DIR=${OUT_DIR:-${OUT:-$(mktemp -d)}}
mkdir -p "$OUT_DIR"
# Inputs and outputs at 2048 px are 50 MB each: kept out of $OUT, which comes back to the caller.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/compare"

echo "bench binary: $BINARY"
echo "model: $MODEL; sizes: $SIZES; results in $OUT_DIR"

# The Vulkan loader: the NVIDIA machine's image may lack it; the bundle carries Debian's.
if [ "$LOCAL" = 1 ]; then
    export WGPU_BACKEND=vulkan VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
else
    # (grep reads it all: with -q, ldconfig could die of SIGPIPE and pipefail would call the loader missing)
    if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
        found=0
        for deb in "$BUNDLE"/gl/*.deb "$ROOT"/.gl/*.deb; do
            [ -f "$deb" ] || continue
            dpkg -x "$deb" / && found=1
        done
        ldconfig || true
        [ "$found" = 1 ] || echo "warning: no libvulkan.so.1, no loader .deb in $BUNDLE/gl: vitrine finds no GPU" >&2
    fi
    # The driver's manifest lives under /usr/local/nvidia on these machines, where the loader does not look.
    NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NVIDIA_ICD" ] &&
        ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
        export VK_DRIVER_FILES=$NVIDIA_ICD
    fi
    export WGPU_BACKEND=vulkan
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$WORK/xdg}
mkdir -p "$XDG_RUNTIME_DIR"

if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw \
        --format=csv | tee "$OUT_DIR/nvidia-smi.csv"
fi

# Inputs: the binary reads photo_<size>.f32 and photo_<size>.rgba; the .f32 is written from the .rgba when missing.
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for size in "${SIZE_LIST[@]}"; do
    for dir in "${INPUT_DIRS[@]}"; do
        [ -f "$dir/photo_$size.rgba" ] || continue
        for ext in rgba f32; do
            [ -f "$dir/photo_$size.$ext" ] && ln -s "$(cd "$dir" && pwd)/photo_$size.$ext" "$WORK/photo_$size.$ext"
        done
        echo "photo at $size px: $dir"
        break
    done
    if [ ! -e "$WORK/photo_$size.rgba" ]; then
        echo "error: no photo_$size.rgba in ${INPUT_DIRS[*]} (benches/native.py --prepare-only --sizes $size)" >&2
        exit 2
    fi
done
"$PYTHON" "$TORCH_NET" inputs --input "$WORK" --sizes "$SIZES" >/dev/null

# 1. vitrine. Fewer runs at the larger sizes; each process is capped so that the torch side keeps its time.
VITRINE_LOG=$OUT_DIR/vitrine.jsonl
: >"$VITRINE_LOG"
VITRINE_BUDGET=$((BUDGET_S * 6 / 10))
runs_for() {
    if [ "$LOCAL" = 1 ]; then echo "3 1"; return; fi
    case "$1" in
        512) echo "20 3" ;;
        1024) echo "10 2" ;;
        *) echo "5 1" ;;
    esac
}
first_kernels=""
for kernels in ${KERNELS//,/ }; do
    flag=()
    if [ "$kernels" != default ]; then
        flag=(--kernels "${kernels%%:*}")
        [ "$kernels" = "${kernels#*:}" ] || flag+=(--precision "${kernels#*:}")
    fi
    for size in "${SIZE_LIST[@]}"; do
        left=$((VITRINE_BUDGET - SECONDS))
        if [ "$left" -lt 10 ]; then
            echo "vitrine [$kernels] $size px: skipped, past its share of the budget (${VITRINE_BUDGET}s)"
            continue
        fi
        read -r runs warmup <<<"$(runs_for "$size")"
        output=$WORK/vitrine_${kernels//:/-}_$size.f32
        rc=0
        cap=$((left < 180 ? left : 180))
        timeout "$cap" "$BINARY" --input "$WORK" --size "$size" --backend gpu --runs "$runs" \
            --warmup "$warmup" --no-stylize --model "$MODEL" --output "$output" "${flag[@]}" \
            >"$WORK/vitrine.out" 2>"$WORK/vitrine.err" || rc=$?
        if [ "$rc" != 0 ]; then
            if grep -q 'unknown argument --kernels' "$WORK/vitrine.err"; then
                echo "vitrine [$kernels]: this binary has no --kernels flag; skipped"
                break
            fi
            [ "$rc" = 124 ] && echo "vitrine [$kernels] $size px: stopped after ${cap}s; larger sizes skipped"
            [ "$rc" = 124 ] || echo "vitrine [$kernels] $size px: failed (exit $rc): $(tail -n 3 "$WORK/vitrine.err")"
            break
        fi
        line=$(grep '^{' "$WORK/vitrine.out" | tail -n 1)
        # The entry's name last, so it wins over the binary's own "kernels" key.
        echo "${line%\}},\"kernels\":\"$kernels\"}" >>"$VITRINE_LOG"
        field() { sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" <<<"$line"; }
        echo "vitrine [$kernels] $size px on $(field device): median $(field network_median_ms) ms of $runs runs" \
            "after $warmup (executor created in $(field create_ms) ms; software adapter: $(field software))"
        if [ "$LOCAL" = 0 ] && grep -q '"software":true' <<<"$line"; then
            echo "warning: wgpu chose a software adapter, not the NVIDIA GPU (see VK_DRIVER_FILES above)" >&2
        fi
        # torch's images are compared with those of the first kernels that ran.
        first_kernels=${first_kernels:-$kernels}
        if [ "$first_kernels" = "$kernels" ]; then cp "$output" "$WORK/compare/vitrine_$size.f32"; fi
    done
done

# 2. torch, with what is left of the budget (less a margin for the report).
left=$((BUDGET_S - SECONDS - 20))
[ "$left" -gt 30 ] || left=30
TORCH_JSON=$OUT_DIR/torch.json
"$PYTHON" "$TORCH_NET" run --input "$WORK" --model "$MODEL" --sizes "$SIZES" --device "$TORCH_DEVICE" \
    --variants "$TORCH_VARIANTS" --runs "$TORCH_RUNS" --warmup "$TORCH_WARMUP" --max-seconds "$left" \
    --compare-dir "$WORK/compare" --json "$TORCH_JSON" 2>&1 | tee "$OUT_DIR/torch.log" ||
    echo "warning: the torch side failed (above); the table shows vitrine alone" >&2

# 3. The table.
"$PYTHON" "$TORCH_NET" report --model "$MODEL" --torch "$TORCH_JSON" --vitrine "$VITRINE_LOG" | tee "$OUT_DIR/report.md"
echo "total ${SECONDS}s; results in $OUT_DIR"
