#!/usr/bin/env bash
# A photo styled under an address-space limit (`ulimit -v`) too small for its whole run: the CLI's memory budget
# follows the process's real limits (vitrine::memory), so it streams tiles within them instead of aborting on an
# allocation, and the tiles agree with the whole run. `make limits-test`; the release CLI and the venv are built.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=target/release/vitrine
PYTHON=.venv/bin/python
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# 768x768 needs about 190 MB whole on the CPU; 250 MB of address space leaves it no room once the worker threads'
# allocator arenas are reserved. Two threads whatever the machine: each reserves a 64 MiB arena, and eight would
# leave nothing under the limit.
LIMIT_KB=250000
export VITRINE_THREADS=2
"$PYTHON" - "$WORK/photo.png" <<'PY'
import sys
import numpy as np
from PIL import Image
y, x = np.mgrid[0:768, 0:768]
rgb = np.stack([x * 255 // 768, y * 255 // 768, (x * 3 + y) % 256], -1).astype("uint8")
Image.fromarray(rgb).save(sys.argv[1])
PY
"$CLI" stylize "$WORK/photo.png" -o "$WORK/whole.png" --max-size 0 --backend cpu --style 19 >/dev/null
( ulimit -v "$LIMIT_KB"; "$CLI" stylize "$WORK/photo.png" -o "$WORK/limited.png" --max-size 0 --backend cpu --style 19 --json ) >"$WORK/limited.json"
"$PYTHON" - "$WORK/whole.png" "$WORK/limited.png" "$LIMIT_KB" "$WORK/limited.json" <<'PY'
import json
import sys
import numpy as np
from PIL import Image
whole, limited = (np.asarray(Image.open(p).convert("RGB"), dtype=np.float64) for p in sys.argv[1:3])
mse = ((whole - limited) ** 2).mean()
psnr = float("inf") if mse == 0 else 10 * np.log10(255 ** 2 / mse)
tiling = json.loads(open(sys.argv[4]).readline())["tiling"]
print(f"768x768 under ulimit -v {sys.argv[3]} KB: {tiling}, {psnr:.2f} dB against the whole run (>= 45)")
ok = psnr >= 45 and tiling["mode"] == "streamed"
if tiling["mode"] != "streamed":
    print("the limited run did not stream tiles: the limit no longer tests the memory budget")
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
PY
