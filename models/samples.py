#!/usr/bin/env python3
"""Write the sample photos in www/samples/ from scikit-image's bundled data (see www/samples/SOURCES.md).

    python models/samples.py
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import skimage
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "www" / "samples"
DATA = Path(os.path.dirname(skimage.__file__)) / "data"
LONG_SIDE = 640


def fit(image: Image.Image, long_side: int) -> Image.Image:
    scale = long_side / max(image.size)
    if scale >= 1:
        return image
    size = (round(image.width * scale), round(image.height * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def logo_rgba(side: int) -> Image.Image:
    """The alpha test case. scikit-image's logo.png is RGBA but fully opaque (a disc on white), so the white
    around the disc is made transparent, with an anti-aliased edge computed from the disc's geometry."""
    source = Image.open(DATA / "logo.png").convert("RGB")
    rgb = source.resize((side, side), Image.Resampling.LANCZOS)
    # Measured on the 500x500 original: the disc spans rows 10..489 and columns 11..490.
    scale = side / source.width
    cy, cx, radius = 249.5 * scale, 250.5 * scale, 240.5 * scale
    y, x = np.mgrid[0:side, 0:side]
    coverage = np.clip(radius - np.hypot(y - cy, x - cx) + 0.5, 0.0, 1.0)
    alpha = Image.fromarray(np.rint(coverage * 255).astype(np.uint8))
    logo = rgb.convert("RGBA")
    logo.putalpha(alpha)
    return logo


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    coffee = fit(Image.open(DATA / "coffee.png").convert("RGB"), LONG_SIDE)
    coffee.save(OUT / "coffee.jpg", quality=88, optimize=True)
    rocket = fit(Image.open(DATA / "rocket.jpg").convert("RGB"), LONG_SIDE)
    rocket.save(OUT / "rocket.jpg", quality=85, optimize=True)
    logo_rgba(256).save(OUT / "logo.png", optimize=True)
    for path in sorted(OUT.iterdir()):
        if path.suffix in (".jpg", ".png"):
            print(f"{path.name}: {Image.open(path).size}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
