"""`pixcrawler export` and chunk warnings: a small crawl on a real worker, then its dataset as
a zip and as folders, written by an embedded server itself (SQLite stack) or downloaded and
unpacked here (the PostgreSQL stack runs in server mode, which refuses folder exports)."""

from __future__ import annotations

import json
import zipfile

import pytest

from tests.cli.test_server_commands import sign_in
from tests.support.engines import licence_gap


def test_export_usage_errors(cli, tmp_path):
    assert cli("export", "7").code == 2  # no --out
    bad = cli("export", "7", "--out", str(tmp_path / "d"), "--split", "train=0.8")
    assert bad.code == 2 and "is not NAME:FRACTION" in bad.err
    assert cli("export", "7", "--out", "d", "--include", "some").code == 2
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.jpg").write_bytes(b"")
    refused = cli("export", "7", "--out", str(full))
    assert refused.code == 2 and "not an empty folder" in refused.err


def files_under(folder) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_crawl_warns_then_exports_zip_and_folders(live, users, cli, tmp_path):
    user = users(live)
    engine, licence, warning = licence_gap(user.client.get("/engines").json())
    sign_in(cli, live, user)
    crawl = cli(
        "--server", live.api_url, "--json", "crawl", "export fox", "--engines", engine,
        "--max-images", "4", "--license", licence, "--out", str(tmp_path / "c"),
    )  # fmt: skip
    assert crawl.code == 0, crawl.err
    report = crawl.json()
    assert warning in report["warnings"]
    assert crawl.err.count(f"warning: {warning}") == 1  # said once, while crawling
    job_id = str(report["job"]["id"])
    assert warning in cli("jobs", "show", job_id).out

    zipped = cli("--json", "export", job_id, "--zip", "--out", str(tmp_path))
    assert zipped.code == 0, zipped.err
    result = zipped.json()
    path = tmp_path / f"crawl-export-fox-{job_id}.zip"
    assert result == {
        "job_id": int(job_id),
        "format": "zip",
        "path": str(path),
        "bytes": path.stat().st_size,
        "images": None,
        "missing": None,
    }
    names = zipfile.ZipFile(path).namelist()
    assert len([n for n in names if n.startswith("export-fox/")]) == 4
    assert "manifest.csv" in names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left"

    folder = tmp_path / "set"
    split = cli("--json", "export", job_id, "--out", str(folder), "--split", "train: 0.5, val: 0.5")
    assert split.code == 0, split.err
    written = split.json()
    assert (written["format"], written["path"], written["images"]) == ("folder", str(folder), 4)
    embedded = live.kind == "sqlite"
    assert ("downloading the zip to unpack it here" in split.err) is not embedded
    images = [f for f in files_under(folder) if f.split("/")[1:2] == ["export-fox"]]
    assert len(images) == 4 and {f.split("/")[0] for f in images} <= {"train", "val"}
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["file"] for r in rows) == images
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left"

    human = cli("export", job_id, "--out", str(tmp_path / "plain"))
    assert human.code == 0, human.err
    assert human.out.startswith(f"Exported job {job_id}: 4 images (")

    never = cli("export", job_id, "--out", str(tmp_path / "valid"), "--include", "valid")
    assert never.code == 1 and "validated" in never.err
    uneven = cli(
        "export", job_id, "--zip", "--out", str(tmp_path / "u.zip"), "--split", "train:0.5,val:0.2"
    )
    assert uneven.code == 1 and "add up to 1" in uneven.err
    assert not (tmp_path / "valid").exists() and not (tmp_path / "u.zip").exists()
    again = cli("export", job_id, "--out", str(folder))
    assert again.code == 2 and "not an empty folder" in again.err
