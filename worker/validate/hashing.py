"""64-bit DCT perceptual hash (the classic pHash recipe) on the luminance we already decoded.

The DCT is two products with a precomputed 32×32 matrix, so this needs numpy only; imagehash
would have pulled in scipy and PyWavelets (tens of MB in the frozen app) for the same numbers.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_SIZE = 32
_KEEP = 8  # the 8×8 lowest frequencies: 64 bits


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


def phash(luminance: Image.Image, orientation: int = 1) -> int:
    """Bit i is set when DCT coefficient i of the 8×8 lowest frequencies is above their median.

    Copies that are resized, re-encoded or slightly cropped keep their coarse structure, hence
    nearly the same bits. The picture is turned upright first (after shrinking, which commutes
    with a 90° turn at this square size) so an EXIF-rotated copy matches a rotated one."""
    small = luminance.resize((_SIZE, _SIZE), Image.Resampling.BOX)
    if orientation in _UPRIGHT:
        small = small.transpose(_UPRIGHT[orientation])
    coefficients = _DCT @ np.asarray(small, dtype=np.float64) @ _DCT_T
    # Rounding drops floating-point dust, so flat areas hash the same on every machine.
    low = np.round(coefficients[:_KEEP, :_KEEP], 3)
    bits = (low > np.median(low)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def distance(a: int, b: int) -> int:
    """Hamming distance: how many of the 64 bits differ."""
    return (a ^ b).bit_count()
