"""Unpacking a downloaded export that lies about its sizes: refused up front when its declared
sizes do not fit the disk, stopped at the first member holding more than it declares, and in
both cases nothing left behind."""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from pixcrawler_desktop.cli.exitcodes import CliError
from pixcrawler_desktop.cli.extract import extract_dataset

CENTRAL = b"PK\x01\x02"
USIZE_AT = 24  # uncompressed size within a central directory record
LARGEST_PLAIN = 0xFFFF_FFF0  # the largest size a record holds without zip64


def declare_sizes(archive: Path, sizes: dict[str, int]) -> None:
    """Rewrite the uncompressed sizes the central directory declares for the named members,
    leaving their data as it is (what a hostile server could send)."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        start = zf.start_dir
    at = data.find(CENTRAL, start)
    while at != -1:
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, at + 28)
        name = data[at + 46: at + 46 + name_len].decode()
        if name in sizes:
            struct.pack_into("<I", data, at + USIZE_AT, sizes[name])
        at = data.find(CENTRAL, at + 46 + name_len + extra_len + comment_len)
    archive.write_bytes(bytes(data))


def dataset_zip(path: Path, members: dict[str, bytes], method: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        zf.writestr("manifest.jsonl", b'{"n": 1}\n')
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def nothing_left(parent: Path, archive: Path) -> bool:
    return [p.name for p in parent.iterdir()] == [archive.name]


def test_declared_sizes_beyond_the_free_space_are_refused_before_writing(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    count = free // LARGEST_PLAIN + 2  # together more than the disk has free
    members = {f"cat/{i:06d}.jpg": b"x" for i in range(count)}
    archive = dataset_zip(tmp_path / "bomb.zip", members, zipfile.ZIP_STORED)
    declare_sizes(archive, dict.fromkeys(members, LARGEST_PLAIN))

    with pytest.raises(CliError) as refused:
        extract_dataset(archive, tmp_path / "set")
    assert "MB is free" in refused.value.message
    assert "nothing was written" in refused.value.message
    assert nothing_left(tmp_path, archive)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_member_longer_than_it_declares_stops_the_unpacking(tmp_path, method):
    members = {"cat/a-good.jpg": b"g" * 5000, "cat/b-bomb.jpg": b"\0" * 2_000_000,
               "cat/c-after.jpg": b"c" * 10}
    archive = dataset_zip(tmp_path / "bomb.zip", members, method)
    declare_sizes(archive, {"cat/b-bomb.jpg": 1000})

    with pytest.raises(CliError) as refused:
        extract_dataset(archive, tmp_path / "set")
    assert "'cat/b-bomb.jpg' holds more than the 1,000 bytes it declares" in refused.value.message
    assert nothing_left(tmp_path, archive)


def test_a_member_shorter_than_it_declares_is_refused(tmp_path):
    archive = dataset_zip(tmp_path / "short.zip", {"cat/a.jpg": b"a" * 100},
                          zipfile.ZIP_DEFLATED)
    declare_sizes(archive, {"cat/a.jpg": 5000})

    with pytest.raises(CliError) as refused:
        extract_dataset(archive, tmp_path / "set")
    assert "'cat/a.jpg'" in refused.value.message
    assert nothing_left(tmp_path, archive)


def test_honest_sizes_unpack(tmp_path):
    archive = dataset_zip(tmp_path / "ok.zip", {"cat/a.jpg": b"a" * 70_000},
                          zipfile.ZIP_DEFLATED)
    done = extract_dataset(archive, tmp_path / "set")
    assert (done.images, (tmp_path / "set" / "cat" / "a.jpg").read_bytes()) == (1, b"a" * 70_000)
