"""Issue codes, which of them are only warnings, and the status an image ends with.

The codes are stored in the database and shown to users, so they never change spelling.
Invalid means the file cannot serve as an image of useful size (or is blank); a warning is a
judgement about content that depends on what the dataset is for (a dark street at night, a
black-and-white photo, a panorama, a shallow depth of field), so the image stays valid and the
code is listed for users to filter on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Outcome = Literal["valid", "invalid", "duplicate"]

# fast: from the header and file size, no pixel decode
UNSUPPORTED_FORMAT = "unsupported_format"
CORRUPT = "corrupt"
TOO_SMALL = "too_small"
FILE_TOO_LARGE = "file_too_large"
DECOMPRESSION_BOMB = "decompression_bomb"
ODD_ASPECT_RATIO = "odd_aspect_ratio"
# medium: one decode at reduced scale
TRUNCATED = "truncated"
EXACT_DUPLICATE = "exact_duplicate"
GRAYSCALE = "grayscale"
TOO_DARK = "too_dark"
TOO_LIGHT = "too_light"
LOW_INFORMATION = "low_information"
# slow: perceptual hash and sharpness
NEAR_DUPLICATE = "near_duplicate"
BLURRY = "blurry"

ALL_CODES = frozenset(
    {
        UNSUPPORTED_FORMAT, CORRUPT, TOO_SMALL, FILE_TOO_LARGE, DECOMPRESSION_BOMB,
        ODD_ASPECT_RATIO, TRUNCATED, EXACT_DUPLICATE, GRAYSCALE, TOO_DARK, TOO_LIGHT,
        LOW_INFORMATION, NEAR_DUPLICATE, BLURRY,
    }
)

WARNINGS: frozenset[str] = frozenset({ODD_ASPECT_RATIO, GRAYSCALE, TOO_DARK, TOO_LIGHT, BLURRY})
"""Listed on the image but leave it valid. ``low_information`` is not among them: below its
(conservative) entropy limit an image is a blank frame, a flat tile or a placeholder, which no
dataset wants."""

DUPLICATES: frozenset[str] = frozenset({EXACT_DUPLICATE, NEAR_DUPLICATE})


def is_invalidating(code: str) -> bool:
    """True for a code that makes an image invalid on its own."""
    return code not in WARNINGS and code not in DUPLICATES


def outcome(issues: Iterable[str]) -> Outcome:
    """Validation status for an image's issues: a broken file stays invalid even when it is
    also a copy of another, because its own fault is the more useful thing to report."""
    codes = set(issues)
    if any(is_invalidating(code) for code in codes):
        return "invalid"
    if codes & DUPLICATES:
        return "duplicate"
    return "valid"
