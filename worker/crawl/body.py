"""An image body on its way to disk: collected in memory, then written, hashed and checked at once.

An image rarely exceeds a few hundred KB, so pieces are kept in memory and :meth:`Body.settle`
writes the temp file in one go, hashes it, checks that it is complete and reads its size from
the header: one file create and one write per image. Bodies larger than ``spill_at`` go to a
temp file as they arrive, so memory stays bounded.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from worker.crawl import magic
from worker.crawl.types import DownloadError, LocalWriteError

# Our format names -> Pillow's plugin ids, to read dimensions with only the matching plugin.
_PIL_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
    "avif": "AVIF",
    "heic": "HEIF",
}
# Headers (EXIF, ICC profiles) nearly always fit here; a larger one falls back to the body.
_HEADER_BYTES = 64 * 1024


class Body:
    """Pieces of one response body of a known image format (sniffed before the first add)."""

    def __init__(self, temp_dir: Path, fmt: str, extension: str, *, spill_at: int) -> None:
        self.temp_dir = temp_dir
        self.format = fmt
        self.extension = extension
        self.size = 0
        self._spill_at = spill_at
        self._parts: list[bytes] = []
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._hasher = hashlib.sha256()
        self._head = b""  # first bytes, kept once spilled
        self._tail = b""  # last bytes, kept once spilled

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self._file is None:
            self._parts.append(piece)
            if self.size > self._spill_at:
                self._spill()
            return
        self._hasher.update(piece)
        with _writing():
            self._file.write(piece)
        self._tail = (self._tail + piece)[-magic.TAIL_SIZE :]

    def settle(self) -> tuple[Path, str, int | None, int | None]:
        """Write (if still in memory), hash and check the body: (temp path, sha256, width,
        height). Raises DownloadError for a truncated or unreadable image; the temp file is
        then gone."""
        if self._file is None:
            data = b"".join(self._parts)
            self._parts = []
            head, tail = data[:_HEADER_BYTES], data[-magic.TAIL_SIZE :]
            self._open()
            assert self._file is not None
            with _writing(self.discard):
                self._file.write(data)
            digest = hashlib.sha256(data).hexdigest()
        else:
            head, tail, data = self._head, self._tail, None
            digest = self._hasher.hexdigest()
        with _writing(self.discard):
            self._file.close()  # flushes: a full disk may only show here
        path = self._path
        assert path is not None
        try:
            if not magic.complete(self.format, head[: magic.HEAD_SIZE], tail, self.size):
                raise DownloadError(f"truncated {self.format}: the body ends mid-image",
                                    "not_image")
            width, height = dimensions(self.format, head, data if data is not None else path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, digest, width, height

    def discard(self) -> None:
        """Drop the body (a failed or cancelled download): nothing is left on disk."""
        self._parts = []
        if self._file is not None:
            self._file.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)

    def _open(self) -> None:
        with _writing():
            fd, name = tempfile.mkstemp(prefix="dl-", suffix=".part", dir=self.temp_dir)
        self._path = Path(name)
        self._file = os.fdopen(fd, "wb")

    def _spill(self) -> None:
        data = b"".join(self._parts)
        self._parts = []
        self._head, self._tail = data[:_HEADER_BYTES], data[-magic.TAIL_SIZE :]
        self._open()
        assert self._file is not None
        self._hasher.update(data)
        with _writing():
            self._file.write(data)


@contextmanager
def _writing(cleanup: Callable[[], None] | None = None) -> Iterator[None]:
    """A failed local write is this machine's fault, not the download's: LocalWriteError."""
    try:
        yield
    except OSError as exc:
        if cleanup is not None:
            with suppress(OSError):
                cleanup()
        raise LocalWriteError(exc) from exc


def dimensions(fmt: str, head: bytes, body: bytes | Path) -> tuple[int | None, int | None]:
    """Width and height from the header only (no pixel decoding): from ``head`` when it holds
    the whole header, else from the full body."""
    plugin = _PIL_FORMATS[fmt]
    if plugin not in Image.OPEN:
        Image.init()
        if plugin not in Image.OPEN:
            return None, None  # e.g. HEIC without pillow-heif: keep the image, size unknown
    try:
        return _size(io.BytesIO(head), plugin)
    except Exception:
        pass  # the header is longer than `head`; read it from the whole body
    try:
        return _size(io.BytesIO(body) if isinstance(body, bytes) else body, plugin)
    except Exception as exc:  # Pillow raises many types for bad headers
        raise DownloadError(f"unreadable image ({type(exc).__name__}: {exc})",
                            "not_image") from None


def _size(source: io.BytesIO | Path, plugin: str) -> tuple[int, int]:
    with Image.open(source, formats=[plugin]) as im:
        return im.size
