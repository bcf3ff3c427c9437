"""Image format from the first bytes of a body.

Servers lie in Content-Type (hotlink pages served as image/jpeg, real images as text/html), so
the downloader decides by magic bytes alone.
"""

from __future__ import annotations

HEAD_SIZE = 64
"""Bytes worth collecting before calling :func:`sniff` (ISO-BMFF brands need a few dozen)."""

# Brands in an ISO-BMFF "ftyp" box. AVIF wins over HEIC when a file lists both.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
# BITMAPINFOHEADER variants; checking this keeps text starting with "BM" from passing as BMP.
_BMP_DIB_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def sniff(head: bytes) -> tuple[str, str] | None:
    """``(format, extension)`` for a known image signature at the start of ``head``, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp", "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff", "tiff"
    if head[:2] == b"BM" and len(head) >= 18:
        if int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
            return "bmp", "bmp"
        return None
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    return None


def _sniff_ftyp(head: bytes) -> tuple[str, str] | None:
    box_size = int.from_bytes(head[0:4], "big")
    end = min(len(head), box_size if box_size >= 16 else len(head))
    # major brand at 8..12, minor version at 12..16, compatible brands from 16 on
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if brands & _AVIF_BRANDS:
        return "avif", "avif"
    if brands & _HEIC_BRANDS:
        return "heic", "heic"
    return None


def describe(head: bytes) -> str:
    """Short human description of a body that is not an image, for the download error."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "HTML page"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<svg"):
        return "SVG/XML document" if b"<svg" in stripped else "XML document"
    if stripped.startswith((b"{", b"[")):
        return "JSON or text"
    if not head:
        return "empty body"
    return f"unknown bytes {head[:8].hex(' ')}"


TAIL_SIZE = 64 * 1024
"""Bytes from the end of a body worth reading for :func:`complete` (room for trailers some
cameras append after a JPEG's end marker)."""


def complete(fmt: str, head: bytes, tail: bytes, size: int) -> bool:
    """False when a body visibly stops early: a server that ends a response cleanly mid-image
    leaves a JPEG without its end marker, a PNG without IEND, a GIF without its trailer, or a
    WebP shorter than its RIFF header says. Formats without such a mark pass."""
    if fmt == "jpeg":
        return b"\xff\xd9" in tail  # scan data can't hold FF D9: encoders stuff FF with 00
    if fmt == "png":
        return b"IEND" in tail
    if fmt == "gif":
        return tail.rstrip(b"\x00\r\n ").endswith(b";")
    if fmt == "webp":
        return int.from_bytes(head[4:8], "little") + 8 <= size
    return True
