"""Unpacking a downloaded export: whole or nothing, and no member placed outside the folder."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from pixcrawler_desktop.cli.exitcodes import CliError
from pixcrawler_desktop.cli.extract import extract_dataset


def make_zip(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_a_dataset_is_unpacked_in_one_piece(tmp_path):
    archive = make_zip(
        tmp_path / "a.zip",
        {
            "cat/train/bing-0001-a.jpg": b"x" * 10,
            "cat/val/bing-0002-b.jpg": b"y" * 5,
            "manifest.csv": b"file\n",
            "manifest.jsonl": b'{"n": 1}\n{"n": 2}\n',
        },
    )
    dest = tmp_path / "set"
    dest.mkdir()  # an empty folder may be the destination
    done = extract_dataset(archive, dest)
    assert (done.folder, done.images, done.bytes) == (dest, 2, 38)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "cat/train/bing-0001-a.jpg",
        "cat/val/bing-0002-b.jpg",
        "manifest.csv",
        "manifest.jsonl",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "set"]


@pytest.mark.parametrize(
    "evil",
    ["../escape.jpg", "/etc/cron.d/x", "cat/../../x.jpg", "C:/windows/x.jpg", "cat\\..\\..\\x.jpg"],
)
def test_an_unsafe_member_refuses_the_whole_archive(tmp_path, evil):
    archive = make_zip(tmp_path / "a.zip", {"cat/ok.jpg": b"x", evil: b"evil"})
    with pytest.raises(CliError) as refused:
        extract_dataset(archive, tmp_path / "out" / "set")
    assert "unsafe path" in refused.value.message
    assert list((tmp_path / "out").iterdir()) == []
    assert not (tmp_path / "escape.jpg").exists() and not (tmp_path / "x.jpg").exists()


def test_an_archive_without_a_manifest_is_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"cat/ok.jpg": b"x"})
    with pytest.raises(CliError) as refused:
        extract_dataset(archive, tmp_path / "set")
    assert "manifest.jsonl" in refused.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]


def test_links_are_refused(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"cat/ok.jpg": b"x"}, link="cat/link.jpg")
    with pytest.raises(CliError):
        extract_dataset(archive, tmp_path / "set")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip"]
