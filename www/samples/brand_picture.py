#!/usr/bin/env python3
"""Draws www/samples/atelier-glaze.png, the demo shop's brand artwork: bold brush strokes in the shop's glaze
colours (terracotta, ochre, indigo) on speckled cream, the picture its house style vector is computed from
(www/samples/brand-style.json, by www/samples/brand-style.mjs). Deterministic: a fixed seed, NumPy and Pillow only.

    .venv/bin/python www/samples/brand_picture.py
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

SIZE = 384
OUT = Path(__file__).resolve().parent / "atelier-glaze.png"
THUMB = OUT.with_name("atelier-glaze-thumb.jpg")  # the gallery tile, 96 px
CREAM = (239, 230, 214)
INKS = [(156, 74, 38), (209, 154, 58), (43, 58, 92), (120, 52, 28), (226, 190, 120)]


def stroke(canvas, rng, colour):
    """One brush stroke: a quadratic curve of overlapping dabs with bristle streaks."""
    p0, p1, p2 = (rng.uniform(-0.1, 1.1, 2) * SIZE for _ in range(3))
    width = rng.uniform(14, 34)
    t = np.linspace(0, 1, 400)[:, None]
    path = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2
    tangent = np.gradient(path, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    bristles = rng.uniform(-1, 1, 14)
    shades = rng.uniform(0.8, 1.12, 14)
    for offset, shade in zip(bristles, shades):
        line = path + normal * offset * width
        fade = np.clip(np.linspace(1.0, 0.2, len(line)) + rng.uniform(-0.1, 0.1), 0, 1)
        for (x, y), f in zip(line[::3], fade[::3]):
            r = width / 6
            x0, x1 = int(max(x - r, 0)), int(min(x + r + 1, SIZE))
            y0, y1 = int(max(y - r, 0)), int(min(y + r + 1, SIZE))
            if x0 >= x1 or y0 >= y1:
                continue
            d = (xx[y0:y1, x0:x1] - x) ** 2 + (yy[y0:y1, x0:x1] - y) ** 2
            a = (d <= r * r) * 0.3 * f
            c = np.clip(np.array(colour) * shade, 0, 255)
            canvas[y0:y1, x0:x1] = canvas[y0:y1, x0:x1] * (1 - a[..., None]) + c * a[..., None]


def main():
    rng = np.random.default_rng(20240611)
    canvas = np.ones((SIZE, SIZE, 3)) * np.array(CREAM, dtype=float)
    canvas += rng.normal(0, 3, (SIZE, SIZE, 1))  # paper grain
    for i in range(16):
        stroke(canvas, rng, INKS[i % len(INKS)])
    speckles = rng.random((SIZE, SIZE)) < 0.004  # the glaze's iron speckles
    canvas[speckles] = canvas[speckles] * 0.35
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    image.save(OUT, optimize=True)
    image.resize((96, 96), Image.LANCZOS).save(THUMB, quality=85, optimize=True)
    for path in (OUT, THUMB):
        print(f"wrote {path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
