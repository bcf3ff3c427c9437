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

pytestmark = pytest.mark.slow

# Keywords that read like split names: loaders must still see them as classes.
KEYWORDS = ["red fox", "test tube", "train", "dev board"]
SPLIT = "train:0.6,val:0.2,test:0.2"
HF_SPLITS = {"train": "train", "val": "validation", "test": "test"}


def exported(live, users, tmp_path: Path, **params) -> tuple[Path, list[dict]]:
    user = users(live)
    job = create_job(user.client, KEYWORDS, ["bing"], 15)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    r = user.client.get(f"/jobs/{job['id']}/export", params=params)
    assert r.status_code == 200, r.text
    root = tmp_path / "dataset"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        archive.extractall(root)
    rows = [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) == 60
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
