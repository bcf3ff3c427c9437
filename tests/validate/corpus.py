"""Images for the validation tests and benchmark: realistic clean ones, one file per issue code,
hostile files, and transformed copies for duplicate detection. All deterministic per seed.

A clean "photo" is a colour gradient in a random direction, several large and small shapes with
hard edges, and sensor-like noise: it has the tone, colour, entropy and sharpness of a real
photo, and distinct seeds give unrelated layouts (so unrelated perceptual hashes).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, features

Size = tuple[int, int]


def photo(seed: int, size: Size = (640, 480), noise: float = 3.0) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * x / width + np.sin(angle) * y / height + 1) / 2  # 0..1
    start, end = rng.uniform(40, 215, 3), rng.uniform(40, 215, 3)
    image = Image.fromarray((start + ramp[..., None] * (end - start)).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for i in range(int(rng.integers(6, 12))):
        scale = 0.6 if i < 4 else 0.2  # a few large shapes set the coarse layout
        w, h = (rng.uniform(0.1, scale) * np.array([width, height])).astype(int) + 4
        x0 = int(rng.integers(-w // 2, width - w // 2))
        y0 = int(rng.integers(-h // 2, height - h // 2))
        box = (x0, y0, x0 + int(w), y0 + int(h))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            points = [(int(rng.integers(box[0], box[2])), int(rng.integers(box[1], box[3])))
                      for _ in range(3)]
            draw.polygon(points, fill=fill)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += _texture(rng, size)[..., None] * 24 + rng.normal(0, noise, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _texture(rng: np.random.Generator, size: Size) -> np.ndarray:
    """Fractal value noise: detail at every scale, weaker at finer ones, as in real scenes."""
    width, height = size
    texture = np.zeros((height, width), dtype=np.float32)
    amplitude = 1.0
    cells = 4
    while cells <= max(width, height) // 2:
        grid = rng.normal(0, 1, (max(2, cells * height // width), cells)).astype(np.float32)
        layer = Image.fromarray(grid, "F").resize(size, Image.Resampling.BICUBIC)
        texture += np.asarray(layer) * amplitude
        amplitude *= 0.7
        cells *= 2
    return texture


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def save(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# --- variants of a photo -------------------------------------------------------------------

def grey_as_rgb(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("RGB")


def darkened(image: Image.Image, factor: float = 0.12) -> Image.Image:
    return image.point(lambda v: int(v * factor))


def lightened(image: Image.Image, factor: float = 0.12) -> Image.Image:
    return image.point(lambda v: 255 - int((255 - v) * factor))


def blurred(image: Image.Image, radius: float = 4.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def cropped(image: Image.Image, fraction: float = 0.05) -> Image.Image:
    """Drop ``fraction`` of each dimension, split over the two sides."""
    dx, dy = round(image.width * fraction / 2), round(image.height * fraction / 2)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def resized(image: Image.Image, factor: float = 0.5) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def placeholder(size: Size = (640, 480)) -> Image.Image:
    """An 'image not available' tile: flat grey with a frame and a small mark."""
    image = Image.new("RGB", size, (226, 226, 226))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((4, 4, w - 5, h - 5), outline=(180, 180, 180), width=2)
    draw.line((w // 2 - 30, h // 2, w // 2 + 30, h // 2), fill=(160, 160, 160), width=3)
    return image


# --- hostile and broken files ----------------------------------------------------------------

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def png_bomb(side: int = 10_000) -> bytes:
    """A real, fully decodable 1-bit PNG of side² pixels that compresses to a few kB."""
    return encode(Image.new("1", (side, side), 0), "PNG")


def png_rgb16(image: Image.Image) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one, so the chunks are built here)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint16) * 257
    rows = rgb.astype(">u2").reshape(image.height, -1).tobytes()
    stride = image.width * 6
    raw = b"".join(b"\0" + rows[i * stride:(i + 1) * stride] for i in range(image.height))
    header = struct.pack(">IIBBBBB", image.width, image.height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def png_grey16(seed: int, size: Size = (320, 240)) -> bytes:
    grey = np.asarray(photo(seed, size).convert("L"), dtype=np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")


def png_cut_pixels(image: Image.Image) -> bytes:
    """A PNG whose pixel stream stops halfway though every chunk (CRCs, IEND) is well formed:
    only a full decode can tell."""
    rgb = image.convert("RGB")
    stride = rgb.width * 3
    pixels = rgb.tobytes()
    raw = b"".join(b"\0" + pixels[i * stride:(i + 1) * stride] for i in range(rgb.height))
    compressed = zlib.compress(raw)
    header = struct.pack(">IIBBBBB", rgb.width, rgb.height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", compressed[: len(compressed) // 2]) + png_chunk(b"IEND", b""))


def jpeg_scrambled_scan(image: Image.Image) -> bytes:
    """A JPEG with garbage in the middle of its scan but intact markers and end."""
    data = bytearray(encode(image, "JPEG", quality=90))
    middle = len(data) // 2
    data[middle:middle + 600] = bytes(0xFF if i % 2 else 0x00 for i in range(600))
    return bytes(data)


def jpeg_broken_header() -> bytes:
    """Starts like a JPEG, ends like one, nothing parseable between."""
    return b"\xff\xd8\xff\xe0" + b"\x00\x02" + b"\x13\x37" * 200 + b"\xff\xd9"


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><head><title>Hotlink denied</title></head><body></body></html>"


def heic_like() -> bytes:
    """An ISO-BMFF file with a HEIC brand: sniffed as HEIC, decodable only with a HEIF plugin."""
    ftyp = struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic"
    return ftyp + struct.pack(">I", 16) + b"meta" + b"\0" * 8


def exif_rotated_jpeg(image: Image.Image) -> bytes:
    """``image`` stored turned on its side, with EXIF orientation 6 to show it upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = image.transpose(Image.Transpose.ROTATE_90)
    return encode(stored, "JPEG", quality=90, exif=exif.tobytes())


def exif_with_comment(text: str) -> bytes:
    """EXIF bytes carrying only an image description: metadata that changes no pixel."""
    exif = Image.Exif()
    exif[0x010E] = text
    return exif.tobytes()


def animated_gif(seeds: tuple[int, ...], size: Size = (320, 240)) -> bytes:
    frames = [photo(seed, size) for seed in seeds]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def can_write(fmt: str) -> bool:
    """Whether this Pillow can encode ``fmt`` (AVIF needs libavif)."""
    return {"AVIF": features.check("avif"), "WEBP": features.check("webp")}.get(fmt, True)

