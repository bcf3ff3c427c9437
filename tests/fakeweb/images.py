"""Real image bytes for the fake web, made with Pillow and deterministic per name.

Every name gets its own colours and shapes (seeded from a hash of the name), so different names
never collide by content, images look like photos to the validator (colourful, not blank, sharp
edges) and the same name always yields the same bytes, which tests compare against.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import threading
import zlib

from PIL import Image, ImageDraw

FORMATS: dict[str, tuple[str, str]] = {
    # extension -> (Pillow format, Content-Type)
    "jpg": ("JPEG", "image/jpeg"),
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "gif": ("GIF", "image/gif"),
    "bmp": ("BMP", "image/bmp"),
}

_cache: dict[tuple[str, str, tuple[int, int]], bytes] = {}
_lock = threading.Lock()


def content_type(ext: str) -> str:
    return FORMATS[ext.lower()][1]


def render(name: str, ext: str = "jpg", size: tuple[int, int] = (320, 240)) -> bytes:
    """Encoded image for ``name``; cached because tests and handlers ask for it repeatedly."""
    ext = ext.lower()
    if ext not in FORMATS:
        raise ValueError(f"unsupported image extension: {ext}")
    key = (name, ext, (int(size[0]), int(size[1])))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    data = _encode(_draw(name, key[2]), FORMATS[ext][0])
    with _lock:
        _cache.setdefault(key, data)
        return _cache[key]


def _draw(name: str, size: tuple[int, int]) -> Image.Image:
    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    width, height = size

    def colour() -> tuple[int, int, int]:
        # Saturated colours: a random grey would trip the validator's grayscale check.
        base = [rng.randint(0, 80), rng.randint(90, 170), rng.randint(180, 255)]
        rng.shuffle(base)
        return (base[0], base[1], base[2])

    image = Image.new("RGB", size, colour())
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, x1 = sorted(rng.randint(0, max(width - 1, 1)) for _ in range(2))
        y0, y1 = sorted(rng.randint(0, max(height - 1, 1)) for _ in range(2))
        box = (x0, y0, max(x1, x0 + 4), max(y1, y0 + 4))
        if rng.random() < 0.5:
            draw.rectangle(box, fill=colour())
        else:
            draw.ellipse(box, fill=colour(), outline=colour(), width=2)
    return image


def _encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, fmt, quality=90)
    elif fmt == "GIF":
        image.convert("P", palette=Image.Palette.ADAPTIVE).save(buf, fmt)
    else:
        image.save(buf, fmt)
    return buf.getvalue()


def html_pretending_to_be_image(name: str) -> bytes:
    """What a hotlink-protected host often sends instead of the picture."""
    return (
        "<!DOCTYPE html><html><head><title>Access denied</title></head>"
        f"<body><h1>Hotlinking not allowed</h1><p>{name}</p></body></html>"
    ).encode()


def decompression_bomb_png(side: int = 40_000) -> bytes:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb).

    Built by hand so serving it costs nothing; only a few rows of pixel data follow, which is
    all a header check sees before it must refuse the image.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    idat = zlib.compress(row * 16, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def huge_jpeg_prefix() -> bytes:
    """Start of a valid JPEG (SOI + APP0/JFIF) so a huge body passes a magic-bytes check."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
