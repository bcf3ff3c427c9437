"""Helpers for end-to-end tests: run a job and look at what it left in the API and on disk."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import httpx

from tests.support.stack import Stack, wait_for
from worker.crawl.storage import keyword_slug

FINISHED = {"completed", "failed", "cancelled"}


def create_job(client: httpx.Client, keywords: list[str], engines: list[str], max_images: int,
               **extra) -> dict:
    r = client.post("/jobs", json={"name": "e2e", "keywords": keywords, "engines": engines,
                                   "max_images": max_images, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def start(client: httpx.Client, job_id: int) -> dict:
    r = client.post(f"/jobs/{job_id}/start")
    assert r.status_code == 200, r.text
    return r.json()


def progress(client: httpx.Client, job_id: int) -> dict:
    r = client.get(f"/jobs/{job_id}/progress")
    assert r.status_code == 200, r.text
    return r.json()


def wait_finished(client: httpx.Client, job_id: int, stack: Stack, timeout: float = 90) -> dict:
    def done():
        p = progress(client, job_id)
        return p if p["status"] in FINISHED else None

    try:
        return wait_for(done, timeout, f"job {job_id} to finish", interval=0.2)
    except AssertionError as exc:
        logs = "\n".join(stack.log(p.name[:-4]) for p in stack.logs.glob("worker-*.log"))
        raise AssertionError(f"{exc}\nchunks: {chunks(client, job_id)}\n{logs}") from None


def chunks(client: httpx.Client, job_id: int) -> list[dict]:
    return client.get(f"/jobs/{job_id}/chunks").json()


def all_images(client: httpx.Client, job_id: int) -> list[dict]:
    items, page = [], 1
    while True:
        body = client.get(f"/jobs/{job_id}/images", params={"page": page, "page_size": 500}).json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def files_on_disk(stack: Stack, job_id: int) -> set[str]:
    """Stored image files of a job, as data-dir-relative POSIX paths (temp files excluded)."""
    root = stack.data_dir / "jobs" / str(job_id)
    if not root.exists():
        return set()
    return {p.relative_to(stack.data_dir).as_posix() for p in root.rglob("*")
            if p.is_file() and ".tmp" not in p.relative_to(root).parts}


def assert_consistent(stack: Stack, job_id: int, client: httpx.Client) -> list[dict]:
    """Every image row has its file with the recorded sha256, every file has a row, and no
    sha256 appears twice in the job."""
    images = all_images(client, job_id)
    shas = [i["sha256"] for i in images]
    assert len(shas) == len(set(shas)), "an image was stored twice"
    assert {i["file_path"] for i in images} == files_on_disk(stack, job_id)
    for image in images:
        data = Path(stack.data_dir, image["file_path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == image["sha256"]
        assert len(data) == image["bytes"]
    return images


def read_events(base_url: str, token: str, job_id: int, timeout: float = 90) -> list[dict]:
    """Follow the job's server-sent events to their end; returns the progress objects."""
    events = []
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with httpx.stream("GET", f"{base_url}/api/v1/jobs/{job_id}/events", headers=headers,
                      timeout=timeout) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def drop_queued(stack: Stack, queue: str = "crawl") -> int:
    """Remove the messages waiting in the stack's broker for `queue`, as a worker that took
    them and died, or a broker restarted without persistence, would; returns how many there
    were."""
    if stack.kind == "sqlite":
        inbox = stack.data_dir / "broker" / "in"
        messages = wait_for(lambda: sorted(inbox.glob(f"*.{queue}.msg")) or None, 30,
                            f"the {queue} messages in the broker folder")
        for message in messages:
            message.unlink()
        return len(messages)
    import redis

    conn = redis.Redis.from_url(stack.env["PIXCRAWLER_BROKER_URL"])
    count = wait_for(lambda: conn.llen(queue), 30, f"the {queue} messages in Redis")
    conn.delete(queue)
    return count


def plant_leftovers(stack: Stack, job_id: int, keyword: str, engine: str,
                    chunk_id: int) -> tuple[Path, Path]:
    """What a task killed between placing files and committing their rows leaves behind."""
    job_dir = stack.data_dir / "jobs" / str(job_id)
    some = next((job_dir / keyword_slug(keyword)).iterdir())
    orphan = some.with_name(f"{engine}-9999-{'ab' * 6}.jpg")
    shutil.copyfile(some, orphan)
    part = job_dir / ".tmp" / f"chunk-{chunk_id}-killed-task" / "dl-killed.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"\xff\xd8\xff half an image")
    return orphan, part


def kill_workers(stack: Stack) -> None:
    """SIGKILL every live worker of the stack, as a crash or the OOM killer would."""
    for proc in stack.workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
