"""Writes the committed seed inputs in fuzz/seeds/ (run once by hand; the fuzz targets only read them).

    .venv/bin/python fuzz/make_seeds.py

image/: tiny PNG (RGBA, grey 16-bit, palette, interlaced), JPEG (baseline, progressive, with an EXIF
orientation), WebP (lossy, lossless) and GIF (animated) files; style/: style files, specs and vectors;
tile_plan/: planner inputs at the size and limit edges (layout in fuzz_targets/tile_plan.rs).
"""
import io
import json
import struct
from pathlib import Path

from PIL import Image

SEEDS = Path(__file__).resolve().parent / "seeds"


def picture(width, height, mode="RGBA"):
    image = Image.new("RGBA", (width, height))
    image.putdata([(x * 16 % 256, y * 20 % 256, (x * y) % 256, 255 - x * 8 % 256) for y in range(height) for x in range(width)])
    return image.convert(mode)


def save(name, image, **options):
    buffer = io.BytesIO()
    image.save(buffer, **options)
    (SEEDS / "image" / name).write_bytes(buffer.getvalue())


def images():
    save("rgba.png", picture(12, 9), format="PNG")
    save("grey16.png", picture(7, 5, "L").point(lambda v: v * 256, "I").convert("I;16"), format="PNG")
    save("palette.png", picture(10, 6, "P"), format="PNG")
    save("interlaced.png", picture(9, 9, "RGB"), format="PNG", interlace=1)
    save("baseline.jpg", picture(16, 12, "RGB"), format="JPEG", quality=80)
    save("progressive.jpg", picture(17, 11, "RGB"), format="JPEG", progressive=True)
    save("grey.jpg", picture(8, 8, "L"), format="JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees
    save("oriented.jpg", picture(12, 8, "RGB"), format="JPEG", exif=exif.tobytes())
    save("lossy.webp", picture(12, 10), format="WEBP", quality=50)
    save("lossless.webp", picture(9, 7), format="WEBP", lossless=True)
    frames = [picture(8, 6, "P"), picture(8, 6, "P").rotate(180)]
    save("animated.gif", frames[0], format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def style():
    vector = [round(0.01 * i - 0.5, 4) for i in range(100)]
    seeds = {
        "file.json": json.dumps({"format": "vitrine-style", "version": 1, "model": "arbitrary", "vector": vector}),
        "file_version2.json": json.dumps({"format": "vitrine-style", "version": 2, "model": "a", "vector": [1]}),
        "preset.txt": "19",
        "mix.txt": "3:0.5,12:0.5",
        "mix_huge.txt": "0:3e38,1:3e38",
        "mix_many.txt": ",".join(f"{i}:{i / 10}" for i in range(26)),
    }
    for name, text in seeds.items():
        (SEEDS / "style" / name).write_text(text)
    (SEEDS / "style" / "vector.bin").write_bytes(struct.pack("<100f", *vector))
    (SEEDS / "style" / "huge.bin").write_bytes(struct.pack("<100f", *([3e38] * 100)))
    (SEEDS / "style" / "size.bin").write_bytes(struct.pack("<II", 24, 16) + struct.pack("<f", 0.5))


def tile_plan():
    mib = 1 << 20
    defaults = (128 * mib, 2 << 30, 256 * mib)
    cases = {
        "small": (0, 0, 64, 48, *defaults, None),
        "gpu_2048": (0, 1, 2048, 2048, *defaults, None),
        "predictor_8192": (2, 0, 8192, 8192, *defaults, None),
        "u32_max": (1, 0, 0xFFFFFFFF, 0xFFFFFFFF, *defaults, None),
        "zero_limits": (2, 1, 8193, 8193, 0, 0, 0, None),
        "max_limits": (0, 1, 65535, 100000, 2**64 - 1, 2**64 - 1, 2**64 - 1, None),
        "forced_0": (0, 0, 512, 512, *defaults, 0),
        "forced_3": (1, 1, 512, 512, *defaults, 3),
        "zero_size": (0, 0, 0, 0, *defaults, None),
    }
    for name, (model, executor, width, height, buffer, host, tile, forced) in cases.items():
        data = struct.pack("<BBIIQQQ", model, executor, width, height, buffer, host, tile)
        data += struct.pack("<BQ", 1, forced) if forced is not None else struct.pack("<BQ", 0, 0)
        (SEEDS / "tile_plan" / name).write_bytes(data)


if __name__ == "__main__":
    images()
    style()
    tile_plan()
