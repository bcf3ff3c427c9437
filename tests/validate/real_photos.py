"""Real photographs for validation quality tests and benchmarks, and the edits web copies carry.

The photographs ship inside pip packages of the ``test`` extra (scikit-image's data folder,
scikit-learn's sample images, matplotlib's sample data); they are read as files, so none of
those libraries is imported. Distinct photos are non-overlapping tiles of them: tiles of one
photo share nothing but their subject's texture, which is exactly what must not be taken for a
duplicate. Every edit is deterministic per seed.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

# (package, folder inside it, file): real photographs. Synthetic drawings (chessboard, logo,
# phantom), scanned text and the motion-blurred clock are left out; the clock serves as real
# blur, and motorcycle_right (the other half of a stereo pair) would be a near duplicate.
PHOTOS = [
    ("skimage", "data", name) for name in (
        "astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "coffee.png",
        "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
        "motorcycle_left.png", "retina.jpg", "rocket.jpg",
    )
] + [
    ("sklearn", "datasets/images", "china.jpg"),
    ("sklearn", "datasets/images", "flower.jpg"),
    ("matplotlib", "mpl-data/sample_data", "grace_hopper.jpg"),
]
REAL_BLUR = ("skimage", "data", "clock_motion.png")
"""A real motion-blurred photograph."""

TILE = 200
"""Shortest side a tile may have; tiles are as large as the photo allows above it."""


def available() -> bool:
    """True when the packages holding the photographs are installed (the ``test`` extra)."""
    return all(_package_dir(package) is not None for package in ("skimage", "sklearn",
                                                                 "matplotlib"))


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def load(source: tuple[str, str, str]) -> Image.Image:
    package, folder, name = source
    root = _package_dir(package)
    if root is None:
        raise FileNotFoundError(f"{package} is not installed (pip install -e '.[test]')")
    with Image.open(root / folder / name) as im:
        return im.convert("RGB")


def originals() -> list[tuple[str, Image.Image]]:
    """The whole photographs, by name."""
    return [(source[2].rsplit(".", 1)[0], load(source)) for source in PHOTOS]


def distinct_photos() -> list[tuple[str, Image.Image]]:
    """Non-overlapping tiles of every photograph, by name ``<photo>-<row>-<col>``: each photo
    is cut into as many tiles of at least ``TILE`` pixels a side as it holds. Tiles that are
    mostly the black surround of the retina (over half the pixels near black) are left out:
    they are the same black corner, mirrored, not distinct photos."""
    out = []
    for name, image in originals():
        width, height = image.size
        cols, rows = max(1, width // TILE), max(1, height // TILE)
        tile_w, tile_h = width // cols, height // rows
        for row in range(rows):
            for col in range(cols):
                box = (col * tile_w, row * tile_h, (col + 1) * tile_w, (row + 1) * tile_h)
                tile = image.crop(box)
                if (np.asarray(tile.convert("L")) < 16).mean() <= 0.5:
                    out.append((f"{name}-{row}-{col}", tile))
    return out


# --- edits ------------------------------------------------------------------------------------

def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def crop(image: Image.Image, area: float, rng: np.random.Generator) -> Image.Image:
    """Remove ``area`` of the picture's area, same aspect, at a random position (so one side
    may lose all of it and the opposite none)."""
    width, height = image.size
    keep = (1 - area) ** 0.5
    w, h = round(width * keep), round(height * keep)
    x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    return image.crop((x, y, x + w, y + h))


def rotate(image: Image.Image, degrees: float, rng: np.random.Generator) -> Image.Image:
    """Turned by ``degrees`` either way about the centre, the corners filled with black or
    white, as a straightened scan or a tilted repost looks."""
    sign = 1 if rng.random() < 0.5 else -1
    fill = (0, 0, 0) if rng.random() < 0.5 else (255, 255, 255)
    return image.rotate(sign * degrees, Image.Resampling.BICUBIC, fillcolor=fill)


def bars(image: Image.Image, share: float, vertical: bool, colour=(0, 0, 0)) -> Image.Image:
    """Letterbox (bars above and below, ``vertical`` False) or pillarbox bars, each ``share``
    of the picture's height (width), in ``colour``."""
    width, height = image.size
    if vertical:
        pad = round(width * share)
        canvas = Image.new("RGB", (width + 2 * pad, height), colour)
        canvas.paste(image, (pad, 0))
    else:
        pad = round(height * share)
        canvas = Image.new("RGB", (width, height + 2 * pad), colour)
        canvas.paste(image, (0, pad))
    return canvas


def border(image: Image.Image, share: float, colour=(255, 255, 255)) -> Image.Image:
    return ImageOps.expand(image, round(min(image.size) * share), fill=colour)


def watermark(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A semi-transparent label with text in a random corner, as stock and repost sites add."""
    base = image.convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = base.size
    w, h = width // 3, height // 9
    x = int(rng.choice([8, width - w - 8]))
    y = int(rng.choice([8, height - h - 8]))
    draw.rectangle((x, y, x + w, y + h), fill=(255, 255, 255, 110))
    draw.text((x + 6, y + h // 3), "© pixstock.example", fill=(0, 0, 0, 200))
    return Image.alpha_composite(base, overlay).convert("RGB")


def recolour(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Brightness, contrast and saturation moved by up to a quarter, or the colour dropped."""
    if rng.random() < 0.25:
        return ImageOps.grayscale(image).convert("RGB")
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(float(rng.uniform(0.75, 1.25)))
    return image


def noise(image: Image.Image, rng: np.random.Generator, sigma: float = 8.0) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0, sigma, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def resize(image: Image.Image, factor: float) -> Image.Image:
    width, height = image.size
    return image.resize((max(1, round(width * factor)), max(1, round(height * factor))),
                        Image.Resampling.LANCZOS)


Edit = Callable[[Image.Image, np.random.Generator], bytes]
EDITS: dict[str, Edit] = {
    "re-encode q35": lambda im, rng: jpeg(im, 35),
    "resize 60%": lambda im, rng: jpeg(resize(im, 0.6), 85),
    "png": lambda im, rng: png(im),
    "crop 5%": lambda im, rng: jpeg(crop(im, 0.05, rng)),
    "crop 10%": lambda im, rng: jpeg(crop(im, 0.10, rng)),
    "crop 15%": lambda im, rng: jpeg(crop(im, 0.15, rng)),
    "rotate 2°": lambda im, rng: jpeg(rotate(im, 2, rng)),
    "rotate 5°": lambda im, rng: jpeg(rotate(im, 5, rng)),
    "mirror": lambda im, rng: jpeg(ImageOps.mirror(im)),
    "letterbox": lambda im, rng: jpeg(bars(im, 0.12, vertical=False)),
    "pillarbox": lambda im, rng: jpeg(bars(im, 0.12, vertical=True)),
    "border": lambda im, rng: jpeg(border(im, 0.06)),
    "watermark": lambda im, rng: jpeg(watermark(im, rng)),
    "recolour": lambda im, rng: jpeg(recolour(im, rng)),
    "noise": lambda im, rng: jpeg(noise(im, rng)),
}
"""Name → edit. Crops name the share of the area removed; bars are each 12 % of the side."""


def blur(image: Image.Image, kind: str) -> Image.Image:
    """Blur a viewer sees at any size: ``focus`` (a Gaussian of radius 1.2 % of the long side,
    6 px on a 500-pixel photo) or ``motion`` (a horizontal streak 4 % of the width long)."""
    if kind == "focus":
        return image.filter(ImageFilter.GaussianBlur(0.012 * max(image.size)))
    length = max(3, round(image.width * 0.04)) | 1
    pixels = np.asarray(image, dtype=np.float32)
    out = np.zeros_like(pixels)
    half = length // 2
    padded = np.pad(pixels, ((0, 0), (half, half), (0, 0)), mode="edge")
    for shift in range(length):
        out += padded[:, shift:shift + pixels.shape[1]] / length
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")
