"""One decode per image, at the smallest scale the checks allow, and the pixels every check
reuses from it.

JPEG decodes through ``draft``: libjpeg scales while it runs the inverse DCT and hands over
YCbCr without a colour conversion, a few times cheaper than a full decode. Every byte of
entropy-coded data is still read, so a file that stops early still fails (as long as
``ImageFile.LOAD_TRUNCATED_IMAGES`` stays False, Pillow's default, which this package never
changes). Other formats have no such shortcut: they decode at full size and are box-reduced.

The pixel digest is taken at the reduced scale too (box means, or the JPEG's own DCT
scaling), because a second pass over full-size pixels would cost more than the decode
saves. Lossless re-encodings (a PNG re-saved, metadata stripped, a JPEG made progressive
losslessly) decode to identical reduced pixels. A PNG saved from a decoded JPEG does not
match its JPEG here (box means of the full decode versus DCT scaling); the slow level groups
the two as near duplicates. Medium and slow share this one decode, so their digests agree.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Decoded:
    analysis: Image.Image
    """YCbCr, transparency flattened on white (as most pages show it), long side reduced to
    between ``side`` and twice that, unless the image is smaller."""
    pixel_hash: str
    decode_ms: float


def decode(im: Image.Image, side: int, orientation: int) -> Decoded:
    """Load the first frame, digest its reduced pixels and derive the analysis image.
    Decoder errors propagate for the caller to turn into an issue code."""
    stored_width = im.width
    jpeg = im.format == "JPEG"
    if jpeg:
        ratio = side / max(im.size)
        im.draft("YCbCr", (max(1, int(im.width * ratio)), max(1, int(im.height * ratio))))
    started = time.perf_counter()
    im.load()
    decode_ms = (time.perf_counter() - started) * 1000
    decoded_at = round(stored_width / im.width)
    reduced = _shrink(_eight_bit(im), side)
    # The tag keeps digests made along different paths (DCT scale, box scale) apart.
    path = f"{'jpeg' if jpeg else 'full'}/{decoded_at}/{round(stored_width / reduced.width)}"
    digest = pixel_digest(reduced, f"{path}:o{orientation}")
    return Decoded(_analysis(reduced), digest, decode_ms)


def pixel_digest(im: Image.Image, tag: str) -> str:
    """Digest of pixels normalised so that the same picture stored as grey, palette, RGB or
    RGBA with an opaque alpha gives the same value."""
    opaque = im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255)
    if opaque or im.mode == "L":
        im = im.convert("RGB")
    elif im.mode == "LA":
        im = im.convert("RGBA")
    digest = hashlib.sha256(f"{tag}:{im.mode}:{im.width}x{im.height}:".encode())
    digest.update(im.tobytes())
    return digest.hexdigest()


def _eight_bit(im: Image.Image) -> Image.Image:
    """L, LA, RGB, RGBA or (JPEG) YCbCr with 8 bits per channel: what reduce(), hashing and
    the checks need."""
    mode = im.mode
    if mode in ("RGB", "RGBA", "L", "LA", "YCbCr"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if mode == "PA" or im.has_transparency_data else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode == "I" or mode.startswith("I;16"):
        # 16-bit grey (PNG, TIFF): keep the high byte. Pillow's own convert("L") clips every
        # value above 255 to white.
        values = np.asarray(im).astype(np.int64) >> 8
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    if mode in ("RGBa", "La"):
        return im.convert("RGBA")
    return im.convert("RGB")  # CMYK, LAB, HSV, RGBX, F


def _shrink(im: Image.Image, side: int) -> Image.Image:
    factor = max(im.size) // side
    return im.reduce(factor) if factor >= 2 else im


def _analysis(im: Image.Image) -> Image.Image:
    if im.mode == "YCbCr":
        return im
    if im.mode not in ("RGBA", "LA"):
        return im.convert("YCbCr")
    rgba = im.convert("RGBA")
    flat = Image.new("RGB", im.size, _WHITE)
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat.convert("YCbCr")
