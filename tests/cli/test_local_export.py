"""`pixcrawler export` of a local crawl, with no server signed in: the local backend is started
for it (and stopped after), and the dataset is the server's export, as `crawl --out`'s is:
every format and split, one manifest."""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from pixcrawler_desktop.local.state import read_state
from tests.cli.conftest import cli_env, spawn
from tests.cli.helpers import processes_in

pytestmark = pytest.mark.slow

SPLITS = {"train", "val"}


def manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def images_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg")}


def test_export_a_local_crawl_in_every_layout(tmp_path, web, cli, monkeypatch):
    data, crawled = tmp_path / "data", tmp_path / "crawled"
    env = cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web)
    proc = spawn(["crawl", "red fox", "--max-images", "6", "--out", str(crawled),
                  "--split", "train:0.5,val:0.5", "--format", "huggingface", "--json"],
                 env, tmp_path)
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr
    report = json.loads(stdout)
    job = str(report["job"]["id"])
    assert report["dataset"]["images"] == 6

    # crawl --out: the server's export with the split and format asked for.
    rows = manifest(crawled)
    assert len(rows) == 6 and {r["file"] for r in rows} == images_of(crawled)
    assert {r["file"].split("/")[0] for r in rows} <= SPLITS
    assert {r["file"].split("/")[1] for r in rows} == {"red-fox"}
    for split in {r["file"].split("/")[0] for r in rows}:
        assert (crawled / split / "metadata.jsonl").is_file()
    assert read_state(data) is None  # the crawl's backend is stopped

    # export, nobody signed in: the local backend (PIXCRAWLER_DATA_DIR), started and stopped.
    monkeypatch.setenv("PIXCRAWLER_DATA_DIR", str(data))
    folder = tmp_path / "split"
    done = cli("--json", "export", job, "--split", "train:0.5, val:0.5", "--out", str(folder))
    assert done.code == 0, done.err
    assert "no server" not in done.err and "Stopping the local backend" in done.err
    result = done.json()
    assert (result["format"], result["images"], result["path"]) == ("folder", 6, str(folder))
    again = manifest(folder)
    assert {r["file"] for r in again} == images_of(folder) == {r["file"] for r in rows}
    assert {r["sha256"] for r in again} == {r["sha256"] for r in rows}  # same split, re-export

    # --local --data-dir, a zip of WebDataset shards: one manifest for the whole dataset.
    zipped = tmp_path / "shards.zip"
    done = cli("--json", "export", job, "--local", "--data-dir", str(data), "--zip",
               "--format", "webdataset", "--split", "train:0.5,val:0.5", "--out", str(zipped))
    assert done.code == 0, done.err
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
        assert names.count("manifest.jsonl") == 1 and names.count("manifest.csv") == 1
        shards = [n for n in names if n.endswith(".tar")]
        assert shards and {n.split("/")[0] for n in shards} <= SPLITS
        members = 0
        for name in shards:
            with archive.open(name) as fh, tarfile.open(fileobj=fh, mode="r|") as tar:
                members += sum(1 for m in tar if m.name.endswith(".jpg"))
        assert members == 6
    assert read_state(data) is None and processes_in(data) == []


def test_export_refuses_a_server_and_the_local_backend_at_once(cli, tmp_path):
    done = cli("--server", "http://127.0.0.1:9", "export", "1", "--local",
               "--out", str(tmp_path / "x"))
    assert done.code == 2 and "choose one" in done.err
