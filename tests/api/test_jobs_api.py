"""The seed's job endpoints, bodies and errors, on SQLite and PostgreSQL (no worker running:
dispatched tasks wait in the broker, so every state here is the API's own doing)."""

from __future__ import annotations

import re

import pytest

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PROGRESS_KEYS = {"job_id", "status", "progress", "total_chunks", "active_chunks",
                 "completed_chunks", "failed_chunks", "downloaded_images",
                 "estimated_completion", "started_at", "updated_at"}


def new_job(client, **overrides) -> dict:
    body = {"name": "laptops", "keywords": ["laptop", "computer", "notebook"],
            "engines": ["bing", "duckduckgo"], "max_images": 100, **overrides}
    r = client.post("/jobs", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_job(user):
    job = new_job(user.client, keywords=["cat", " dog ", "Cat", "bird"])
    assert job["status"] == "pending"
    assert job["keywords"] == ["cat", "dog", "bird"]  # trimmed, repeats dropped
    assert job["total_chunks"] == 6 and job["active_chunks"] == 6
    assert job["progress"] == 0 and job["downloaded_images"] == 0
    chunks = user.client.get(f"/jobs/{job['id']}/chunks").json()
    assert [(c["keyword"], c["engine"]) for c in chunks][:2] == [("cat", "bing"),
                                                                ("cat", "duckduckgo")]
    assert {c["target"] for c in chunks} == {50}  # 100 per keyword, split across 2 engines
    assert all(c["status"] == "pending" and c["task_id"] is None for c in chunks)


@pytest.mark.parametrize(("body", "loc"), [
    ({"keywords": []}, ["body", "keywords"]),
    ({"keywords": [f"k{i}" for i in range(101)]}, ["body", "keywords"]),
    ({"keywords": ["  "]}, ["body", "keywords", 0]),
    ({"engines": []}, ["body", "engines"]),
    ({"max_images": 0}, ["body", "max_images"]),
    ({"max_images": 10001}, ["body", "max_images"]),
    ({"name": ""}, ["body", "name"]),
    ({"surprise": 1}, ["body", "surprise"]),
])
def test_create_job_rejects_bad_input(user, body, loc):
    payload = {"name": "x", "keywords": ["cat"], "engines": ["bing"], "max_images": 5, **body}
    r = user.client.post("/jobs", json=payload)
    assert r.status_code == 422
    assert any(e["loc"] == loc and e["msg"] and e["type"] for e in r.json()["detail"]), r.json()
    assert user.client.get("/jobs").json()["total"] == 0  # nothing was created


def test_unknown_engine_names_permitted_values(user):
    r = user.client.post("/jobs", json={"name": "x", "keywords": ["cat"], "engines": ["altavista"],
                                        "max_images": 5})
    assert r.status_code == 422
    msg = r.json()["detail"][0]["msg"]
    assert "altavista" in msg and "'bing'" in msg and "'duckduckgo'" in msg


def test_start_seed_example(user):
    job = new_job(user.client)
    r = user.client.post(f"/jobs/{job['id']}/start")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"job_id", "status", "task_ids", "total_chunks", "message"}
    assert body["job_id"] == job["id"] and body["status"] == "running"
    assert body["total_chunks"] == 6 and len(body["task_ids"]) == 6
    assert all(UUID4.match(t) for t in body["task_ids"])
    assert body["message"] == "Job started with 6 tasks"
    chunks = user.client.get(f"/jobs/{job['id']}/chunks").json()
    assert sorted(c["task_id"] for c in chunks) == sorted(body["task_ids"])

    again = user.client.post(f"/jobs/{job['id']}/start")
    assert again.status_code == 400
    assert again.json() == {
        "detail": "Cannot start job with status 'running'. Only pending jobs can be started."}


def test_cancel_seed_example(user):
    job = new_job(user.client)
    user.client.post(f"/jobs/{job['id']}/start")
    r = user.client.post(f"/jobs/{job['id']}/cancel")
    assert r.status_code == 200
    assert r.json() == {"job_id": job["id"], "status": "cancelled", "revoked_tasks": 6,
                        "message": "Job cancelled successfully. 6 task(s) revoked."}
    chunks = user.client.get(f"/jobs/{job['id']}/chunks").json()
    assert {c["status"] for c in chunks} == {"cancelled"}

    again = user.client.post(f"/jobs/{job['id']}/cancel")
    assert again.status_code == 400
    assert again.json() == {"detail": "Cannot cancel job with status: cancelled"}


def test_cancel_pending_job_revokes_nothing(user):
    job = new_job(user.client)
    r = user.client.post(f"/jobs/{job['id']}/cancel")
    assert r.json()["revoked_tasks"] == 0 and r.json()["status"] == "cancelled"


def test_progress_seed_fields(user):
    job = new_job(user.client)
    before = user.client.get(f"/jobs/{job['id']}/progress").json()
    assert set(before) == PROGRESS_KEYS
    assert before["status"] == "pending" and before["started_at"] is None
    user.client.post(f"/jobs/{job['id']}/start")
    p = user.client.get(f"/jobs/{job['id']}/progress").json()
    assert p["status"] == "running" and p["progress"] == 0
    assert p["total_chunks"] == 6 and p["active_chunks"] == 6
    assert p["completed_chunks"] == p["failed_chunks"] == p["downloaded_images"] == 0
    assert p["started_at"] is not None and p["estimated_completion"] is None


@pytest.mark.parametrize("action", ["start", "cancel", "progress", "retry", "chunks", "images",
                                    "events"])
def test_not_found_and_access_denied(server, users, action):
    owner, other = users(server), users(server)
    job = new_job(owner.client)
    method = "get" if action in {"progress", "chunks", "images", "events"} else "post"
    call = getattr(other.client, method)
    denied = call(f"/jobs/{job['id']}/{action}")
    assert denied.status_code == 403
    assert denied.json() == {"detail": "Access denied to this resource"}
    missing = call(f"/jobs/987654321/{action}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Crawl job not found"}


def test_get_delete_access(server, users):
    owner, other = users(server), users(server)
    job = new_job(owner.client)
    assert other.client.get(f"/jobs/{job['id']}").status_code == 403
    assert other.client.delete(f"/jobs/{job['id']}").status_code == 403
    assert owner.client.get(f"/jobs/{job['id']}").json()["id"] == job["id"]
    assert other.client.get("/jobs").json()["total"] == 0


def test_start_is_rate_limited_per_user(server, users):
    alice, bob = users(server), users(server)
    job = new_job(alice.client, keywords=["cat"], engines=["bing"])
    codes = [alice.client.post(f"/jobs/{job['id']}/start").status_code for _ in range(10)]
    assert codes == [200] + [400] * 9
    limited = alice.client.post(f"/jobs/{job['id']}/start")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "Rate limit exceeded" in limited.json()["detail"]
    # The limit is per user.
    other = new_job(bob.client, keywords=["cat"], engines=["bing"])
    assert bob.client.post(f"/jobs/{other['id']}/start").status_code == 200


def test_list_jobs_paginated_and_filtered(user):
    ids = [new_job(user.client, name=f"job {i}", keywords=["cat"], engines=["bing"])["id"]
           for i in range(5)]
    user.client.post(f"/jobs/{ids[0]}/start")
    user.client.post(f"/jobs/{ids[1]}/cancel")
    page = user.client.get("/jobs", params={"page": 1, "page_size": 2}).json()
    assert page["total"] == 5 and page["page_size"] == 2
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]
    page3 = user.client.get("/jobs", params={"page": 3, "page_size": 2}).json()
    assert [j["id"] for j in page3["items"]] == [ids[0]]
    running = user.client.get("/jobs", params={"status": "running"}).json()
    assert [j["id"] for j in running["items"]] == [ids[0]]
    bad = user.client.get("/jobs", params={"status": "sleeping"})
    assert bad.status_code == 422
    assert "'pending'" in bad.json()["detail"][0]["msg"]


def test_delete_job(user, server):
    job = new_job(user.client, keywords=["cat"], engines=["bing"])
    user.client.post(f"/jobs/{job['id']}/start")
    refused = user.client.delete(f"/jobs/{job['id']}")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Cannot delete job with status 'running'. Cancel it first."}
    job_dir = server.data_dir / "jobs" / str(job["id"])
    (job_dir / "cat").mkdir(parents=True)
    (job_dir / "cat" / "bing-0-abc.jpg").write_bytes(b"x")
    user.client.post(f"/jobs/{job['id']}/cancel")
    assert user.client.delete(f"/jobs/{job['id']}").status_code == 204
    assert not job_dir.exists()
    assert user.client.get(f"/jobs/{job['id']}").status_code == 404


def test_retry_requires_a_finished_job_with_failed_chunks(user):
    job = new_job(user.client, keywords=["cat", "dog"], engines=["bing"])
    pending = user.client.post(f"/jobs/{job['id']}/retry")
    assert pending.status_code == 400
    assert pending.json() == {
        "detail": "Cannot retry job with status 'pending'. Only finished jobs can be retried."}
    user.client.post(f"/jobs/{job['id']}/start")
    user.client.post(f"/jobs/{job['id']}/cancel")
    r = user.client.post(f"/jobs/{job['id']}/retry")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "running" and len(body["task_ids"]) == 2
    assert body["message"] == "Job retried with 2 tasks"
    chunks = user.client.get(f"/jobs/{job['id']}/chunks").json()
    assert {c["status"] for c in chunks} == {"pending"}
    assert sorted(c["task_id"] for c in chunks) == sorted(body["task_ids"])


def test_images_and_files_of_unknown_or_foreign_jobs(server, users):
    owner, other = users(server), users(server)
    job = new_job(owner.client)
    page = owner.client.get(f"/jobs/{job['id']}/images").json()
    assert page == {"items": [], "total": 0, "page": 1, "page_size": 100}
    assert other.client.get("/images/123456/file").json() == {"detail": "Image not found"}


def test_engines_and_health(anon):
    engines = anon.get("/engines").json()
    names = {e["name"]: e for e in engines}
    assert {"bing", "duckduckgo"} <= set(names)
    assert names["bing"]["available"] is True
    health = anon.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["database"]["ok"] is True and body["broker"]["ok"] is True
    assert body["workers"]["ok"] is False  # this deployment runs no worker
    assert body["status"] == "degraded"


def test_openapi_and_docs(server):
    import httpx

    spec = httpx.get(f"{server.api_url}/openapi.json").json()
    assert "/api/v1/jobs/{job_id}/start" in spec["paths"]
    for page in ("/docs", "/redoc"):
        assert httpx.get(f"{server.api_url}{page}").status_code == 200


def test_malformed_json_gets_422(user):
    r = user.client.post("/jobs", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"



def test_start_without_the_disk_space_it_needs_is_refused(user):
    """100 keywords × 10,000 images is hundreds of GB: refused before anything starts."""
    job = new_job(user.client, keywords=[f"k{i}" for i in range(100)], max_images=10_000)
    r = user.client.post(f"/jobs/{job['id']}/start")
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert re.fullmatch(r"Not enough disk space: \d+\.\d GB free in .+, this job needs about "
                        r"500\.0 GB\. Free some space, or lower max_images\.", detail), detail
    assert user.client.get(f"/jobs/{job['id']}").json()["status"] == "pending"


def test_events_have_ids_and_resume(user, server):
    """Every event has an id and the stream says how soon to reconnect; a client that comes
    back with Last-Event-ID gets the current state at once, the ids going on."""
    import httpx

    job = new_job(user.client)
    user.client.post(f"/jobs/{job['id']}/start")
    headers = {"Authorization": user.client.headers["Authorization"]}
    url = f"{server.api_url}/api/v1/jobs/{job['id']}/events"

    def first_event(extra: dict) -> list[str]:
        lines: list[str] = []
        with httpx.stream("GET", url, headers={**headers, **extra}, timeout=10) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data:"):
                    return lines
                lines.append(line)
        raise AssertionError(f"no event: {lines}")

    assert first_event({}) == ["retry: 2000", "", "id: 1", "event: progress"]
    assert first_event({"Last-Event-ID": "41"})[2:] == ["id: 42", "event: progress"]
    assert first_event({"Last-Event-ID": "not a number"})[2] == "id: 1"
