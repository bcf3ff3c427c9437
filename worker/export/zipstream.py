"""A zip archive written as a stream of byte pieces, never held whole.

zipfile writes to any object with ``write``; given one without ``seek`` it treats the output
as unseekable and puts each entry's CRC and sizes in a data descriptor after its data instead
of going back to patch the header. Everything it writes lands in a small buffer (`Pieces`)
that is emptied into the stream after each write once it holds PIECE bytes, so memory stays at
about PIECE plus one READ, whatever the size of the archive (zip64 when needed). Pieces of
half a megabyte rather than one per write keep the per-piece costs downstream (a thread-pool
hop, an HTTP chunk) small next to the bytes.

The one thing that grows is what any zip writer must keep for the central directory at the
end: zipfile's ZipInfo per entry, about 0.6 KB each (3 MB for 5,000 images, 60 MB for 100,000).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from worker.export.pieces import Pieces

READ = 256 * 1024
FILE_MODE = 0o644 << 16  # rw-r--r-- for unzip on Unix; zipfile leaves 0 for a bare ZipInfo
EARLIEST = (1980, 1, 1, 0, 0, 0)  # the zip format cannot date anything before this


def _date_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    stamp = moment.astimezone(UTC).timetuple()[:6]
    return max(stamp, EARLIEST)  # type: ignore[return-value]


class ZipStream:
    """Add entries one at a time; each call yields the archive's next bytes."""

    def __init__(self) -> None:
        self._out = Pieces()
        self._zip = zipfile.ZipFile(self._out, "w", allowZip64=True)  # type: ignore[arg-type]

    def _drain(self, everything: bool = False) -> Iterator[bytes]:
        if self._out.full() or (everything and self._out.size):
            yield self._out.take()

    def _info(self, name: str, modified: datetime, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_date_time(modified))
        info.compress_type = compress
        info.external_attr = FILE_MODE
        return info

    def add_file(
        self, name: str, source: BinaryIO, size: int, modified: datetime
    ) -> Iterator[bytes]:
        """A file stored as is (images are compressed already); ``size`` decides zip64."""
        info = self._info(name, modified, zipfile.ZIP_STORED)
        info.file_size = size
        with self._zip.open(info, "w") as dest:
            while chunk := source.read(READ):
                dest.write(chunk)
                yield from self._drain()
        yield from self._drain()

    def add_stream(self, name: str, pieces: Iterable[bytes], modified: datetime,
                   ) -> Iterator[bytes]:
        """A file stored as it is produced (a tar shard, a Parquet file), its size unknown
        until the end: zip64 fields from the start, so it may pass 4 GB."""
        info = self._info(name, modified, zipfile.ZIP_STORED)
        with self._zip.open(info, "w", force_zip64=True) as dest:
            for piece in pieces:
                dest.write(piece)
                yield from self._drain()
        yield from self._drain()

    def add_text(self, name: str, text: Iterable[str], modified: datetime) -> Iterator[bytes]:
        """A UTF-8 text file, deflated, from a stream of pieces."""
        info = self._info(name, modified, zipfile.ZIP_DEFLATED)
        with self._zip.open(info, "w") as dest:
            for piece in text:
                dest.write(piece.encode("utf-8"))
                yield from self._drain()
        yield from self._drain()

    def close(self) -> Iterator[bytes]:
        """The central directory, then whatever is still buffered."""
        self._zip.close()
        yield from self._drain(everything=True)
