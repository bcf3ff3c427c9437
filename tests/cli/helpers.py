"""Checks on a dataset folder the CLI wrote, and on processes it may have left behind."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import psutil

from pixcrawler_desktop.local.state import BackendState, read_state
from tests.fakeweb.server import FakeWeb
from tests.support.stack import wait_for

# What an export writes beside the images.
DOCUMENTS = {"manifest.csv", "manifest.jsonl", "README.md", "ATTRIBUTION.md"}


def check_dataset(folder: Path, keyword_folders: set[str]) -> list[dict]:
    """One folder per keyword (the server's export), every file listed once in both manifests
    with its sha256, and no temporary file left; returns the manifest rows."""
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    with (folder / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [int(r["image_id"]) for r in table] == [r["image_id"] for r in rows]
    assert {p.name for p in folder.iterdir() if p.is_dir()} == keyword_folders
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and p.relative_to(folder).as_posix() not in DOCUMENTS}
    assert files == {r["file"] for r in rows}, "files and manifest rows differ"
    assert len(rows) == len({r["sha256"] for r in rows})
    for row in rows:
        data = (folder / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert len(data) == row["bytes"]
    return rows


def served_by(web: FakeWeb, row: dict) -> bool:
    """The file's bytes are exactly what the fake web served at the row's source URL."""
    name, ext = Path(urlparse(row["source_url"]).path).name.rsplit(".", 1)
    return hashlib.sha256(web.image_bytes(name, ext)).hexdigest() == row["sha256"]


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def processes_in(folder: Path) -> list[psutil.Process]:
    """Live processes whose working folder is `folder` (the backend runs its API and worker
    inside its data folder)."""
    found = []
    for proc in psutil.process_iter(["cwd"]):
        cwd = proc.info.get("cwd")
        if cwd and Path(cwd) == folder and alive(proc.pid):
            found.append(proc)
    return found


def backend_of(proc: subprocess.Popen, data: Path) -> BackendState:
    """The backend's state file, as soon as the CLI has started it."""
    def started():
        if proc.poll() is not None:
            raise AssertionError(f"the CLI exited early: {proc.communicate()}")
        return read_state(data)

    return wait_for(started, 90, "the local backend to start", interval=0.1)


def assert_nothing_left(state: BackendState, data: Path) -> None:
    assert not any(map(alive, state.pids)), \
        "a backend process outlived the CLI"
    assert processes_in(data) == []
    assert read_state(data) is None
