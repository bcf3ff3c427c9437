"""Train/val/test splits decided by each image's content hash alone.

u = int(sha256[:16], 16) / 2**64 puts every image at a fixed point in [0, 1); it belongs to the
first split whose cumulative fraction exceeds u. No image depends on any other, so re-exports
agree and adding images never moves the ones already exported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from worker.export.names import WINDOWS_RESERVED

SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
TOLERANCE = 1e-6
FORMAT = "a comma list of name:fraction like train:0.8,val:0.1,test:0.1"


@dataclass(frozen=True, slots=True)
class Split:
    name: str
    fraction: float


def parse_split(text: str) -> tuple[Split, ...]:
    """Splits from ``train:0.8,val:0.1,test:0.1``; ValueError with a one-line reason."""
    splits: list[Split] = []
    seen: set[str] = set()
    for part in text.split(","):
        name, colon, value = part.strip().partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name or not value:
            raise ValueError(f"split must be {FORMAT}; got {part.strip()!r}")
        if not SPLIT_NAME.fullmatch(name):
            raise ValueError(f"split name {name!r} must be 1-32 letters, digits, '_' or '-'")
        if name.lower() in WINDOWS_RESERVED:
            raise ValueError(f"split name {name!r} is reserved on Windows")
        if name.casefold() in seen:
            raise ValueError(f"split name {name!r} is given twice")
        seen.add(name.casefold())
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"split {name!r} has fraction {value!r}, not a number") from None
        if not math.isfinite(fraction) or fraction <= 0:
            raise ValueError(f"split {name!r} needs a fraction above 0, got {value}")
        splits.append(Split(name, fraction))
    total = math.fsum(s.fraction for s in splits)
    if abs(total - 1) > TOLERANCE:
        raise ValueError(f"split fractions must add up to 1, they add up to {total:g}")
    return tuple(splits)


def hash_point(sha256: str) -> float:
    """The image's fixed place in [0, 1), from the first 64 bits of its content hash."""
    return int(sha256[:16], 16) / 2**64


def assign(sha256: str, splits: tuple[Split, ...]) -> str:
    """The split this image belongs to; the last one takes whatever rounding leaves above the
    cumulative sum, so every image lands somewhere."""
    u = hash_point(sha256)
    cumulative = 0.0
    for split in splits:
        cumulative += split.fraction
        if u < cumulative:
            return split.name
    return splits[-1].name


def describe(splits: tuple[Split, ...]) -> str:
    return ",".join(f"{s.name}:{s.fraction:g}" for s in splits)
