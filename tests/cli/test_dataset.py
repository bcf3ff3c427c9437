"""Writing a dataset folder: safe names, whole files, hashes checked, manifests last."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pixcrawler_desktop.cli.dataset import (
    FIELDS,
    check_destination,
    keyword_folders,
    local_reader,
    slugify,
    write_dataset,
)
from pixcrawler_desktop.client import ConnectionLost, Image


def image(n: int, keyword: str, data: bytes, *, engine: str = "bing",
          sha256: str | None = None, fmt: str = "jpeg") -> Image:
    return Image(id=n, job_id=1, chunk_id=1, keyword=keyword, engine=engine, rank=n,
                 source_url=f"http://x/{n}.jpg", page_url=None, title=f"=title {n}",
                 file_path=f"jobs/1/k/{n}.jpg", sha256=sha256 or hashlib.sha256(data).hexdigest(),
                 bytes=len(data), width=4, height=3, format=fmt,
                 downloaded_at=datetime.now(UTC), validation_status="invalid",
                 validation_issues=["too_small", "grayscale"])


@pytest.mark.parametrize(("keyword", "slug"), [
    ("golden retriever", "golden-retriever"),
    ("../../etc/passwd", "etc-passwd"),
    ("..", "keyword"),
    ("a\\b/c:d", "a-b-c-d"),
    ("CON", "CON-"),
    ("  .hidden ", "hidden"),
    ("chat noir ÉTÉ", "chat-noir-ÉTÉ"),
    ("日本 語", "日本-語"),
    ("ﬁsh", "fish"),  # NFKC
])
def test_slug_is_a_safe_single_path_part(keyword, slug):
    assert slugify(keyword) == slug
    assert "/" not in slug and "\\" not in slug and slug not in (".", "..")


def test_long_keyword_slug_fits_a_file_name():
    slug = slugify("猫" * 300)
    assert 0 < len(slug.encode()) <= 200


def test_keyword_folders_are_unique_ignoring_case():
    assert keyword_folders(["C++", "C#", "c", "dog", "dog"]) == {
        "C++": "C", "C#": "C-2", "c": "c-3", "dog": "dog"}


def test_write_dataset_checks_hashes_and_writes_manifests_last(tmp_path):
    blobs = {1: b"one", 2: b"two", 3: b"three", 4: b"four"}
    images = [image(1, "cat", blobs[1]), image(2, "dog/../x", blobs[2], engine="duckduckgo"),
              image(3, "cat", blobs[3], sha256="0" * 64), image(4, "cat", blobs[4], fmt="png")]
    out = tmp_path / "set"
    dataset = write_dataset(out, ["cat", "dog/../x", "empty"], images,
                            lambda im: blobs[im.id])

    assert sorted(p.name for p in out.iterdir()) == [
        "cat", "dog-x", "empty", "manifest.csv", "manifest.jsonl"]
    assert list((out / "empty").iterdir()) == []
    assert dataset.skipped == ["image 3: its bytes do not match the recorded sha256"]
    assert not list(out.rglob("*.part")), "a temporary file was left behind"

    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["image_id"] for r in rows] == [1, 4, 2]  # keyword order, then engine, rank
    for row in rows:
        data = (out / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] == \
            hashlib.sha256(blobs[row["image_id"]]).hexdigest()
    assert rows[0]["file"] == f"cat/bing-0001-{hashlib.sha256(b'one').hexdigest()[:12]}.jpg"
    assert rows[1]["file"].endswith(".png")
    assert rows[0]["validation_issues"] == ["too_small", "grayscale"]
    assert rows[0]["page_url"] is None

    with (out / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert tuple(table[0]) == FIELDS
    assert [int(r["image_id"]) for r in table] == [1, 4, 2]
    assert table[0]["validation_issues"] == "too_small;grayscale"
    assert table[0]["page_url"] == "" and table[0]["title"] == "=title 1"


def test_a_fetch_error_skips_only_that_image(tmp_path):
    def fetch(im: Image) -> bytes:
        if im.id == 2:
            raise OSError("gone")
        return b"ok"

    dataset = write_dataset(tmp_path / "set", ["k"], [image(1, "k", b"ok"), image(2, "k", b"x")],
                            fetch)
    assert [r["image_id"] for r in dataset.rows] == [1]
    assert dataset.skipped == ["image 2: gone"]


def test_destination_must_be_new_or_empty(tmp_path):
    check_destination(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.jpg").write_bytes(b"")
    with pytest.raises(FileExistsError):
        check_destination(tmp_path / "full")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileExistsError):
        check_destination(tmp_path / "file")


def test_local_reader_stays_inside_the_data_folder(tmp_path):
    data = tmp_path / "data"
    (data / "jobs").mkdir(parents=True)
    (data / "jobs" / "a.jpg").write_bytes(b"inside")
    (tmp_path / "secret").write_bytes(b"outside")
    read = local_reader(data)
    inside = image(1, "k", b"inside").model_copy(update={"file_path": "jobs/a.jpg"})
    outside = image(2, "k", b"outside").model_copy(update={"file_path": "../secret"})
    assert read(inside) == b"inside"
    with pytest.raises(ValueError, match="outside the data folder"):
        read(outside)


def test_names_come_from_our_slug_not_the_server_path(tmp_path: Path):
    hostile = image(1, "k", b"x", engine="../../bin").model_copy(
        update={"file_path": "../../../etc/x", "format": "../sh"})
    dataset = write_dataset(tmp_path / "set", ["k"], [hostile], lambda _im: b"x")
    (written,) = [p for p in (tmp_path / "set").rglob("*") if p.is_file()
                  and not p.name.startswith("manifest")]
    assert written.parent == tmp_path / "set" / "k"
    assert written.name == dataset.rows[0]["file"].split("/")[1]
    assert written.name.startswith("bin-0001-") and written.suffix == ".sh"


def test_losing_the_server_stops_the_export_without_a_manifest(tmp_path):
    def fetch(im: Image) -> bytes:
        raise ConnectionLost("Cannot reach the server at http://x: refused")

    with pytest.raises(ConnectionLost):
        write_dataset(tmp_path / "set", ["k"], [image(1, "k", b"x")], fetch)
    assert not (tmp_path / "set" / "manifest.csv").exists()
    assert not (tmp_path / "set" / "manifest.jsonl").exists()
