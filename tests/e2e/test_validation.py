"""Validation through a real worker on both brokers, with results read back through the API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import insert, select

from tests.e2e.helpers import (
    all_images,
    create_job,
    drop_queued,
    kill_workers,
    start,
    wait_finished,
)
from tests.support.stack import wait_for
from worker.db.models import Image, ValidationRun
from worker.db.session import session_scope

pytestmark = pytest.mark.slow


def wait_run(client, job_id: int, level: str) -> dict:
    def done():
        s = client.get(f"/validation/job/{job_id}/").json()
        return s if s.get("level") == level and s["status"] != "running" else None

    return wait_for(done, 90, f"the {level} validation of job {job_id}", interval=0.2)


def with_comment(data: bytes) -> bytes:
    """The same JPEG with a comment segment added: other bytes, the very same pixels."""
    comment = b"re-uploaded by someone else"
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


def add_copy(stack, image: dict, name: str, transform=None, edit_bytes=None) -> None:
    """Store a copy of a crawled image (its pixels transformed, or its bytes edited) as one
    more image of its job."""
    src = Path(stack.data_dir, image["file_path"])
    rel = str(Path(image["file_path"]).with_name(name))
    if edit_bytes is not None:
        Path(stack.data_dir, rel).write_bytes(edit_bytes(src.read_bytes()))
    else:
        with PILImage.open(src) as im:
            transform(im.convert("RGB")).save(Path(stack.data_dir, rel))
    data = Path(stack.data_dir, rel).read_bytes()
    with session_scope(stack.settings()) as db:
        row = db.scalar(select(Image).where(Image.id == image["id"]))
        db.execute(insert(Image).values(
            job_id=row.job_id, chunk_id=row.chunk_id, keyword=row.keyword, engine=row.engine,
            rank=10_000 + len(name), source_url=f"{row.source_url}#{name}", file_path=rel,
            sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
            width=PILImage.open(Path(stack.data_dir, rel)).width,
            height=PILImage.open(Path(stack.data_dir, rel)).height,
            format=name.rsplit(".", 1)[1].replace("jpg", "jpeg"), validation_issues=[],
            validation_metrics={}))


def test_levels_through_the_worker(live, users, fakeweb):
    fakeweb.config.image_size = (640, 480)
    user = users(live)
    job = create_job(user.client, ["lighthouse"], ["bing"], 12, validate="fast")
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    fast = wait_run(user.client, job["id"], "fast")  # started by itself after the crawl
    assert fast["status"] == "completed" and fast["validated"] == fast["images_total"] == 12

    crawled = all_images(user.client, job["id"])
    add_copy(live, crawled[0], "same-pixels.jpg", edit_bytes=with_comment)
    add_copy(live, crawled[1], "smaller.jpg",
             lambda im: im.resize((im.width // 2, im.height // 2)))

    for level in ("medium", "slow"):
        r = user.client.post(f"/validation/job/{job['id']}/", json={"level": level})
        assert r.status_code == 200 and r.json()["images_count"] == 14
        summary = wait_run(user.client, job["id"], level)
        assert summary["status"] == "completed" and summary["validated"] == 14
        assert summary["valid"] + summary["invalid"] + summary["duplicate"] == 14
        images = {i["file_path"].rsplit("/", 1)[1]: i for i in all_images(user.client, job["id"])}
        assert all(i["validation_level"] == level and i["validation_metrics"]
                   for i in images.values())
        exact = images["same-pixels.jpg"]
        assert exact["validation_status"] == "duplicate"
        assert "exact_duplicate" in exact["validation_issues"]
        assert exact["validation_metrics"]["duplicate_of"] == crawled[0]["id"]
        near = images["smaller.jpg"]
        if level == "slow":
            assert near["validation_status"] == "duplicate"
            assert "near_duplicate" in near["validation_issues"]
            assert near["validation_metrics"]["duplicate_of"] == crawled[1]["id"]
            assert summary["issues"].get("near_duplicate", 0) >= 1
        else:
            assert "near_duplicate" not in near["validation_issues"]
    dupes = user.client.get(f"/jobs/{job['id']}/images", params={"validation": "duplicate"})
    assert {i["file_path"].rsplit("/", 1)[1] for i in dupes.json()["items"]} >= {
        "same-pixels.jpg", "smaller.jpg"}


def test_runs_under_contention_all_end(live, users, fakeweb):
    """Batches of one run finish together on several threads (SQLite) or processes
    (PostgreSQL); each counts once, and every run ends by itself."""
    user = users(live)
    jobs = [create_job(user.client, [f"contended {i}"], ["bing"], 16) for i in range(5)]
    for job in jobs:
        start(user.client, job["id"])
    for job in jobs:
        assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    for _round in range(10):  # 50 runs of 8 batches each
        for job in jobs:
            r = user.client.post(f"/validation/job/{job['id']}/", json={"level": "fast"})
            assert r.status_code == 200, r.text
            assert len(r.json()["task_ids"]) == 8
        for job in jobs:
            assert wait_run(user.client, job["id"], "fast")["status"] == "completed"
    with session_scope(live.settings()) as db:
        runs = db.execute(select(ValidationRun.status, ValidationRun.batches,
                                 ValidationRun.batches_done)
                          .where(ValidationRun.job_id.in_([j["id"] for j in jobs]))).all()
    assert len(runs) == 50
    assert all(status == "completed" and done == batches == 8
               for status, batches, done in runs), runs


def test_a_run_whose_batch_messages_were_lost_still_ends(live, users):
    """The broker loses the run's batch messages (a Redis restart, a worker killed after
    taking them): the unchecked images are sent again and the run completes."""
    user = users(live)
    job = create_job(user.client, ["lost batches"], ["bing"], 6)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    kill_workers(live)
    r = user.client.post(f"/validation/job/{job['id']}/", json={"level": "fast"})
    assert r.status_code == 200 and len(r.json()["task_ids"]) == 3
    assert drop_queued(live, "validation") == 3

    live.start_worker()
    summary = wait_run(user.client, job["id"], "fast")
    assert summary["status"] == "completed"
    assert summary["validated"] == summary["valid"] == 6
