"""Perceptual hashes of the luminance we already decoded: a 64-bit DCT hash (the classic pHash
recipe) and two 64-bit difference hashes, of the picture as it is, mirrored, with uniform
borders trimmed, and of its centre.

One global hash describes the whole frame, so it misses copies that move the frame: a mirror
flips about half its bits, letterbox bars and borders shift the coarse structure. Hence the
views: a mirrored copy matches the original's mirror hash, a letterboxed one matches once its
bars are trimmed. Crops and small rotations move the frame too little for bars to help but too
much for one hash at a strict distance; there three independent hashes (DCT, horizontal and
vertical gradients) that all agree at a looser distance are as safe as one at a strict one,
and the centre view (a 10 % frame left out) drops what crops, rotations and corner watermarks
change most.

The DCT is two products with a precomputed 8×32 matrix, so this needs numpy only; imagehash
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
CENTRE_MARGIN = 0.1
"""Share of each side left out of the centre view. Chosen on real photos
(bench/validate_real.py): 0.1 matched 5° rotations and 10 % crops best with no false pair;
0.15 and 0.2 lost more resized and cropped copies than they won rotated ones."""


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * x + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT_LOW = _dct_matrix(_SIZE)[:_KEEP].copy()
_DCT_LOW_T = _DCT_LOW.T.copy()

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
    """Every view of a picture that near-duplicate search compares: ``plain`` and its mirror;
    when the picture has uniform borders, the same two of the trimmed picture; and ``centre``,
    the middle of the picture (trimmed if it has borders) without a ``CENTRE_MARGIN`` frame.

    The centre leaves out what rotations (filled corners), crops (lost edges) and watermarks
    (corner labels) change most, so a copy's centre stays close to the original's."""

    plain: HashSet
    mirror: HashSet
    trimmed: HashSet | None = None
    trimmed_mirror: HashSet | None = None
    centre: HashSet | None = None
    content_share: float = 1.0
    """Share of the frame inside the trimmed borders (not encoded: the caller stores it)."""

    def encode(self) -> str:
        """Compact text for the image row's metrics (``near_hashes``): views joined by ``.``,
        plain, mirror, centre, then the trimmed two if any."""
        views = [self.plain, self.mirror]
        if self.centre is not None:
            views.append(self.centre)
        if self.trimmed is not None and self.trimmed_mirror is not None:
            views += [self.trimmed, self.trimmed_mirror]
        return ".".join(view.hex() for view in views)

    @classmethod
    def decode(cls, text: str) -> NearHashes:
        """Also reads the 2- and 4-view texts written before the centre view existed."""
        views = [HashSet.from_hex(part) for part in text.split(".")]
        if len(views) % 2:  # 3 or 5: with a centre
            trimmed = views[3:5] if len(views) == 5 else [None, None]
            return cls(views[0], views[1], trimmed[0], trimmed[1], views[2])
        if len(views) == 4:
            return cls(*views)
        return cls(views[0], views[1])

    @property
    def content(self) -> HashSet:
        """The picture inside its borders: trimmed if it had any, else as is."""
        return self.trimmed if self.trimmed is not None else self.plain


def near_hashes(luminance: Image.Image, orientation: int = 1) -> NearHashes:
    """All views' hashes of the analysis luminance, turned upright first so an EXIF-rotated copy
    matches a rotated one."""
    if orientation in _UPRIGHT:
        luminance = luminance.transpose(_UPRIGHT[orientation])
    plain, mirror = _views(luminance)
    width, height = luminance.size
    box = trim_box(luminance)
    trimmed = trimmed_mirror = None
    share = 1.0
    if box != (0, 0, width, height):
        luminance = luminance.crop(box)
        trimmed, trimmed_mirror = _views(luminance)
        share = luminance.width * luminance.height / (width * height)
    width, height = luminance.size
    dx, dy = round(width * CENTRE_MARGIN), round(height * CENTRE_MARGIN)
    (centre,) = _views(luminance.crop((dx, dy, width - dx, height - dy)), mirror=False)
    return NearHashes(plain, mirror, trimmed, trimmed_mirror, centre, share)


def phash(luminance: Image.Image, orientation: int = 1) -> int:
    """The DCT hash of the upright picture as it is: bit i is set when DCT coefficient i of the
    8×8 lowest frequencies is above their median. Resized, re-encoded and recoloured copies keep
    their coarse structure, hence nearly the same bits."""
    return near_hashes(luminance, orientation).plain.p


def _views(luminance: Image.Image, mirror: bool = True) -> list[HashSet]:
    """[as is, mirrored] hashes of one picture, or [as is] without ``mirror``."""
    small = np.asarray(luminance.resize((_SIZE, _SIZE), Image.Resampling.BOX), dtype=np.float64)
    # Only the 8×8 lowest frequencies are kept, so only their rows of the DCT are multiplied.
    # Rounding drops floating-point dust, so flat areas hash the same on every machine.
    low = np.round(_DCT_LOW @ small @ _DCT_LOW_T, 3)
    wide = np.asarray(luminance.resize((9, 8), Image.Resampling.BOX), dtype=np.int16)
    tall = np.asarray(luminance.resize((8, 9), Image.Resampling.BOX), dtype=np.int16)
    right, down = wide[:, 1:] > wide[:, :-1], tall[1:] > tall[:-1]
    flags = [_above_median(low), right, down]
    if mirror:
        # Mirrored: the odd horizontal frequencies change sign, each row is read from the
        # other end.
        flags += [_above_median(low * _MIRROR_SIGNS), (wide[:, :-1] > wide[:, 1:])[:, ::-1],
                  down[:, ::-1]]
    packed = np.packbits(np.stack(flags)).tobytes()  # 8 bytes per hash
    values = [int.from_bytes(packed[i:i + 8], "big") for i in range(0, len(packed), 8)]
    return [HashSet(*values[i:i + 3]) for i in range(0, len(values), 3)]


def _above_median(values: np.ndarray) -> np.ndarray:
    flat = values.ravel()
    middle = np.sort(flat)[len(flat) // 2 - 1:len(flat) // 2 + 1]
    return values > (middle[0] + middle[1]) / 2


def trim_box(luminance: Image.Image) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside uniform bars or borders of any colour.
    Lines are judged on a 2× reduced copy, where JPEG noise and ringing average out; a line is
    border while 90 % of it stays within ``TRIM_FLAT`` of the outermost line's level."""
    width, height = luminance.size
    factor = 2 if min(width, height) >= 64 else 1
    small = luminance.reduce(factor) if factor > 1 else luminance
    grey = np.asarray(small, dtype=np.int16)
    rows, cols = grey.shape
    top = _flat_run(grey, int(rows * TRIM_MAX_SHARE))
    bottom = _flat_run(grey[::-1], int(rows * TRIM_MAX_SHARE))
    left = _flat_run(grey.T, int(cols * TRIM_MAX_SHARE))
    right = _flat_run(grey.T[::-1], int(cols * TRIM_MAX_SHARE))
    return (left * factor, top * factor, width - right * factor, height - bottom * factor)


def _flat_run(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (at most ``limit``) are flat and the outermost line's level.

    Most photos have no border: their outermost line alone is not flat, so that side costs one
    line's work. "90 % within ``TRIM_FLAT``" is counted, not taken as a percentile, which was
    most of the slow level's hashing time."""
    if limit <= 0:
        return 0
    first = lines[0]
    level = int(np.sort(first)[len(first) // 2])
    allowed = len(first) // 10
    if int(np.count_nonzero(np.abs(first - level) > TRIM_FLAT)) > allowed:
        return 0
    strays = np.count_nonzero(np.abs(lines[:limit] - level) > TRIM_FLAT, axis=1)
    flat = strays <= allowed
    return limit if flat.all() else int(np.argmin(flat))


def distance(a: int, b: int) -> int:
    """Hamming distance: how many of the 64 bits differ."""
    return (a ^ b).bit_count()
