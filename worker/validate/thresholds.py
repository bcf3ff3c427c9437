"""Validation levels and the limits every check reads, in one place.

The server reads each field from the environment variable ``PIXCRAWLER_VALIDATION__<FIELD>``
(upper case; ``validation`` is the Settings field, ``__`` its nested delimiter), so the field
names are the public names of these knobs. Defaults suit images found on the web.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

Level = Literal["fast", "medium", "slow"]
LEVELS: tuple[Level, ...] = ("fast", "medium", "slow")

HASH_BITS = 64
"""Bits in a perceptual hash; the near-duplicate distance is counted out of these."""


@dataclass(frozen=True)
class Thresholds:
    min_width: int = 64
    """Pixels; narrower images (after EXIF rotation) are ``too_small``: icons, thumbnails."""
    min_height: int = 64
    """Pixels; lower images (after EXIF rotation) are ``too_small``."""
    max_file_bytes: int = 25 * 1024 * 1024
    """Bytes; larger files are ``file_too_large`` (the downloader's default byte limit)."""
    max_pixels: int = 80_000_000
    """Width × height above which an image is a ``decompression_bomb``: decoding it would take
    gigabytes. Kept under Pillow's own warning limit (about 89.5 million); Pillow refuses twice
    that by itself (``PIL.Image.MAX_IMAGE_PIXELS``), so raising this beyond 179 million has
    no effect unless that is raised too."""
    max_aspect_ratio: float = 3.0
    """Long side / short side above which the shape is an ``odd_aspect_ratio`` (banners,
    strips, panoramas)."""
    too_dark_below: float = 40.0
    """Luminance 0–255: ``too_dark`` when even the brightest 5 % of pixels are below this."""
    too_light_above: float = 215.0
    """Luminance 0–255: ``too_light`` when even the darkest 5 % of pixels are above this."""
    grayscale_max_chroma: float = 6.0
    """``grayscale`` when 99 % of pixels are within this distance (0–128, in Cb/Cr) of
    neutral grey: grey photos saved as RGB, even through JPEG, stay within a unit or two."""
    min_entropy_bits: float = 1.0
    """Shannon entropy of the luminance histogram (0–8 bits) under which an image is
    ``low_information``: blank frames, flat tiles, placeholders. Kept low so that line art
    and silhouettes (about 1.5 bits) pass."""
    near_duplicate_max_distance: int = 10
    """Differing bits (of 64) between DCT hashes that still make a ``near_duplicate`` when the
    two difference hashes are within this + 2 too, in any view (as is, mirrored, borders
    trimmed): re-encoded, resized, recoloured, mirrored and letterboxed copies land within
    it, unrelated photos far outside (about 32 on average)."""
    near_duplicate_agree_bits: int = 50
    """Differing bits (of 192) summed over the three hashes (DCT, horizontal and vertical
    differences, each also within twice ``near_duplicate_max_distance``) that still make a
    ``near_duplicate``, comparing the pictures as they are, inside their borders, or their
    centres (which must agree within 85 % of this): crops, small rotations and watermarks. 0
    turns this match off. Chosen on real photos (bench/validate_real.py) and 300 unrelated
    synthetic ones (tests/validate): 55 found a little more but paired two unrelated
    pictures."""
    blurry_ratio_below: float = 1.45
    """``blurry`` when the variance of the Laplacian over the variance of the gradient (grey
    image scaled to a 160-pixel long side) is under this. Blur removes fine detail before
    coarse, so the ratio falls whatever the subject: on real photos (bench/validate_real.py)
    sharp ones score 1.5 and up (5th percentile), smooth subjects included, and photos blurred
    by 1.2 % of their size 1.45 and below."""
    blurry_anisotropy_below: float = 0.45
    """``blurry`` (motion blur) when the sharpness ratio along rows or columns, whichever is
    lower, is under this share of the other, and under ``blurry_streak_below`` too. On real
    photos (bench/validate_real.py) this caught 78 % of photos streaked by 4 % of their width
    (the ratio over the whole frame alone: 25 %) and the real motion-blurred clock, with no
    more false warnings on sharp photos; 0 turns it off."""
    blurry_streak_below: float = 1.0
    """The lower of the two directional ratios under which a strongly one-sided picture counts
    as motion blurred: sharp photos with strong stripes keep enough detail along them."""
    blurry_below: float = 0.0
    """Variance of the Laplacian (same grey image) under which an image is ``blurry`` too; 0,
    the default, leaves it to the ratio. An absolute limit (it was 120) mostly measured how
    much texture a scene has and called a quarter of sharp real photos blurry."""

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"validation threshold {field.name} must not be negative")
        if self.near_duplicate_max_distance >= HASH_BITS:
            raise ValueError(f"near_duplicate_max_distance must be below {HASH_BITS}")
        if self.near_duplicate_agree_bits >= 3 * HASH_BITS:
            raise ValueError(f"near_duplicate_agree_bits must be below {3 * HASH_BITS}")
        if self.max_aspect_ratio < 1:
            raise ValueError("max_aspect_ratio must be at least 1")
