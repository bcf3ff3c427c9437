"""What a file's header says, read without decoding any pixel (the whole of the fast level).

The format comes from magic bytes (:mod:`worker.crawl.magic`), never from the file name, and
Pillow is then allowed only the plugin for that format, so an HTML page named ``.jpg`` or a
file that merely resembles some exotic format is never handed to a decoder it was not meant for.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image

# We report oversized images as ``decompression_bomb`` ourselves (Thresholds.max_pixels sits
# below Pillow's warning limit), so Pillow's process-wide warning would only repeat that in logs.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

_PILLOW_PLUGIN = {
    "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP",
    "avif": "AVIF", "heic": "HEIF",
}
_EXIF_ORIENTATION = 0x0112
_SWAPS_SIDES = frozenset({5, 6, 7, 8})  # orientations that turn the picture by 90°


def pillow_plugin(fmt: str) -> str | None:
    """Pillow's plugin name for a sniffed format, or None when this Pillow cannot read it
    (HEIC unless a HEIF plugin such as pillow-heif has registered itself)."""
    plugin = _PILLOW_PLUGIN.get(fmt)
    Image.init()  # plugins register lazily; make sure the registry is complete
    return plugin if plugin in Image.OPEN else None


@dataclass(frozen=True)
class Header:
    format: str
    mode: str
    stored_size: tuple[int, int]
    orientation: int
    animated: bool

    @property
    def size(self) -> tuple[int, int]:
        """Width and height as shown to a person, i.e. after EXIF rotation."""
        width, height = self.stored_size
        return (height, width) if self.orientation in _SWAPS_SIDES else (width, height)


def open_image(fp: BinaryIO, plugin: str) -> Image.Image:
    """Parse the header with exactly one plugin; errors propagate for the caller to classify."""
    return Image.open(fp, formats=[plugin])


def read_header(im: Image.Image, fmt: str) -> Header:
    return Header(fmt, im.mode, im.size, orientation(im), bool(getattr(im, "is_animated", False)))


def orientation(im: Image.Image) -> int:
    """EXIF orientation 1–8 from the metadata parsed with the header (1 when absent or bad).

    Reads ``info["exif"]`` rather than ``getexif()``, which on PNG decodes the whole image to
    look for an eXIf chunk after the pixel data."""
    if im.format == "TIFF":
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    else:
        raw = im.info.get("exif")
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
        value = exif.get(_EXIF_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
