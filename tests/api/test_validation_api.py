"""The seed's validation endpoint: bodies, task ids and errors (no worker: tasks wait)."""

from __future__ import annotations

import hashlib

from sqlalchemy import insert

from worker.db.models import Chunk, Image
from worker.db.session import session_scope


def job_with_images(server, client, n: int) -> int:
    job = client.post("/jobs", json={"name": "v", "keywords": ["cat"], "engines": ["bing"],
                                     "max_images": 5}).json()
    with session_scope(server.settings()) as db:
        chunk_id = db.query(Chunk.id).filter(Chunk.job_id == job["id"]).scalar()
        db.execute(insert(Image), [
            {"job_id": job["id"], "chunk_id": chunk_id, "keyword": "cat", "engine": "bing",
             "rank": i, "source_url": f"http://example.com/{i}.jpg",
             "file_path": f"jobs/{job['id']}/cat/bing-{i}.jpg",
             "sha256": hashlib.sha256(f"{job['id']}-{i}".encode()).hexdigest(), "bytes": 1,
             "format": "jpeg", "validation_issues": [], "validation_metrics": {}}
            for i in range(n)])
    return job["id"]


def test_validate_seed_example(server, user):
    job_id = job_with_images(server, user.client, 60)
    r = user.client.post(f"/validation/job/{job_id}/", json={"level": "medium"})
    assert r.status_code == 200
    assert r.json() == {
        "job_id": job_id, "images_count": 60, "validation_level": "medium",
        "task_ids": [f"task_{job_id}_0", f"task_{job_id}_1", f"task_{job_id}_2"],
        "message": "Validation started for 60 images",
    }
    summary = user.client.get(f"/validation/job/{job_id}/").json()
    assert summary["status"] == "running" and summary["level"] == "medium"
    assert summary["images_total"] == 60 and summary["validated"] == 0
    pending = user.client.get(f"/jobs/{job_id}/images", params={"validation": "pending"})
    assert pending.json()["total"] == 60

    # Running it again starts a new run whose task ids cannot collide with the first's.
    again = user.client.post(f"/validation/job/{job_id}/", json={"level": "slow"}).json()
    assert again["task_ids"] == [f"task_{job_id}_{i}" for i in (3, 4, 5)]
    assert user.client.get(f"/validation/job/{job_id}/").json()["level"] == "slow"


def test_default_level_is_medium(server, user):
    job_id = job_with_images(server, user.client, 3)
    for body in ({}, None):
        kwargs = {"json": body} if body is not None else {}
        r = user.client.post(f"/validation/job/{job_id}/", **kwargs)
        assert r.status_code == 200 and r.json()["validation_level"] == "medium"


def test_no_images(user):
    job = user.client.post("/jobs", json={"name": "v", "keywords": ["cat"], "engines": ["bing"],
                                          "max_images": 5}).json()
    r = user.client.post(f"/validation/job/{job['id']}/", json={"level": "fast"})
    assert r.status_code == 404
    assert r.json() == {"detail": f"No images found for job {job['id']}"}
    assert user.client.get(f"/validation/job/{job['id']}/").status_code == 404


def test_bad_level_names_the_permitted_values(server, user):
    job_id = job_with_images(server, user.client, 1)
    r = user.client.post(f"/validation/job/{job_id}/", json={"level": "thorough"})
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "level"] and error["type"]
    assert all(f"'{level}'" in error["msg"] for level in ("fast", "medium", "slow"))
    assert user.client.get(f"/validation/job/{job_id}/").status_code == 404  # nothing started


def test_foreign_and_missing_jobs(server, users):
    owner, other = users(server), users(server)
    job_id = job_with_images(server, owner.client, 1)
    for method in ("post", "get"):
        denied = getattr(other.client, method)(f"/validation/job/{job_id}/")
        assert denied.status_code == 403
        assert denied.json() == {"detail": "Access denied to this resource"}
        missing = getattr(other.client, method)("/validation/job/99999999/")
        assert missing.json() == {"detail": "Crawl job not found"}


def test_job_accepts_a_validate_level(user):
    r = user.client.post("/jobs", json={"name": "v", "keywords": ["cat"], "engines": ["bing"],
                                        "max_images": 5, "validate": "slow"})
    assert r.status_code == 201 and r.json()["validate"] == "slow"
    bad = user.client.post("/jobs", json={"name": "v", "keywords": ["cat"], "engines": ["bing"],
                                          "max_images": 5, "validate": "thorough"})
    assert bad.status_code == 422
