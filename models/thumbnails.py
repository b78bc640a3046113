#!/usr/bin/env python3
"""Style thumbnails for models/manifest.json: every preset style painted on the same square crop of the committed
coffee sample, by onnxruntime on the original fp32 multistyle26.onnx.

    python models/thumbnails.py                    # writes models/thumbnails/NN.jpg
    python models/thumbnails.py --sheet sheet.png  # also a labelled contact sheet at the render size, for review
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from convert import onnx_path  # noqa: E402

SAMPLE = HERE.parent / "www" / "samples" / "coffee.jpg"
OUT = HERE / "thumbnails"
MANIFEST = HERE / "manifest.json"
STYLES = 26
RENDER = 256  # the network sees a 256 px photo: texture at the scale a shopper sees it
THUMB = 96
# The cup and saucer, square, from the 600x400 photo.
CROP = (110, 0, 510, 400)


def render_all() -> list[Image.Image]:
    photo = Image.open(SAMPLE).convert("RGB").crop(CROP).resize((RENDER, RENDER), Image.Resampling.LANCZOS)
    image = (np.asarray(photo, dtype=np.float32) / np.float32(255.0)).transpose(2, 0, 1)[None]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path()), options, providers=["CPUExecutionProvider"])
    styled = []
    for style in range(STYLES):
        weights = np.zeros(STYLES, dtype=np.float32)
        weights[style] = 1
        out = session.run(None, {"image": image, "style_weights": weights})[0][0]
        pixels = np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
        styled.append(Image.fromarray(pixels))
    return [photo] + styled


def contact_sheet(images: list[Image.Image], names: list[str], columns: int = 7) -> Image.Image:
    size, label = images[0].width, 14
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * size, rows * (size + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (image, name) in enumerate(zip(images, names)):
        x, y = (i % columns) * size, (i // columns) * (size + label)
        sheet.paste(image, (x, y))
        draw.text((x + 3, y + size + 1), name, fill="black")
    return sheet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet of the full-size renders")
    args = parser.parse_args()
    photo, *styled = render_all()
    OUT.mkdir(exist_ok=True)
    for style, image in enumerate(styled):
        thumb = image.resize((THUMB, THUMB), Image.Resampling.LANCZOS)
        thumb.save(OUT / f"{style:02d}.jpg", quality=85, optimize=True)
    names = ["photo"] + [f"{s}" for s in range(STYLES)]
    if MANIFEST.exists():
        styles = json.loads(MANIFEST.read_text())["styles"]
        names = ["photo"] + [f"{s['id']} {s['name']}" for s in styles]
    if args.sheet:
        contact_sheet([photo] + styled, names).save(args.sheet)
    total = sum(p.stat().st_size for p in OUT.glob("*.jpg"))
    print(f"wrote {STYLES} thumbnails ({THUMB}x{THUMB}, {total} bytes) to {OUT.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
