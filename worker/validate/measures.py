"""Numbers computed from the small analysis image: tone, colour, information and sharpness.

Tone, colour and entropy come from one 768-bin histogram of the YCbCr analysis image (Y is the
luminance Pillow's "L" uses; Cb and Cr measure colour directly), so no per-pixel work happens
in Python or numpy for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from PIL import Image

SHARPNESS_SIDE = 160
"""Long side the grey image is box-scaled to before measuring sharpness, so the score does not
depend on the image's own size (downscaling makes any picture look sharper)."""

_LEVELS = np.arange(256)
_NEUTRAL = 128
_DISTANCE = np.abs(_LEVELS - _NEUTRAL)


@dataclass(frozen=True)
class Tone:
    brightness: float
    brightness_p05: int
    brightness_p95: int
    entropy: float
    chroma_p99: int
    """Distance from neutral grey (0–128) that 99 % of pixels stay within on Cb and on Cr."""


def tone(ycbcr: Image.Image) -> Tone:
    counts = np.asarray(ycbcr.histogram(), dtype=np.int64).reshape(3, 256)
    luma = counts[0]
    total = int(luma.sum())
    return Tone(
        brightness=float(luma @ _LEVELS) / total,
        brightness_p05=_percentile(luma, 0.05),
        brightness_p95=_percentile(luma, 0.95),
        entropy=_entropy(luma, total),
        chroma_p99=max(_percentile(_fold(channel), 0.99) for channel in counts[1:]),
    )


class Sharpness(NamedTuple):
    laplacian_var: float
    """Variance of the 4-neighbour Laplacian."""
    detail_ratio: float
    """That variance over the gradient's: falls with blur whatever the subject."""
    streak_ratio: float
    """The same ratio along rows or along columns, whichever is lower."""
    anisotropy: float
    """The lower of those two over the higher: near 1 unless detail is missing one way."""


def sharpness(luminance: Image.Image) -> Sharpness:
    """How much fine detail the picture has, overall and along rows and columns.

    The Laplacian's variance alone mostly measures how much texture a scene has: sharp photos
    of smooth subjects (a retina, the moon, cells) score as low as blurred ones. Its ratio to
    the gradient's does not depend on contrast or texture: blur removes the finest detail
    first, so the second derivative falls faster than the first, and blurred photos score
    below sharp ones of any subject. Motion blur removes detail along one direction only, which
    the overall ratio averages away; the ratio along rows and along columns shows it (low along
    the streak, high across it). Both come from the same differences, so the directions cost
    two more variances; diagonal directions would have doubled the time of this function, and
    a diagonal streak lowers both and the overall ratio anyway."""
    width, height = luminance.size
    if max(width, height) > SHARPNESS_SIDE:
        ratio = SHARPNESS_SIDE / max(width, height)
        size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
        luminance = luminance.resize(size, Image.Resampling.BOX)
    grey = np.asarray(luminance, dtype=np.float32)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return Sharpness(0.0, 0.0, 0.0, 1.0)
    across, down = np.diff(grey, axis=1), np.diff(grey, axis=0)
    across2, down2 = np.diff(across, axis=1), np.diff(down, axis=0)
    across_var, down_var = _variance(across), _variance(down)
    along = (_variance(across2) / (across_var + 1.0), _variance(down2) / (down_var + 1.0))
    laplacian = across2[1:-1]
    laplacian += down2[:, 1:-1]  # in place: across2 is not needed any more
    variance = _variance(laplacian)
    detail = variance / ((across_var + down_var) / 2 + 1.0)
    low, high = min(along), max(along)
    return Sharpness(variance, detail, low, low / high if high else 1.0)


def _variance(values: np.ndarray) -> float:
    flat = values.ravel()
    mean = flat.sum() / flat.size
    return float(flat @ flat / flat.size - mean * mean)


def _fold(channel: np.ndarray) -> np.ndarray:
    """Histogram of distance from neutral (bin d: pixels at 128 ± d)."""
    return np.bincount(_DISTANCE, weights=channel, minlength=_NEUTRAL + 1)


def _percentile(counts: np.ndarray, q: float) -> int:
    """Smallest value with at least a fraction ``q`` of the pixels at or below it."""
    cumulative = np.cumsum(counts)
    return int(np.searchsorted(cumulative, q * cumulative[-1]))


def _entropy(counts: np.ndarray, total: int) -> float:
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 (a flat image) into 0.0
