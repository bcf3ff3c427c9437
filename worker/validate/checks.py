"""``check_image``: every check of one level on one file, each failure as an issue code.

Files come from the open web, so anything may be in them; no exception leaves this module.
The stages run cheapest first, and an image already invalid after the header is not decoded:
its fate is decided, and decoding a bomb or an oversized file is exactly the cost to avoid.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from worker.crawl import magic
from worker.validate import issues as codes
from worker.validate.hashing import near_hashes
from worker.validate.header import Header, open_image, pillow_plugin, read_header
from worker.validate.measures import sharpness, tone
from worker.validate.pixels import decode
from worker.validate.result import ImageCheck
from worker.validate.thresholds import LEVELS, Level, Thresholds

ANALYSIS_SIDE = 160
"""Long side (at least) of the decoded pixels medium and slow work on: tone and colour
statistics, the pixel digest and the 32×32 perceptual hash are stable at this size, and
sharpness still tells a blurred photo from a sharp one. Decoding finer for sharpness alone
cost slow about a quarter of its speed."""
DEFAULT_THRESHOLDS = Thresholds()


def check_image(
    path: Path, level: Level, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> ImageCheck:
    """Issues, metrics and hashes of one image at ``level``. Never raises for a bad file; a
    level outside fast/medium/slow is a programming error and raises ValueError."""
    if level not in LEVELS:
        raise ValueError(f"unknown validation level {level!r}; expected one of {LEVELS}")
    result = ImageCheck()
    try:
        _check_file(Path(path), level, thresholds, result)
    except Exception as exc:  # an unreadable file, or a decoder fault no branch foresaw
        result.add(codes.CORRUPT, _describe(exc))
    return result


def _check_file(path: Path, level: Level, thresholds: Thresholds, result: ImageCheck) -> None:
    size = path.stat().st_size
    result.metrics["file_bytes"] = size
    if size == 0:
        result.add(codes.CORRUPT, "empty file")
        return
    if size > thresholds.max_file_bytes:
        result.add(codes.FILE_TOO_LARGE)
    with path.open("rb") as fp:
        head = fp.read(magic.HEAD_SIZE)
        sniffed = magic.sniff(head)
        if sniffed is None:
            result.add(codes.UNSUPPORTED_FORMAT, magic.describe(head))
            return
        fmt = sniffed[0]
        result.metrics["format"] = fmt
        plugin = pillow_plugin(fmt)
        if plugin is None:
            result.add(codes.UNSUPPORTED_FORMAT, f"no decoder for {fmt} in this installation")
            return
        fp.seek(max(0, size - magic.TAIL_SIZE))
        complete = magic.complete(fmt, head, fp.read(), size)
        fp.seek(0)
        try:
            _check_image_data(fp, plugin, fmt, complete, level, thresholds, result)
        except Image.DecompressionBombError as exc:  # Pillow's own limit, above ours
            result.add(codes.DECOMPRESSION_BOMB, str(exc))
        except UnidentifiedImageError:
            code = codes.CORRUPT if complete else codes.TRUNCATED
            result.add(code, f"starts like {fmt} but its header cannot be parsed")
        except Exception as exc:
            cut = not complete or "truncated" in str(exc).lower()
            result.add(codes.TRUNCATED if cut else codes.CORRUPT, _describe(exc))


def _check_image_data(
    fp: BinaryIO,
    plugin: str,
    fmt: str,
    complete: bool,
    level: Level,
    thresholds: Thresholds,
    result: ImageCheck,
) -> None:
    with open_image(fp, plugin) as im:
        header = read_header(im, fmt)
        _check_header(header, thresholds, result)
        if not complete:
            result.add(codes.TRUNCATED, "file ends before the format's end marker")
        if any(codes.is_invalidating(code) for code in result.issues):
            return
        if level == "fast":
            # Stands in for the decode that medium does: PNG walks every chunk's CRC,
            # without inflating any pixel data.
            im.verify()
            return
        _check_pixels(im, header, level, thresholds, result)


def _check_header(header: Header, thresholds: Thresholds, result: ImageCheck) -> None:
    width, height = header.size
    metrics = result.metrics
    metrics.update(width=width, height=height, mode=header.mode)
    if header.orientation != 1:
        metrics["orientation"] = header.orientation
    if header.animated:
        metrics["animated"] = 1
    if width <= 0 or height <= 0:
        result.add(codes.CORRUPT, f"image claims {width}×{height} pixels")
        return
    result.area = width * height
    aspect = max(width, height) / min(width, height)
    metrics["aspect_ratio"] = round(aspect, 3)
    if result.area > thresholds.max_pixels:
        result.add(codes.DECOMPRESSION_BOMB, f"{width}×{height} pixels")
    if width < thresholds.min_width or height < thresholds.min_height:
        result.add(codes.TOO_SMALL)
    if aspect > thresholds.max_aspect_ratio:
        result.add(codes.ODD_ASPECT_RATIO)


def _check_pixels(
    im: Image.Image, header: Header, level: Level, thresholds: Thresholds, result: ImageCheck
) -> None:
    decoded = decode(im, ANALYSIS_SIDE, header.orientation)
    result.pixel_hash = decoded.pixel_hash
    measured = tone(decoded.analysis)
    result.metrics.update(
        decode_ms=round(decoded.decode_ms, 2),
        brightness=round(measured.brightness, 2),
        brightness_p05=measured.brightness_p05,
        brightness_p95=measured.brightness_p95,
        chroma=measured.chroma_p99,
        entropy=round(measured.entropy, 3),
    )
    if measured.chroma_p99 <= thresholds.grayscale_max_chroma:
        result.add(codes.GRAYSCALE)
    if measured.brightness_p95 < thresholds.too_dark_below:
        result.add(codes.TOO_DARK)
    if measured.brightness_p05 > thresholds.too_light_above:
        result.add(codes.TOO_LIGHT)
    if measured.entropy < thresholds.min_entropy_bits:
        result.add(codes.LOW_INFORMATION)
    if level != "slow":
        return
    luminance = decoded.analysis.getchannel(0)
    sharp = sharpness(luminance)
    result.metrics["laplacian_var"] = round(sharp.laplacian_var, 1)
    result.metrics["detail_ratio"] = round(sharp.detail_ratio, 3)
    result.metrics["streak_ratio"] = round(sharp.streak_ratio, 3)
    result.metrics["anisotropy"] = round(sharp.anisotropy, 3)
    streaked = (sharp.anisotropy < thresholds.blurry_anisotropy_below
                and sharp.streak_ratio < thresholds.blurry_streak_below)
    if (sharp.laplacian_var < thresholds.blurry_below
            or sharp.detail_ratio < thresholds.blurry_ratio_below or streaked):
        result.add(codes.BLURRY)
    hashes = near_hashes(luminance, header.orientation)
    result.phash = hashes.plain.p
    result.metrics["near_hashes"] = hashes.encode()
    if hashes.trimmed is not None:
        result.metrics["content_share"] = round(hashes.content_share, 3)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
