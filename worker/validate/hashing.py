"""Perceptual hashes of the luminance we already decoded: a 64-bit DCT hash (the classic pHash
recipe) and two 64-bit difference hashes, of the picture as it is, mirrored, and with uniform
borders trimmed.

One global hash describes the whole frame, so it misses copies that move the frame: a mirror
flips about half its bits, letterbox bars and borders shift the coarse structure. Hence the
variants: a mirrored copy matches the original's mirror hash, a letterboxed one matches once its
bars are trimmed. Crops and small rotations move the frame too little for bars to help but too
much for one hash at a strict distance; there three independent hashes (DCT, horizontal and
vertical gradients) that all agree at a looser distance are as safe as one at a strict one.

The DCT is two products with a precomputed 32×32 matrix, so this needs numpy only; imagehash
would have pulled in scipy and PyWavelets (tens of MB in the frozen app) for the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

_SIZE = 32
_KEEP = 8  # the 8×8 lowest frequencies: 64 bits
_MIRROR_SIGNS = np.where(np.arange(_KEEP) % 2, -1.0, 1.0)[None, :]
"""A horizontal mirror negates the DCT coefficients of odd horizontal frequency, so the mirrored
picture's hash comes from the same coefficients."""

TRIM_FLAT = 6.0
"""Luminance levels (of 255) a border line may stray from the outermost line's level and still
count as bar or border: bars are flat, JPEG ringing and noise stay within a few levels on the
2× reduced copy the trim looks at."""
TRIM_MAX_SHARE = 0.3
"""At most this share of each side is trimmed: a photo's own dark sky is not a border."""


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * x + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix(_SIZE)
_DCT_T = _DCT.T.copy()

# EXIF orientation → the transpose that shows the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class HashSet:
    """The three hashes of one view of a picture: DCT, horizontal and vertical differences."""

    p: int
    d: int
    v: int

    def hex(self) -> str:
        return f"{self.p:016x}{self.d:016x}{self.v:016x}"

    @classmethod
    def from_hex(cls, text: str) -> HashSet:
        return cls(int(text[:16], 16), int(text[16:32], 16), int(text[32:48], 16))


@dataclass(frozen=True)
class NearHashes:
    """Every view of a picture that near-duplicate search compares: ``plain`` and its mirror,
    and, when the picture has uniform borders, the same two of the trimmed picture."""

    plain: HashSet
    mirror: HashSet
    trimmed: HashSet | None = None
    trimmed_mirror: HashSet | None = None

    def encode(self) -> str:
        """Compact text for the image row's metrics (``near_hashes``): views joined by ``.``."""
        views = [self.plain, self.mirror]
        if self.trimmed is not None and self.trimmed_mirror is not None:
            views += [self.trimmed, self.trimmed_mirror]
        return ".".join(view.hex() for view in views)

    @classmethod
    def decode(cls, text: str) -> NearHashes:
        views = [HashSet.from_hex(part) for part in text.split(".")]
        if len(views) == 4:
            return cls(*views)
        return cls(views[0], views[1])


def near_hashes(luminance: Image.Image, orientation: int = 1) -> NearHashes:
    """All views' hashes of the analysis luminance, turned upright first so an EXIF-rotated copy
    matches a rotated one."""
    if orientation in _UPRIGHT:
        luminance = luminance.transpose(_UPRIGHT[orientation])
    plain, mirror = _views(luminance)
    box = trim_box(luminance)
    if box == (0, 0, *luminance.size):
        return NearHashes(plain, mirror)
    trimmed, trimmed_mirror = _views(luminance.crop(box))
    return NearHashes(plain, mirror, trimmed, trimmed_mirror)


def phash(luminance: Image.Image, orientation: int = 1) -> int:
    """The DCT hash of the upright picture as it is: bit i is set when DCT coefficient i of the
    8×8 lowest frequencies is above their median. Resized, re-encoded and recoloured copies keep
    their coarse structure, hence nearly the same bits."""
    return near_hashes(luminance, orientation).plain.p


def _views(luminance: Image.Image) -> tuple[HashSet, HashSet]:
    """(as is, mirrored) hashes of one picture."""
    small = np.asarray(luminance.resize((_SIZE, _SIZE), Image.Resampling.BOX), dtype=np.float64)
    coefficients = _DCT @ small @ _DCT_T
    # Rounding drops floating-point dust, so flat areas hash the same on every machine.
    low = np.round(coefficients[:_KEEP, :_KEEP], 3)
    mirrored = low * _MIRROR_SIGNS
    wide = np.asarray(luminance.resize((9, 8), Image.Resampling.BOX), dtype=np.int16)
    tall = np.asarray(luminance.resize((8, 9), Image.Resampling.BOX), dtype=np.int16)
    wide_m, tall_m = wide[:, ::-1], tall[:, ::-1]
    return (
        HashSet(_median_bits(low), _bits(wide[:, 1:] > wide[:, :-1]),
                _bits(tall[1:] > tall[:-1])),
        HashSet(_median_bits(mirrored), _bits(wide_m[:, 1:] > wide_m[:, :-1]),
                _bits(tall_m[1:] > tall_m[:-1])),
    )


def _median_bits(values: np.ndarray) -> int:
    return _bits(values > np.median(values))


def _bits(flags: np.ndarray) -> int:
    return int.from_bytes(np.packbits(flags.ravel()).tobytes(), "big")


def trim_box(luminance: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside uniform bars or borders of any colour.
    Lines are judged on a 2× reduced copy, where JPEG noise and ringing average out; a line is
    border while 90 % of it stays within ``TRIM_FLAT`` of the outermost line's level."""
    width, height = luminance.size
    factor = 2 if min(width, height) >= 64 else 1
    small = luminance.reduce(factor) if factor > 1 else luminance
    grey = np.asarray(small, dtype=np.float32)
    rows, cols = grey.shape
    top = _flat_run(grey, int(rows * TRIM_MAX_SHARE))
    bottom = _flat_run(grey[::-1], int(rows * TRIM_MAX_SHARE))
    left = _flat_run(grey.T, int(cols * TRIM_MAX_SHARE))
    right = _flat_run(grey.T[::-1], int(cols * TRIM_MAX_SHARE))
    return (left * factor, top * factor, width - right * factor, height - bottom * factor)


def _flat_run(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (at most ``limit``) are flat and the outermost line's level."""
    if limit <= 0:
        return 0
    level = np.median(lines[0])
    spread = np.percentile(np.abs(lines[:limit] - level), 90, axis=1)
    flat = spread <= TRIM_FLAT
    return limit if flat.all() else int(np.argmin(flat))


def distance(a: int, b: int) -> int:
    """Hamming distance: how many of the 64 bits differ."""
    return (a ^ b).bit_count()
