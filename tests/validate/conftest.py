"""One generated corpus per test session: clean photos, one file per issue code, hostile files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.validate import corpus as c

SIZE = (320, 240)


def _build(folder: Path) -> dict[str, Path]:
    base = c.photo(1, SIZE)
    files: dict[str, bytes] = {
        # clean, in every format the web serves
        "clean.jpg": c.encode(base, "JPEG", quality=88),
        "clean_progressive.jpg": c.encode(c.photo(2, SIZE), "JPEG", quality=80, progressive=True),
        "clean.png": c.encode(c.photo(3, SIZE), "PNG"),
        "clean_large.jpg": c.encode(c.photo(4, (1600, 1200)), "JPEG", quality=85),
        "clean_rgba.png": c.encode(c.photo(5, SIZE).convert("RGBA"), "PNG"),
        "clean_palette.png": c.encode(c.photo(6, SIZE).quantize(256), "PNG"),
        "clean.webp": c.encode(c.photo(7, SIZE), "WEBP", quality=85),
        "clean_lossless.webp": c.encode(c.photo(8, SIZE), "WEBP", lossless=True),
        "clean.bmp": c.encode(c.photo(9, SIZE), "BMP"),
        "clean.tiff": c.encode(c.photo(10, SIZE), "TIFF"),
        "cmyk.jpg": c.encode(c.photo(11, SIZE).convert("CMYK"), "JPEG", quality=90),
        "rgb16.png": c.png_rgb16(c.photo(12, SIZE)),
        "animated.gif": c.animated_gif((13, 14, 15), SIZE),
        "exif_rotated.jpg": c.exif_rotated_jpeg(c.photo(16, SIZE)),
        "upright.jpg": c.encode(c.photo(16, SIZE), "JPEG", quality=90),
        # one per issue code
        "grey16.png": c.png_grey16(17, SIZE),
        "html.jpg": c.html_page(),
        "heic_like.heic": c.heic_like(),
        "zero.jpg": b"",
        "broken_header.jpg": c.jpeg_broken_header(),
        "scrambled_scan.jpg": c.jpeg_scrambled_scan(c.photo(18, SIZE)),
        "truncated.jpg": c.encode(c.photo(19, SIZE), "JPEG", quality=90)[:6000],
        "cut_pixels.png": c.png_cut_pixels(c.photo(20, SIZE)),
        "tiny.jpg": c.encode(c.photo(21, (48, 40)), "JPEG", quality=90),
        "banner.jpg": c.encode(c.photo(22, (960, 200)), "JPEG", quality=90),
        "bomb.png": c.png_bomb(10_000),
        "claims_huge.png": c.png_claiming(100_000, 100_000),
        "grey_as_rgb.jpg": c.encode(c.grey_as_rgb(c.photo(23, SIZE)), "JPEG", quality=85),
        "dark.jpg": c.encode(c.darkened(c.photo(24, SIZE)), "JPEG", quality=90),
        "light.jpg": c.encode(c.lightened(c.photo(25, SIZE)), "JPEG", quality=90),
        "placeholder.png": c.encode(c.placeholder(SIZE), "PNG"),
        "blurry.jpg": c.encode(c.blurred(c.photo(26, SIZE), 3), "JPEG", quality=90),
    }
    if c.can_write("AVIF"):
        files["clean.avif"] = c.encode(c.photo(27, SIZE), "AVIF", quality=80)
    return {name: c.save(folder, name, data) for name, data in files.items()}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _build(tmp_path_factory.mktemp("validate-corpus"))


@pytest.fixture(scope="session")
def heif_readable() -> bool:
    Image.init()
    return "HEIF" in Image.OPEN
