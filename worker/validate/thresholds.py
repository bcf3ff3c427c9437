"""Validation levels and the limits every check reads, in one place.

The server maps each field to a setting ``PIXCRAWLER_VALIDATE_<FIELD>`` (upper case), so the
field names are the public names of these knobs. Defaults suit images found on the web.
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
    """Differing bits (of 64) between perceptual hashes that still make a ``near_duplicate``:
    resized, re-encoded and slightly cropped copies land within it, unrelated photos far
    outside (about 32 on average)."""
    blurry_below: float = 120.0
    """Variance of the Laplacian of the grey image scaled to a 160-pixel long side: under
    this an image is ``blurry``. Sharp photos score several hundred and more; a 640-pixel
    photo blurred with a radius of 2 scores around or under 100."""

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"validation threshold {field.name} must not be negative")
        if self.near_duplicate_max_distance >= HASH_BITS:
            raise ValueError(f"near_duplicate_max_distance must be below {HASH_BITS}")
        if self.max_aspect_ratio < 1:
            raise ValueError("max_aspect_ratio must be at least 1")
