"""Status rules, threshold guards and the perceptual hash's basic promises."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from PIL import Image

from tests.validate import corpus as c
from worker.validate.hashing import distance, phash
from worker.validate.issues import ALL_CODES, DUPLICATES, WARNINGS, outcome
from worker.validate.result import ImageCheck
from worker.validate.thresholds import Thresholds


def test_outcome_rules() -> None:
    assert outcome([]) == "valid"
    assert outcome(["too_dark", "blurry", "grayscale", "odd_aspect_ratio", "too_light"]) == "valid"
    assert outcome(["near_duplicate"]) == "duplicate"
    assert outcome(["exact_duplicate", "blurry"]) == "duplicate"
    assert outcome(["truncated", "exact_duplicate"]) == "invalid"
    for code in ALL_CODES - WARNINGS - DUPLICATES:
        assert outcome([code]) == "invalid", code
    assert outcome(iter(["low_information"])) == "invalid"


def test_warnings_are_content_judgements_only() -> None:
    assert frozenset({"too_dark", "too_light", "grayscale", "blurry", "odd_aspect_ratio"}) == (
        WARNINGS)
    assert WARNINGS <= ALL_CODES and DUPLICATES <= ALL_CODES


@pytest.mark.parametrize(
    "bad",
    [{"min_width": -1}, {"near_duplicate_max_distance": 64}, {"max_aspect_ratio": 0.5}],
)
def test_thresholds_reject_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Thresholds(**bad)


def test_thresholds_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Thresholds().min_width = 1  # type: ignore[misc]


def test_result_serialises_to_json() -> None:
    check = ImageCheck(metrics={"width": 3, "entropy": 1.5, "format": "png"}, phash=2**64 - 1)
    check.add("corrupt", "OSError: bad")
    check.add("corrupt", "second reason is not recorded")
    data = json.loads(json.dumps(asdict(check)))
    assert data["issues"] == ["corrupt"] and data["metrics"]["error"] == "OSError: bad"


def test_phash_ignores_scale_and_sees_content() -> None:
    image = c.photo(70, (640, 480)).convert("L")
    same = phash(image)
    assert distance(same, phash(image.resize((320, 240)))) <= 2
    assert distance(same, phash(c.photo(71, (640, 480)).convert("L"))) > 12
    # a flat picture has only its mean (bit 63) above the median, whatever its grey
    assert phash(Image.new("L", (64, 64), 128)) == phash(Image.new("L", (50, 30), 30)) == 1 << 63


def test_phash_turns_exif_oriented_pixels_upright() -> None:
    image = c.photo(72, (320, 240)).convert("L")
    stored = image.transpose(Image.Transpose.ROTATE_90)  # what a camera writes with tag 6
    assert distance(phash(image), phash(stored, orientation=6)) <= 2
    assert distance(phash(image), phash(stored)) > 12


def test_phash_bits_are_balanced() -> None:
    """Median thresholding sets about half the bits, which keeps unrelated hashes ~32 apart."""
    counts = [bin(phash(c.photo(seed, (160, 120)).convert("L"))).count("1")
              for seed in range(20)]
    assert 28 <= np.mean(counts) <= 36
