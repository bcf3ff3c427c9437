"""check_image on real generated files: every issue code, every hostile file, at every level."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.validate import corpus as c
from worker.validate.checks import check_image
from worker.validate.hashing import distance
from worker.validate.issues import ALL_CODES
from worker.validate.thresholds import LEVELS, Thresholds

# Pillow warns about the bomb files before we report them as decompression_bomb.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")

CLEAN = [
    "clean.jpg", "clean_progressive.jpg", "clean.png", "clean_large.jpg", "clean_rgba.png",
    "clean_palette.png", "clean.webp", "clean_lossless.webp", "clean.bmp", "clean.tiff",
    "cmyk.jpg", "rgb16.png", "animated.gif", "exif_rotated.jpg", "upright.jpg",
]

# file → expected issues at (fast, medium, slow), exactly
EXPECTED = {
    "html.jpg": (["unsupported_format"],) * 3,
    "zero.jpg": (["corrupt"],) * 3,
    "broken_header.jpg": (["corrupt"],) * 3,
    "truncated.jpg": (["truncated"],) * 3,
    "tiny.jpg": (["too_small"],) * 3,
    "banner.jpg": (["odd_aspect_ratio"],) * 3,
    "bomb.png": (["decompression_bomb"],) * 3,
    "claims_huge.png": (["decompression_bomb"],) * 3,
    "scrambled_scan.jpg": ([], ["corrupt"], ["corrupt"]),
    "cut_pixels.png": ([], ["truncated"], ["truncated"]),
    "grey_as_rgb.jpg": ([], ["grayscale"], ["grayscale"]),
    "grey16.png": ([], ["grayscale"], ["grayscale"]),
    "blurry.jpg": ([], [], ["blurry"]),
}


@pytest.mark.parametrize("name", CLEAN)
def test_clean_images_pass_every_level(corpus: dict[str, Path], name: str) -> None:
    for level in LEVELS:
        result = check_image(corpus[name], level)
        assert result.issues == [], (level, result.metrics)
        assert result.area == result.metrics["width"] * result.metrics["height"] > 0
    assert result.pixel_hash is not None and result.phash is not None


def test_avif_is_read_when_pillow_can(corpus: dict[str, Path]) -> None:
    if "clean.avif" not in corpus:
        pytest.skip("this Pillow cannot encode AVIF, so there is no AVIF file to read")
    assert check_image(corpus["clean.avif"], "slow").issues == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_file_gets_exactly_its_codes_per_level(corpus: dict[str, Path], name: str) -> None:
    for level, expected in zip(LEVELS, EXPECTED[name], strict=True):
        assert check_image(corpus[name], level).issues == expected, level


def test_heic_is_unsupported_unless_a_heif_plugin_is_installed(
    corpus: dict[str, Path], heif_readable: bool
) -> None:
    issues = check_image(corpus["heic_like.heic"], "medium").issues
    if heif_readable:
        assert "unsupported_format" not in issues
    else:
        assert issues == ["unsupported_format"]


@pytest.mark.parametrize(
    ("name", "code"),
    [("dark.jpg", "too_dark"), ("light.jpg", "too_light"), ("placeholder.png", "low_information")],
)
def test_tone_issues_appear_from_medium_on(corpus: dict[str, Path], name: str, code: str) -> None:
    assert code not in check_image(corpus[name], "fast").issues
    assert code in check_image(corpus[name], "medium").issues
    assert code in check_image(corpus[name], "slow").issues


def test_dark_and_light_photos_stay_colour(corpus: dict[str, Path]) -> None:
    """Darkening shrinks chroma too; a dark colour photo must not be called grayscale."""
    for name in ("dark.jpg", "light.jpg"):
        assert "grayscale" not in check_image(corpus[name], "medium").issues


def test_file_too_large_is_decided_without_decoding(corpus: dict[str, Path]) -> None:
    small_limit = Thresholds(max_file_bytes=1000)
    for level in LEVELS:
        result = check_image(corpus["clean.jpg"], level, small_limit)
        assert result.issues == ["file_too_large"]
        assert "decode_ms" not in result.metrics  # an invalid image is not decoded


def test_thresholds_move_the_verdicts(corpus: dict[str, Path]) -> None:
    strict = Thresholds(min_width=400, max_aspect_ratio=1.2, max_pixels=50_000)
    assert check_image(corpus["clean.jpg"], "fast", strict).issues == [
        "decompression_bomb", "too_small", "odd_aspect_ratio"
    ]
    lenient = Thresholds(blurry_ratio_below=0, grayscale_max_chroma=0, too_dark_below=0)
    assert check_image(corpus["blurry.jpg"], "slow", lenient).issues == []
    assert check_image(corpus["dark.jpg"], "medium", lenient).issues == []


def test_exif_rotation_gives_upright_dimensions_and_hash(corpus: dict[str, Path]) -> None:
    rotated = check_image(corpus["exif_rotated.jpg"], "slow")
    upright = check_image(corpus["upright.jpg"], "slow")
    assert rotated.metrics["orientation"] == 6
    assert (rotated.metrics["width"], rotated.metrics["height"]) == (320, 240)
    assert rotated.phash is not None and upright.phash is not None
    assert distance(rotated.phash, upright.phash) <= 4
    # stored as 240×320: without rotation a 300-pixel minimum width would reject it
    assert check_image(corpus["exif_rotated.jpg"], "fast", Thresholds(min_width=300)).issues == []


def test_sixteen_bit_grey_is_scaled_not_clipped(corpus: dict[str, Path]) -> None:
    metrics = check_image(corpus["grey16.png"], "medium").metrics
    assert metrics["mode"] == "I;16"
    assert 40 < float(metrics["brightness"]) < 200  # clipping would make it white (255)


def test_animated_gif_is_checked_on_its_first_frame(corpus: dict[str, Path]) -> None:
    result = check_image(corpus["animated.gif"], "slow")
    assert result.metrics["animated"] == 1 and result.issues == []


def test_failures_say_why(corpus: dict[str, Path]) -> None:
    assert check_image(corpus["html.jpg"], "fast").metrics["error"] == "HTML page"
    assert "decompression" in str(check_image(corpus["claims_huge.png"], "fast").metrics["error"])


def test_missing_file_is_an_issue_not_an_exception(tmp_path: Path) -> None:
    result = check_image(tmp_path / "gone.jpg", "medium")
    assert result.issues == ["corrupt"]
    assert "FileNotFoundError" in str(result.metrics["error"])


def test_unknown_level_is_a_programming_error(corpus: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="level"):
        check_image(corpus["clean.jpg"], "thorough")  # type: ignore[arg-type]


def test_metrics_are_json_ready(corpus: dict[str, Path]) -> None:
    result = check_image(corpus["clean.jpg"], "slow")
    for key in ("width", "height", "file_bytes", "aspect_ratio", "decode_ms", "brightness",
                "chroma", "entropy", "laplacian_var"):
        assert isinstance(result.metrics[key], int | float), key
    assert isinstance(result.pixel_hash, str) and 0 <= result.phash < 2**64


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(12):
        cut = rng.randrange(1, len(data))
        out.append(data[:cut])
        noisy = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            noisy[rng.randrange(len(noisy))] = rng.randrange(256)
        out.append(bytes(noisy))
        start = rng.randrange(len(data))
        out.append(data[:start] + bytes(rng.randrange(256) for _ in range(64)) + data[start:])
    return out


@pytest.mark.filterwarnings("ignore:Truncated File Read")  # Pillow's TIFF reader says so
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_mangled_files_never_raise(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(fmt)
    data = c.encode(c.photo(99, (96, 72)), fmt)
    for i, mangled in enumerate(_mutations(data, rng)):
        path = c.save(tmp_path, f"{i}.bin", mangled)
        for level in LEVELS:
            result = check_image(path, level)
            assert set(result.issues) <= ALL_CODES
