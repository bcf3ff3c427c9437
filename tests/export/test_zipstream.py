"""The streaming zip writer: valid archives from an unseekable stream, in small pieces."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest

from worker.export.pieces import PIECE
from worker.export.zipstream import READ, ZipStream

WHEN = datetime(2026, 3, 1, 12, 30, 10, tzinfo=UTC)


class Source(io.BytesIO):
    """A file that remembers how far it has been read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.high = 0

    def read(self, n: int = -1) -> bytes:
        data = super().read(n)
        self.high = self.tell()
        return data


def test_archive_round_trip(tmp_path):
    photo = bytes(range(256)) * 1000
    stream = ZipStream()
    old = datetime(1970, 1, 1, tzinfo=UTC)
    parts = [
        *stream.add_file("cat/bing-0001-abc.jpg", io.BytesIO(photo), len(photo), WHEN),
        *stream.add_file("dög/empty.png", io.BytesIO(b""), 0, old),
        *stream.add_text("manifest.csv", ["a,b\n", "1,2\n" * 5000], WHEN),
        *stream.close(),
    ]
    data = b"".join(parts)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    cat, empty, manifest = archive.infolist()
    assert cat.filename == "cat/bing-0001-abc.jpg" and archive.read(cat) == photo
    assert cat.compress_type == zipfile.ZIP_STORED and cat.date_time == (2026, 3, 1, 12, 30, 10)
    assert cat.external_attr >> 16 == 0o644
    assert empty.filename == "dög/empty.png" and empty.date_time == (1980, 1, 1, 0, 0, 0)
    assert manifest.compress_type == zipfile.ZIP_DEFLATED
    assert archive.read(manifest) == b"a,b\n" + b"1,2\n" * 5000
    assert manifest.compress_size < manifest.file_size // 10
    if shutil.which("unzip"):  # Info-ZIP agrees the archive is sound, data descriptors and all
        path = tmp_path / "a.zip"
        path.write_bytes(data)
        check = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_pieces_stay_small_and_reading_keeps_pace():
    big = bytes(20 * 1024 * 1024)
    source = Source(big)
    stream = ZipStream()
    pieces = stream.add_file("big.bin", source, len(big), WHEN)
    first = next(pieces)
    # Nothing is read far ahead of what has been handed out.
    assert source.high <= len(first) + READ
    sizes = [len(first), *(len(p) for p in pieces), *(len(p) for p in stream.close())]
    assert max(sizes) <= PIECE + READ + 1024
    assert sum(sizes) > len(big)


def test_an_empty_archive_is_valid():
    stream = ZipStream()
    data = b"".join(stream.close())
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []


@pytest.mark.slow
def test_more_entries_than_plain_zip_allows():
    """Past 65,535 entries the archive needs zip64 end records; it must still open."""
    stream = ZipStream()
    parts = []
    for i in range(66_000):
        parts += stream.add_file(f"k/{i}.jpg", io.BytesIO(b"x"), 1, WHEN)
    parts += stream.close()
    data = b"".join(parts)
    assert b"PK\x06\x06" in data[-200:]  # the zip64 end of central directory record
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert len(names) == 66_000 and names[-1] == "k/65999.jpg"
    assert archive.read("k/65999.jpg") == b"x"
