"""Folder export: the zip's layout on disk, hard links, and never a half-written dataset."""

from __future__ import annotations

import errno
import io
import os
import zipfile

import pytest

from tests.export.helpers import add_images, blob, chunk_ids, image_values, make_job
from worker.export import folder as folder_module
from worker.export.archive import stream_zip
from worker.export.folder import FolderNotEmpty, write_folder
from worker.export.plan import Options, make_plan
from worker.export.split import parse_split


@pytest.fixture
def plan(db, data_dir):
    job = make_job(db, 1, ["cat", "dog"], ["bing"])
    chunks = chunk_ids(db, job.id)
    add_images(
        db,
        data_dir,
        job.id,
        [
            (image_values(job.id, chunks[k, "bing"], k, n, blob(n, 300)), blob(n, 300))
            for k, n in [("cat", 1), ("cat", 2), ("dog", 3), ("dog", 4), ("dog", 5)]
        ],
    )
    return make_plan(db, job, Options("all", parse_split("train:0.5,val:0.5")), data_dir)


def tree(root) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_folder_holds_what_the_zip_holds(db, plan, tmp_path):
    dest = tmp_path / "out" / "pets"
    result = write_folder(db, plan, dest)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(stream_zip(db, plan))))
    on_disk = tree(dest)
    zipped = {n: archive.read(n) for n in archive.namelist()}
    timeless = {"README.md"}  # the export time differs between the two runs
    assert {k: v for k, v in on_disk.items() if k not in timeless} == {
        k: v for k, v in zipped.items() if k not in timeless
    }
    assert set(on_disk) >= {"manifest.csv", "manifest.jsonl", "ATTRIBUTION.md", "README.md"}
    assert result.images == 5 and result.missing == 0 and result.path == dest
    assert result.bytes == sum(len(v) for v in on_disk.values())
    assert os.listdir(tmp_path / "out") == ["pets"]  # no staging folder left behind


def test_images_are_hard_links_of_the_originals(db, plan, data_dir, tmp_path):
    dest = tmp_path / "pets"
    write_folder(db, plan, dest)
    image = next(p for p in dest.rglob("*.jpg"))
    originals = {p.stat().st_ino for p in (data_dir / "jobs").rglob("*.jpg")}
    assert image.stat().st_ino in originals and image.stat().st_nlink == 2


def test_copies_when_links_are_refused(db, plan, data_dir, tmp_path, monkeypatch):
    calls = []

    def no_links(src, dst):
        calls.append(src)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(folder_module.os, "link", no_links)
    dest = tmp_path / "pets"
    result = write_folder(db, plan, dest)
    assert len(calls) == 1  # tried once, then copied the rest without trying again
    images = list(dest.rglob("*.jpg"))
    assert len(images) == result.images == 5
    assert all(p.stat().st_nlink == 1 for p in images)
    assert sorted(p.read_bytes() for p in images) == sorted(
        p.read_bytes() for p in (data_dir / "jobs").rglob("*.jpg")
    )


def test_an_empty_folder_may_be_used(db, plan, tmp_path):
    dest = tmp_path / "pets"
    dest.mkdir()
    assert write_folder(db, plan, dest).images == 5
    assert (dest / "manifest.csv").exists()


def test_refuses_a_folder_with_something_in_it(db, plan, tmp_path):
    dest = tmp_path / "pets"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(FolderNotEmpty, match=f"Folder {dest} is not empty"):
        write_folder(db, plan, dest)
    (tmp_path / "file").write_text("")
    with pytest.raises(FolderNotEmpty):
        write_folder(db, plan, tmp_path / "file")
    assert sorted(os.listdir(tmp_path)) == ["data", "export.db", "file", "pets"]
    assert os.listdir(dest) == ["keep.txt"]


def test_a_failure_leaves_nothing_behind(db, plan, tmp_path, monkeypatch):
    def broken(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder_module, "documents", broken)
    with pytest.raises(OSError, match="No space left"):
        write_folder(db, plan, tmp_path / "out" / "pets")
    assert os.listdir(tmp_path / "out") == []
