"""Exports of a crawled job, loaded with the libraries researchers train with: what each
split holds, and which class each image has, must be what the manifest says."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.helpers import create_job, start, wait_finished
from tests.support.stack import wait_for

pytestmark = pytest.mark.slow

# Keywords that read like split names: loaders must still see them as classes.
KEYWORDS = ["red fox", "test tube", "train", "dev board"]
SPLIT = "train:0.6,val:0.2,test:0.2"
HF_SPLITS = {"train": "train", "val": "validation", "test": "test"}


def exported(live, users, tmp_path: Path, validate: str | None = None,
             **params) -> tuple[Path, list[dict]]:
    """A crawled job (validated at `validate` if given), exported as a zip and unpacked."""
    user = users(live)
    job = create_job(user.client, KEYWORDS, ["bing"], 15)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    if validate:
        r = user.client.post(f"/validation/job/{job['id']}/", json={"level": validate})
        assert r.status_code == 200, r.text

        def validated():
            run = user.client.get(f"/validation/job/{job['id']}/").json()
            return run if run["status"] != "running" else None

        assert wait_for(validated, 90, "validation")["status"] == "completed"
    r = user.client.get(f"/jobs/{job['id']}/export", params=params)
    assert r.status_code == 200, r.text
    root = tmp_path / "dataset"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        archive.extractall(root)
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 60
    if validate:
        assert {r["validation_level"] for r in rows} == {validate}
    return root, rows


def class_of(row: dict) -> str:
    return row["file"].split("/")[-2]


def test_imagefolder_with_splits_loads_in_datasets(live, users, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    root, rows = exported(live, users, tmp_path, split=SPLIT)
    loaded = datasets.load_dataset("imagefolder", data_dir=str(root),
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert set(loaded) == set(HF_SPLITS.values())
    for split, name in HF_SPLITS.items():
        want = [r for r in rows if r["split"] == split]
        got = loaded[name]
        assert len(got) == len(want), split
        names = got.features["label"].names
        assert set(names) <= {class_of(r) for r in rows}
        assert Counter(names[label] for label in got["label"]) == Counter(map(class_of, want))
    assert {"test+tube", "train+", "dev+board", "red-fox"} <= set(
        loaded["train"].features["label"].names)
    assert loaded["train"][0]["image"].size == (320, 240)


def test_imagefolder_follows_torchvisions_rules(live, users, tmp_path):
    """torchvision's ImageFolder (not installable here without a GPU build): classes are the
    sorted subfolders of the root it is given, samples the image files in each."""
    root, rows = exported(live, users, tmp_path, split=SPLIT)
    for split in HF_SPLITS:
        split_root = root / split
        classes = sorted(p.name for p in split_root.iterdir() if p.is_dir())
        samples = Counter(c for c in classes for f in (split_root / c).iterdir() if f.is_file())
        assert samples == Counter(class_of(r) for r in rows if r["split"] == split)
        assert not any(p.is_file() for p in split_root.iterdir())

    plain, rows = exported(live, users, tmp_path / "plain")
    classes = sorted(p.name for p in plain.iterdir() if p.is_dir())
    assert Counter(c for c in classes for _ in (plain / c).iterdir()) == Counter(
        map(class_of, rows))
    assert os.path.commonpath([r["file"] for r in rows]) == ""


def test_huggingface_format_loads_with_its_metadata_and_card(live, users, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets
    import yaml

    root, rows = exported(live, users, tmp_path, split=SPLIT, format="huggingface")
    # Through the card (as the hub does): labels are a ClassLabel named by keyword.
    carded = datasets.load_dataset(str(root), cache_dir=str(tmp_path / "hf-card"))
    assert carded["train"].features["label"].names == KEYWORDS
    assert {n: len(d) for n, d in carded.items()} == {
        s: sum(r["split"] == s for r in rows) for s in HF_SPLITS}
    assert isinstance(carded["test"].features["image"], datasets.Image)
    # Without the card: the same rows, the label a plain index into the keywords.
    loaded = datasets.load_dataset("imagefolder", data_dir=str(root),
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert set(loaded) == set(HF_SPLITS.values())
    for split, name in HF_SPLITS.items():
        want = sorted((r["sha256"], KEYWORDS.index(r["keyword"]), r["source_url"])
                      for r in rows if r["split"] == split)
        got = loaded[name]
        assert {"image", "label", "keyword", "source_url", "sha256", "validation_status",
                "license"} <= set(got.features)
        assert sorted(zip(got["sha256"], got["label"], got["source_url"], strict=True)) == want
    assert loaded["train"][0]["image"].size == (320, 240)

    text = (root / "README.md").read_text()
    assert text.startswith("---\n")
    card = yaml.safe_load(text.split("---\n")[1])
    assert card["configs"][0]["data_files"] == [
        {"split": s, "path": f"{s}/**"} for s in HF_SPLITS]
    label = next(f for f in card["dataset_info"]["features"] if f["name"] == "label")
    assert label["dtype"]["class_label"]["names"] == {str(n): k for n, k in enumerate(KEYWORDS)}
    counts = {s["name"]: s["num_examples"] for s in card["dataset_info"]["splits"]}
    assert counts == {s: sum(r["split"] == s for r in rows) for s in HF_SPLITS}
    assert "# e2e" in text  # the README's own text follows the front matter

    plain, rows = exported(live, users, tmp_path / "plain", format="huggingface")
    lines = (plain / "metadata.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["file_name"] for line in lines) == sorted(
        r["file"] for r in rows)
    assert len(datasets.load_dataset("imagefolder", data_dir=str(plain),
                                     cache_dir=str(tmp_path / "hf-cache-2"))["train"]) == 60


def test_webdataset_format_reads_back(live, users, tmp_path):
    import webdataset as wds

    root, rows = exported(live, users, tmp_path, validate="medium", split=SPLIT,
                          format="webdataset", shard_mb=1)
    for split in HF_SPLITS:
        shards = sorted(str(p) for p in (root / split).glob("*.tar"))
        assert shards
        samples = list(wds.WebDataset(shards, shardshuffle=False).decode("pil"))
        want = {r["sha256"]: r for r in rows if r["split"] == split}
        assert sorted(s["json"]["sha256"] for s in samples) == sorted(want)
        for sample in samples:
            row = want[sample["json"]["sha256"]]
            assert sample["cls"] == KEYWORDS.index(row["keyword"])
            assert sample["jpg"].size == (row["width"], row["height"])
            assert sample["json"]["validation_status"] == row["validation_status"]


def test_parquet_format_loads_in_datasets_and_pyarrow(live, users, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets
    import pyarrow.parquet as pq

    root, rows = exported(live, users, tmp_path, validate="medium", split=SPLIT,
                          format="parquet")
    loaded = datasets.load_dataset("parquet", data_dir=str(root),
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert set(loaded) == set(HF_SPLITS.values())
    for split, name in HF_SPLITS.items():
        want = sorted((r["sha256"], KEYWORDS.index(r["keyword"])) for r in rows
                      if r["split"] == split)
        got = loaded[name]
        assert got.features["label"].names == KEYWORDS
        assert sorted(zip(got["sha256"], got["label"], strict=True)) == want
        assert pq.read_table(root / f"{split}.parquet").num_rows == len(want)
    assert loaded["train"][0]["image"].size == (320, 240)
