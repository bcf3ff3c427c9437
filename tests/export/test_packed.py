"""The packed formats, webdataset and parquet, read back with the libraries researchers use:
every image once, in its split, with its label and provenance; zip and folder alike."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.export.helpers import add_images, blob, chunk_ids, image_values, make_job
from worker.export.archive import stream_zip
from worker.export.folder import write_folder
from worker.export.plan import make_plan, parse_options

KEYWORDS = ["cat", "test tube", "dog"]
SPLIT = "train:0.5,val:0.3,test:0.2"


@pytest.fixture
def job(db, data_dir):
    job = make_job(db, 1, KEYWORDS, ["bing"], name="Lab pets")
    chunks = chunk_ids(db, job.id)
    rows = []
    for n in range(60):
        keyword = KEYWORDS[n % 3]
        data = blob(n, 2000 + 37 * n)
        rows.append((image_values(job.id, chunks[keyword, "bing"], keyword, n, data), data))
    add_images(db, data_dir, job.id, rows)
    return job


def export(db, job, data_dir, dest: Path, how: str, **options) -> Path:
    """The export as a folder, written directly (how="folder") or unpacked from the zip."""
    plan = make_plan(db, job, parse_options(options.pop("include", "all"),
                                            options.pop("split", None), **options), data_dir)
    if how == "folder":
        write_folder(db, plan, dest)
    else:
        with zipfile.ZipFile(io.BytesIO(b"".join(stream_zip(db, plan)))) as archive:
            archive.extractall(dest)
    return dest


def manifest(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("how", ["zip", "folder"])
def test_webdataset_shards_read_back(db, job, data_dir, tmp_path, how):
    import webdataset as wds

    root = export(db, job, data_dir, tmp_path / "wds", how, split=SPLIT,
                  export_format="webdataset", shard_mb=1)
    rows = manifest(root)
    assert len(rows) == 60
    for split in ("train", "val", "test"):
        shards = sorted((root / split).glob("*.tar"))
        assert shards and all(p.name.startswith("lab-pets-") for p in shards)
        samples = list(wds.WebDataset([str(p) for p in shards], shardshuffle=False))
        want = {r["sha256"]: r for r in rows if r["split"] == split}
        assert len(samples) == len(want)
        for sample in samples:
            about = json.loads(sample["json"])
            row = want[about["sha256"]]
            assert "." not in sample["__key__"]
            assert int(sample["cls"]) == KEYWORDS.index(row["keyword"])
            ext = row["file"].rsplit(".", 1)[-1]
            assert len(sample[ext]) == row["bytes"]
            assert about == row and row["file"].startswith(f"{split}/lab-pets-")
        # A hash order, not one class after another.
        labels = [int(s["cls"]) for s in samples]
        assert labels != sorted(labels)


def test_shards_close_before_the_limit(db, data_dir, tmp_path):
    """Shards of at most shard_mb, each a whole tar, numbered from 0 with no gap."""
    import webdataset as wds

    job = make_job(db, 1, KEYWORDS, ["bing"], name="Big")
    chunks = chunk_ids(db, job.id)
    rows = []
    for n in range(40):
        keyword = KEYWORDS[n % 3]
        data = blob(n, 120_000 + n)
        rows.append((image_values(job.id, chunks[keyword, "bing"], keyword, n, data), data))
    add_images(db, data_dir, job.id, rows)

    root = export(db, job, data_dir, tmp_path / "wds", "zip", export_format="webdataset",
                  shard_mb=1)
    shards = sorted(root.glob("*.tar"))
    assert [p.name for p in shards] == [f"big-{n:06d}.tar" for n in range(len(shards))]
    assert len(shards) == 5  # 8 samples of ~121 kB fit in 1 MB
    seen = Counter()
    for shard in shards:
        with tarfile.open(shard) as tar:
            members = tar.getmembers()
        assert sum(512 + -(-m.size // 512) * 512 for m in members) <= 1_000_000
        seen.update(m.name.split(".", 1)[0] for m in members)
    assert len(seen) == 40 and set(seen.values()) == {3}
    assert len(list(wds.WebDataset([str(p) for p in shards], shardshuffle=False))) == 40

    one = export(db, job, data_dir, tmp_path / "one", "folder", export_format="webdataset")
    assert [p.name for p in one.glob("*.tar")] == ["big-000000.tar"]


@pytest.mark.parametrize("how", ["zip", "folder"])
def test_parquet_reads_back_with_pyarrow_and_datasets(db, job, data_dir, tmp_path, how,
                                                      monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    root = export(db, job, data_dir, tmp_path / "pq", how, split=SPLIT,
                  export_format="parquet")
    rows = manifest(root)
    for split in ("train", "val", "test"):
        table = pq.read_table(root / f"{split}.parquet")
        want = {r["sha256"]: r for r in rows if r["split"] == split}
        assert table.num_rows == len(want)
        for got in table.to_pylist():
            row = want[got["sha256"]]
            assert got["label"] == KEYWORDS.index(row["keyword"])
            assert len(got["image"]["bytes"]) == row["bytes"]
            assert row["file"] == f"{split}.parquet/{got['image']['path']}"
            assert got["source_url"] == row["source_url"]
        meta = pq.ParquetFile(root / f"{split}.parquet").metadata
        assert all(meta.row_group(g).num_rows <= 100 for g in range(meta.num_row_groups))

    loaded = datasets.load_dataset(
        "parquet", data_files={s: str(root / f"{s}.parquet") for s in ("train", "val", "test")},
        cache_dir=str(tmp_path / "hf"))
    features = loaded["train"].features
    assert isinstance(features["image"], datasets.Image)
    assert features["label"].names == KEYWORDS
    assert {len(loaded[s]) for s in loaded} == {sum(r["split"] == s for r in rows)
                                                  for s in loaded}


def test_parquet_without_split_is_one_file(db, job, data_dir, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    root = export(db, job, data_dir, tmp_path / "pq", "zip", export_format="parquet")
    assert sorted(p.name for p in root.glob("*.parquet")) == ["train.parquet"]
    assert pq.read_table(root / "train.parquet").num_rows == 60
    loaded = datasets.load_dataset("parquet", data_dir=str(root), cache_dir=str(tmp_path / "hf"))
    assert {name: len(rows) for name, rows in loaded.items()} == {"train": 60}
    assert {"manifest.csv", "manifest.jsonl", "ATTRIBUTION.md", "README.md"} <= {
        p.name for p in root.iterdir()}
