"""Dataset export through the real API (SQLite/embedded and PostgreSQL/server stacks): the zip's
layout and manifests against the database, splits, include=valid, errors, folder export, and a
5,000-image export that streams in flat memory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import zipfile

import psutil
import pytest
from sqlalchemy import select, update

from tests.export.helpers import add_images, blob, chunk_ids, image_values
from worker.db.models import Image, ValidationRun
from worker.db.session import session_scope

DOCS = {"manifest.csv", "manifest.jsonl", "ATTRIBUTION.md", "README.md"}
CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def new_job(
    client, name="Pets", keywords=("cat", "dog", "Cat!"), engines=("bing", "duckduckgo")
) -> int:
    r = client.post(
        "/jobs",
        json={"name": name, "keywords": list(keywords), "engines": list(engines), "max_images": 50},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def fill(server, job_id: int, specs: list[tuple[str, str, int, dict]], size: int = 200) -> None:
    """Images (keyword, engine, rank, extra columns), rows in one insert, files on disk."""
    with session_scope(server.settings()) as db:
        chunks = chunk_ids(db, job_id)
        rows = []
        for keyword, engine, rank, extra in specs:
            data = blob((job_id, keyword, engine, rank), size)
            chunk = chunks[keyword, engine]
            values = image_values(job_id, chunk, keyword, rank, data, engine=engine, **extra)
            rows.append((values, data))
        add_images(db, server.data_dir, job_id, rows)


def db_images(server, job_id: int) -> dict[int, Image]:
    with session_scope(server.settings()) as db:
        return {i.id: i for i in db.scalars(select(Image).where(Image.job_id == job_id))}


def download(client, job_id: int, **params) -> zipfile.ZipFile:
    r = client.get(f"/jobs/{job_id}/export", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.testzip() is None
    return archive


def manifest(archive: zipfile.ZipFile) -> tuple[list[dict], list[dict]]:
    text = archive.read("manifest.csv").decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    lines = [json.loads(line) for line in archive.read("manifest.jsonl").decode().splitlines()]
    return rows, lines


def expected_row(image: Image, file: str, split: str | None) -> dict:
    return {
        "image_id": image.id,
        "keyword": image.keyword,
        "split": split,
        "file": file,
        "engine": image.engine,
        "query": image.query,
        "rank": image.rank,
        "source_url": image.source_url,
        "page_url": image.page_url,
        "title": image.title,
        "license": image.license,
        "license_url": image.license_url,
        "creator": image.creator,
        "attribution": image.attribution,
        "sha256": image.sha256,
        "bytes": image.bytes,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "downloaded_at": image.downloaded_at.isoformat().replace("+00:00", "Z"),
        "validation_status": image.validation_status.value,
        "validation_level": image.validation_level,
        "validation_issues": image.validation_issues,
    }


def as_csv(row: dict) -> dict:
    def cell(v):
        return "" if v is None else ";".join(v) if isinstance(v, list) else str(v)

    return {k: cell(v) for k, v in row.items()}


def split_of(sha256: str, splits: list[tuple[str, float]]) -> str:
    """The contract's rule, written out independently of the server's code."""
    u, cumulative = int(sha256[:16], 16) / 2**64, 0.0
    for name, fraction in splits:
        cumulative += fraction
        if cumulative > u:
            return name
    return splits[-1][0]


def test_zip_layout_and_manifests_match_the_database(server, user):
    job_id = new_job(user.client, keywords=["cat", "dog", "Cat!", "../con"])
    fill(
        server,
        job_id,
        [
            ("../con", "bing", 4, {}),
            (
                "cat",
                "bing",
                2,
                {
                    "license": "CC BY 4.0",
                    "license_url": CC_BY,
                    "creator": "Ann",
                    "attribution": "Photo: Ann, CC BY 4.0",
                    "width": 800,
                },
            ),
            ("cat", "bing", 1, {"title": "=SUM(A1)\nline two", "page_url": None}),
            (
                "cat",
                "duckduckgo",
                1,
                {
                    "validation_status": "invalid",
                    "validation_level": "medium",
                    "validation_issues": ["grayscale", "too_dark"],
                },
            ),
            ("dog", "bing", 3, {"format": "png"}),
            ("Cat!", "bing", 1, {}),
            ("dog", "duckduckgo", 7, {}),  # its file will be missing
        ],
    )
    images = db_images(server, job_id)
    gone = next(i for i in images.values() if i.rank == 7)
    (server.data_dir / gone.file_path).unlink()

    r = user.client.get(f"/jobs/{job_id}/export")
    assert r.headers["content-disposition"] == f'attachment; filename="Pets-{job_id}.zip"'
    archive = download(user.client, job_id)
    names = archive.namelist()
    images_in_zip = [n for n in names if n not in DOCS]
    assert names[-4:] == ["manifest.csv", "manifest.jsonl", "ATTRIBUTION.md", "README.md"]
    assert {n.split("/")[0] for n in images_in_zip} == {"cat", "dog", "Cat-2", "con-"}
    assert all(n.count("/") == 1 and ".." not in n for n in images_in_zip)
    info = {i.filename: i for i in archive.infolist()}
    assert all(info[n].compress_type == zipfile.ZIP_STORED for n in images_in_zip)
    assert all(info[n].compress_type == zipfile.ZIP_DEFLATED for n in DOCS)

    rows, lines = manifest(archive)
    expected = []
    for row in lines:
        image = images[row["image_id"]]
        expected.append(expected_row(image, row["file"], None))
        assert hashlib.sha256(archive.read(row["file"])).hexdigest() == image.sha256
        ext = "png" if image.format == "png" else "jpg"
        assert row["file"].split("/")[1] == (
            f"{image.engine}-{image.rank:04d}-{image.sha256[:12]}.{ext}"
        )
    assert lines == expected
    assert rows == [as_csv(e) for e in expected]
    assert [(r["keyword"], r["engine"], r["rank"]) for r in lines] == [
        ("cat", "bing", 1),
        ("cat", "bing", 2),
        ("cat", "duckduckgo", 1),
        ("dog", "bing", 3),
        ("Cat!", "bing", 1),
        ("../con", "bing", 4),
    ]  # keyword, engine, rank
    assert sorted(images_in_zip) == sorted(r["file"] for r in lines)
    assert gone.id not in {r["image_id"] for r in lines}

    attribution = archive.read("ATTRIBUTION.md").decode()
    assert "## CC BY 4.0" in attribution and "by Ann" in attribution
    assert f"Licence: [CC BY 4.0]({CC_BY})" in attribution
    assert "Attribution: Photo: Ann, CC BY 4.0" in attribution
    assert "## Licence unknown — check the source page before use" in attribution
    readme = archive.read("README.md").decode()
    assert "# Pets" in readme and "- Keywords: cat, dog, Cat!, ../con" in readme
    assert "- Engines: bing, duckduckgo" in readme and "include=all" in readme
    assert "| cat | `cat` | 3 |" in readme and "| Cat! | `Cat-2` | 1 |" in readme
    assert f"- image {gone.id} (dog): `{gone.file_path}`: No such file or directory" in readme


def test_split_is_deterministic_complete_and_stable(server, user):
    job_id = new_job(user.client, keywords=["cat", "dog"], engines=["bing"])
    fill(server, job_id, [(k, "bing", n, {}) for k in ("cat", "dog") for n in range(60)])
    spec = "train:0.8,val:0.1,test:0.1"
    splits = [("train", 0.8), ("val", 0.1), ("test", 0.1)]
    first = download(user.client, job_id, split=spec)
    _, rows = manifest(first)
    assert len(rows) == 120
    for row in rows:
        want = split_of(row["sha256"], splits)
        assert row["split"] == want
        assert row["file"].startswith(f"{want}/{row['keyword']}/")
    assert {r["split"] for r in rows} == {"train", "val", "test"}
    placed = {r["image_id"]: r["file"] for r in rows}
    readme = first.read("README.md").decode()
    counts = {s: sum(r["split"] == s and r["keyword"] == "cat" for r in rows) for s, _ in splits}
    assert (
        f"| cat | `cat` | {counts['train']} | {counts['val']} | {counts['test']} | 60 |" in readme
    )
    assert "How the split was made" in readme

    again = download(user.client, job_id, split=spec)
    assert {r["image_id"]: r["file"] for r in manifest(again)[1]} == placed

    fill(server, job_id, [("cat", "bing", n, {}) for n in range(60, 90)])
    later = {
        r["image_id"]: r["file"] for r in manifest(download(user.client, job_id, split=spec))[1]
    }
    assert len(later) == 150 and {i: later[i] for i in placed} == placed


def test_include_valid(server, user):
    job_id = new_job(user.client, keywords=["cat"], engines=["bing"])
    fill(server, job_id, [("cat", "bing", n, {}) for n in range(6)])
    r = user.client.get(f"/jobs/{job_id}/export", params={"include": "valid"})
    assert r.status_code == 400
    assert r.json() == {
        "detail": f"Job {job_id} has not been validated; validate it first "
        "or export with include=all"
    }
    with session_scope(server.settings()) as db:
        run = ValidationRun(
            job_id=job_id,
            level="medium",
            status="completed",
            images_total=6,
            batches=1,
            task_offset=0,
        )
        db.add(run)
        db.flush()
        db.execute(
            update(Image)
            .where(Image.job_id == job_id)
            .values(
                validation_status="invalid",
                validation_level="medium",
                validation_issues=["too_small"],
            )
        )
        db.execute(
            update(Image)
            .where(Image.job_id == job_id, Image.rank.in_([1, 4]))
            .values(validation_status="valid", validation_issues=[])
        )
    archive = download(user.client, job_id, include="valid")
    _, rows = manifest(archive)
    assert sorted(r["rank"] for r in rows) == [1, 4]
    assert {r["validation_status"] for r in rows} == {"valid"}
    readme = archive.read("README.md").decode()
    assert "(include=valid)" in readme and "- Validation: level medium, completed" in readme
    assert len(manifest(download(user.client, job_id))[1]) == 6  # all still means all


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"include": "some"}, "include must be 'all', 'valid' or 'reviewed', got 'some'"),
        (
            {"split": "train"},
            "split must be a comma list of name:fraction like "
            "train:0.8,val:0.1,test:0.1; got 'train'",
        ),
        ({"split": "train:0.8,val:0.1"}, "split fractions must add up to 1, they add up to 0.9"),
        ({"split": "train:0.5,train:0.5"}, "split name 'train' is given twice"),
        ({"split": "a/b:1"}, "split name 'a/b' must be 1-32 letters, digits, '_' or '-'"),
        ({"split": "a:0,b:1"}, "split 'a' needs a fraction above 0, got 0"),
        ({"format": "tfrecord"},
         "format must be one of imagefolder, huggingface, webdataset, parquet, got 'tfrecord'"),
        ({"shard_mb": 10}, "shard_mb applies only to format=webdataset"),
        ({"format": "webdataset", "shard_mb": 0}, "shard_mb must be between 1 and 100000, got 0"),
    ],
)
def test_bad_options_are_422_with_one_line(user, params, detail):
    job_id = new_job(user.client)
    r = user.client.get(f"/jobs/{job_id}/export", params=params)
    assert r.status_code == 422
    assert r.json() == {"detail": detail}


def test_formats_say_which_this_server_writes(user):
    r = user.client.get("/export/formats")
    assert r.status_code == 200
    # The test environment has pyarrow (the `parquet` extra); the frozen app's does not
    # (tests/frozen checks what it says then).
    assert r.json() == [{"name": name, "available": True, "detail": None}
                        for name in ("imagefolder", "huggingface", "webdataset", "parquet")]


def test_missing_and_foreign_jobs(server, users, tmp_path):
    owner, other = users(server), users(server)
    job_id = new_job(owner.client)
    calls = {
        "GET": lambda c, j: c.get(f"/jobs/{j}/export"),
        "POST": lambda c, j: c.post(f"/jobs/{j}/export", json={"path": str(tmp_path)}),
    }
    for method, call in calls.items():
        missing, denied = call(owner.client, 987654321), call(other.client, job_id)
        if method == "POST" and server.settings().mode == "server":
            # Refused for every job alike, before any is looked up.
            assert missing.status_code == denied.status_code == 403
            assert "embedded mode" in missing.json()["detail"]
            continue
        assert missing.status_code == 404 and missing.json() == {"detail": "Crawl job not found"}
        assert denied.status_code == 403
        assert denied.json() == {"detail": "Access denied to this resource"}


def test_a_dropped_download_releases_its_files(server, user):
    """A client that goes away mid-download must not leave the export holding files open: the
    generator is closed, which closes the image file, the spool and the session at once."""
    job_id = new_job(user.client, keywords=["cat"], engines=["bing"])
    fill(server, job_id, [("cat", "bing", n, {}) for n in range(400)], size=64 * 1024)
    api = psutil.Process(server.api.pid)
    jobs = str(server.data_dir / "jobs")

    def holding() -> list[str]:
        return [f.path for f in api.open_files() if f.path.startswith(jobs)]

    with user.client.stream("GET", f"/jobs/{job_id}/export") as r:
        assert r.status_code == 200
        next(r.iter_raw(64 * 1024))
    # Until the server notices, the export may still be between two files (none open for an
    # instant); so wait for half a second without any, rather than one look.
    deadline, quiet = time.monotonic() + 10, 0
    while quiet < 20 and time.monotonic() < deadline:
        quiet = 0 if holding() else quiet + 1
        time.sleep(0.025)
    assert quiet >= 20, f"still open 10 s after the client left: {holding()}"
    assert len(manifest(download(user.client, job_id))[1]) == 400  # and it still exports


def test_download_name_of_a_non_ascii_job(user):
    job_id = new_job(user.client, name="Été 日本")
    r = user.client.get(f"/jobs/{job_id}/export")
    assert r.headers["content-disposition"] == (
        f'attachment; filename="Ete-{job_id}.zip"; '
        f"filename*=UTF-8''%C3%89t%C3%A9-%E6%97%A5%E6%9C%AC-{job_id}.zip"
    )
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.namelist() == sorted(
        DOCS, key=["manifest.csv", "manifest.jsonl", "ATTRIBUTION.md", "README.md"].index
    )
    assert archive.read("manifest.csv").decode().startswith("image_id,keyword,split,file,")


@pytest.fixture
def embedded(server):
    if server.settings().mode != "embedded":
        pytest.skip("folder export is for embedded-mode servers")
    return server


@pytest.fixture
def server_mode(server):
    if server.settings().mode != "server":
        pytest.skip("this checks a server-mode deployment")
    return server


def test_folder_export(embedded, users, tmp_path):
    user = users(embedded)
    job_id = new_job(user.client, keywords=["cat", "dog"], engines=["bing"])
    fill(embedded, job_id, [(k, "bing", n, {}) for k in ("cat", "dog") for n in range(5)])
    images = db_images(embedded, job_id)
    (embedded.data_dir / next(iter(images.values())).file_path).unlink()
    dest = tmp_path / "datasets" / "pets"
    body = {"path": str(dest), "include": "all", "split": "train:0.5,test:0.5"}
    r = user.client.post(f"/jobs/{job_id}/export", json=body)
    assert r.status_code == 200, r.text
    files = {p.relative_to(dest).as_posix(): p for p in dest.rglob("*") if p.is_file()}
    assert r.json() == {
        "path": str(dest),
        "images": 9,
        "missing": 1,
        "bytes": sum(p.stat().st_size for p in files.values()),
    }
    archive = download(user.client, job_id, split="train:0.5,test:0.5")
    assert set(files) == set(archive.namelist())
    for name, path in files.items():
        if name not in ("README.md",):  # only the export time differs
            assert path.read_bytes() == archive.read(name), name
    assert os.listdir(dest.parent) == ["pets"]  # the staging folder was renamed, not left

    again = user.client.post(f"/jobs/{job_id}/export", json=body)
    assert again.status_code == 409
    assert again.json() == {"detail": f"Folder {dest} is not empty"}
    relative = user.client.post(f"/jobs/{job_id}/export", json={**body, "path": "pets"})
    assert relative.status_code == 422
    assert relative.json() == {"detail": "path must be an absolute folder path, got 'pets'"}
    bad = user.client.post(
        f"/jobs/{job_id}/export", json={"path": str(tmp_path / "other"), "split": "a:2"}
    )
    assert bad.status_code == 422 and "add up to 1" in bad.json()["detail"]
    assert not (tmp_path / "other").exists()


def test_folder_export_needs_embedded_mode(server_mode, users, tmp_path):
    user = users(server_mode)
    job_id = new_job(user.client)
    r = user.client.post(f"/jobs/{job_id}/export", json={"path": str(tmp_path / "x")})
    assert r.status_code == 403
    assert r.json() == {
        "detail": "Export to a folder is only available on this computer's own "
        "server (embedded mode); download GET /api/v1/jobs/{id}/export "
        "instead"
    }
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_5000_images_stream_in_flat_memory(server, user, tmp_path):
    """The API's resident memory barely moves while an 80 MB archive is read slowly: a server
    that built the zip, or read all rows or files, before sending would grow by the archive."""
    size, count = 16 * 1024, 5000
    warm = new_job(user.client, keywords=["warm"], engines=["bing"])
    fill(server, warm, [("warm", "bing", n, {}) for n in range(50)])
    job_id = new_job(user.client, keywords=[f"k{i}" for i in range(10)], engines=["bing"])
    with session_scope(server.settings()) as db:
        chunks = chunk_ids(db, job_id)
        rows = []
        for n in range(count):
            data = os.urandom(size)
            keyword = f"k{n % 10}"
            rows.append((image_values(job_id, chunks[keyword, "bing"], keyword, n, data), data))
        add_images(db, server.data_dir, job_id, rows)
    del rows

    api = psutil.Process(server.api.pid)
    for _ in range(2):  # first use of the export code paths, pools and caches
        download(user.client, warm, split="train:0.9,test:0.1")
    base = peak = api.memory_info().rss
    received = 0
    out = tmp_path / "big.zip"
    started = time.monotonic()
    with (
        out.open("wb") as fh,
        user.client.stream(
            "GET", f"/jobs/{job_id}/export", params={"split": "train:0.9,test:0.1"}
        ) as r,
    ):
        assert r.status_code == 200
        for i, piece in enumerate(r.iter_raw(64 * 1024)):
            fh.write(piece)
            received += len(piece)
            if i % 8 == 0:
                peak = max(peak, api.memory_info().rss)
                time.sleep(0.01)  # a slow reader: at most ~50 MB/s
    elapsed = time.monotonic() - started
    assert received > count * size
    growth = (peak - base) / 2**20
    assert growth < 25, f"API memory grew {growth:.0f} MiB while streaming {received >> 20} MiB"
    archive = zipfile.ZipFile(out)
    names = archive.namelist()
    assert len(names) == count + len(DOCS)
    assert sum(1 for line in archive.open("manifest.jsonl")) == count
    print(f"{received / 2**20:.0f} MiB in {elapsed:.1f}s, API RSS +{growth:.1f} MiB")


def test_duplicate_groups_never_straddle_splits(server, user):
    """Each duplicate (exact or near) validation found goes where its kept image goes, at
    every split ratio, even with include=all; other images follow their own hash."""
    job_id = new_job(user.client, keywords=["cat"], engines=["bing"])
    fill(server, job_id, [("cat", "bing", n, {}) for n in range(40)])
    keepers = sorted(db_images(server, job_id).values(), key=lambda i: i.rank)
    fill(server, job_id, [
        ("cat", "bing", 100 + n, {"validation_status": "duplicate",
                                  "validation_issues": ["near_duplicate" if n % 2 else
                                                        "exact_duplicate"],
                                  "validation_metrics": {"duplicate_of": keepers[n].id}})
        for n in range(40)])
    images = db_images(server, job_id)
    keeper_of = {i.id: i.validation_metrics["duplicate_of"] for i in images.values()
                 if i.validation_status == "duplicate"}
    moved = 0
    for spec in ("train:0.5,test:0.5", "train:0.8,val:0.1,test:0.1", "a:0.3,b:0.3,c:0.4"):
        splits = [(name, float(f)) for name, f in (p.split(":") for p in spec.split(","))]
        rows = {r["image_id"]: r for r in manifest(download(user.client, job_id, split=spec))[1]}
        assert len(rows) == 80
        for dup, keeper in keeper_of.items():
            assert rows[dup]["split"] == rows[keeper]["split"]
            assert rows[dup]["file"].startswith(f"{rows[keeper]['split']}/cat/")
            moved += split_of(images[dup].sha256, splits) != rows[dup]["split"]
        for keeper in keeper_of.values():
            assert rows[keeper]["split"] == split_of(images[keeper].sha256, splits)
    assert moved > 10  # the rule mattered: on their own hashes these would have straddled


def test_readme_counts_near_duplicate_pairs_across_splits(server, user):
    """Measured with the job's own perceptual hashes: 0 once validation grouped the pairs,
    the true count when it did not (brute force here, independently of the server)."""
    import random

    rng = random.Random(5)
    job_id = new_job(user.client, keywords=["cat"], engines=["bing"])
    hashes = [rng.getrandbits(64) for _ in range(30)]
    fill(server, job_id, [("cat", "bing", n, {"phash": f"{h:016x}"})
                          for n, h in enumerate(hashes)])
    keepers = sorted(db_images(server, job_id).values(), key=lambda i: i.rank)
    near = [h ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for h in hashes]
    fill(server, job_id, [
        ("cat", "bing", 100 + n, {"phash": f"{h:016x}", "validation_status": "duplicate",
                                  "validation_issues": ["near_duplicate"],
                                  "validation_metrics": {"duplicate_of": keepers[n].id}})
        for n, h in enumerate(near)])
    spec, splits = "train:0.5,test:0.5", [("train", 0.5), ("test", 0.5)]
    readme = download(user.client, job_id, split=spec).read("README.md").decode()
    assert "Near-duplicate pairs across splits: 0 (" in readme

    with session_scope(server.settings()) as db:  # as if validation had missed them
        db.execute(update(Image).where(Image.job_id == job_id)
                   .values(validation_status="pending", validation_metrics={}))
    images = list(db_images(server, job_id).values())
    place = [(split_of(i.sha256, splits), int(i.phash, 16)) for i in images]
    want = sum(1 for a in range(len(place)) for b in range(a + 1, len(place))
               if place[a][0] != place[b][0] and (place[a][1] ^ place[b][1]).bit_count() <= 10)
    assert want > 0
    readme = download(user.client, job_id, split=spec).read("README.md").decode()
    assert f"Near-duplicate pairs across splits: {want} (" in readme

    bare = new_job(user.client, name="bare", keywords=["dog"], engines=["bing"])
    fill(server, bare, [("dog", "bing", n, {}) for n in range(4)])
    readme = download(user.client, bare, split=spec).read("README.md").decode()
    assert "Near-duplicate pairs across splits: not measured" in readme
