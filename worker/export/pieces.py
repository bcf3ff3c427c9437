"""An output that collects what a writer (zipfile, tarfile, pyarrow) writes until it is taken:
the writer thinks it writes to a file, and the export hands the bytes on in pieces as they
come, so nothing is held whole."""

from __future__ import annotations

PIECE = 512 * 1024  # bytes gathered before a piece is handed on
SMALL = 4096


class Pieces:
    """A write-only, unseekable file. File data is kept as written (no copy until the join);
    the many small writes (headers, descriptors, footers) go into one bytearray, so they cost
    no more than their bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes | bytearray] = []
        self.size = 0  # bytes waiting to be taken
        self._written = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        n = len(data)
        if n >= SMALL:
            self._parts.append(bytes(data))  # no copy when given bytes, as the writers do
        elif self._parts and isinstance(self._parts[-1], bytearray):
            self._parts[-1] += data
        else:
            self._parts.append(bytearray(data))
        self.size += n
        self._written += n
        return n

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def full(self) -> bool:
        return self.size >= PIECE

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data
