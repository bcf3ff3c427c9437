"""Faults an operator meets, produced on purpose against real processes: a Redis restarted
without persistence, workers SIGKILLed at the worst moments, cancels at random moments, a
full disk. Each job must end by itself and say the truth; no file without its row."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, require_services
from tests.e2e.helpers import (
    all_images,
    assert_consistent,
    chunks,
    create_job,
    files_on_disk,
    kill_workers,
    plant_leftovers,
    progress,
    start,
    wait_finished,
)
from tests.support.redis_server import RedisServer
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.slow


def assert_counters(stack: Stack, client: httpx.Client, job_id: int) -> None:
    """Rows = files, no sha256 twice, and the chunks' counters add up to the rows."""
    images = assert_consistent(stack, job_id, client)
    assert sum(c["downloaded"] for c in chunks(client, job_id)) == len(images)
    assert temp_leftovers(stack, job_id) == []


def temp_leftovers(stack: Stack, job_id: int) -> list[Path]:
    tmp = stack.data_dir / "jobs" / str(job_id) / ".tmp"
    return [p for p in tmp.rglob("*") if p.is_file()] if tmp.exists() else []


@pytest.fixture
def redis_stack(fakeweb, tmp_path: Path) -> Iterator[tuple[Stack, RedisServer]]:
    """PostgreSQL + a Redis of this test's own, so the test can restart it."""
    require_services("postgres")
    redis = RedisServer(tmp_path)
    redis.start()
    stack = Stack("postgres", tmp_path / "stack", fakeweb.engine_urls())
    stack.env["PIXCRAWLER_BROKER_URL"] = redis.url
    try:
        stack.start_api()
        stack.start_worker()
        yield stack, redis
    finally:
        stack.close()
        redis.stop()


def test_a_redis_restart_strands_no_job(redis_stack, users, fakeweb):
    """Redis without persistence stops mid-job and comes back empty: the queued chunks'
    messages are gone. The job completes by itself within the recovery bound."""
    stack, redis = redis_stack
    fakeweb.config.latency = 0.5
    fakeweb.config.results_per_keyword = 80
    user = users(stack)
    keywords = [f"restart {i}" for i in range(6)]
    job = create_job(user.client, keywords, ["bing", "duckduckgo"], 60)
    start(user.client, job["id"])
    wait_for(lambda: progress(user.client, job["id"])["downloaded_images"] >= 5, 60,
             "the first downloads")
    assert any(c["status"] == "pending" for c in chunks(user.client, job["id"]))

    redis.stop()
    worker_log = stack.logs / "worker-w0.log"
    wait_for(lambda: "lost" in worker_log.read_text(errors="replace").lower()
             or "Cannot connect" in worker_log.read_text(errors="replace"), 30,
             "the worker to notice Redis is gone")
    redis.start()

    final = wait_finished(user.client, job["id"], stack, timeout=120)
    assert final["status"] == "completed", chunks(user.client, job["id"])
    assert {c["status"] for c in chunks(user.client, job["id"])} == {"completed"}
    assert final["downloaded_images"] == 6 * 60
    assert_counters(stack, user.client, job["id"])


def test_a_worker_killed_after_taking_a_chunk_strands_nothing(live, users):
    """The worker takes the chunk's message, then dies before it marks the chunk running
    (here it waits for a lock the test holds). The message is gone with it (folder broker)
    or parked until Redis's visibility timeout, hours away; the chunk is sent again."""
    kill_workers(live)
    user = users(live)
    job = create_job(user.client, ["taken and dropped"], ["bing"], 10)
    start(user.client, job["id"])
    (chunk,) = chunks(user.client, job["id"])
    with held_chunk_lock(live, chunk["id"]):
        worker = live.start_worker()
        wait_for(lambda: message_taken(live), 30, "the worker to take the chunk's message")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert chunks(user.client, job["id"])[0]["status"] == "pending"

    live.start_worker()
    final = wait_finished(user.client, job["id"], live, timeout=60)
    assert final["status"] == "completed" and final["downloaded_images"] == 10
    assert_counters(live, user.client, job["id"])


@contextmanager
def held_chunk_lock(stack: Stack, chunk_id: int) -> Iterator[None]:
    """Hold the write lock (SQLite) or the chunk's row lock (PostgreSQL) until exit."""
    if stack.kind == "sqlite":
        conn = sqlite3.connect(stack.data_dir / "pixcrawler.db", timeout=30,
                               isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(stack.env["PIXCRAWLER_DATABASE_URL"])
        conn.execute("SELECT id FROM chunks WHERE id = %s FOR UPDATE", (chunk_id,))
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def message_taken(stack: Stack) -> bool:
    if stack.kind == "sqlite":
        return not list((stack.data_dir / "broker" / "in").glob("*.crawl.msg"))
    import redis

    return redis.Redis.from_url(stack.env["PIXCRAWLER_BROKER_URL"]).llen("crawl") == 0


def test_killed_then_cancelled_leaves_no_orphans(live, users, fakeweb):
    """A worker SIGKILLed mid-chunk can leave files it placed without their rows, and temp
    downloads; cancelling the job then removes them."""
    kw, answered = "kill then cancel", 10
    fakeweb.config.results_per_keyword = 100
    fakeweb.config.faults[kw] = dict.fromkeys(range(answered, 100), "hang=1")
    user = users(live)
    job = create_job(user.client, [kw], ["bing"], 40)
    start(user.client, job["id"])
    wait_for(lambda: chunks(user.client, job["id"])[0]["downloaded"] >= answered, 60,
             "the answered results to be stored")
    kill_workers(live)
    orphan, part = plant_leftovers(live, job["id"], kw, "bing",
                                   chunks(user.client, job["id"])[0]["id"])

    r = user.client.post(f"/jobs/{job['id']}/cancel")
    assert r.status_code == 200, r.text
    assert not orphan.exists() and not part.exists()
    assert_counters(live, user.client, job["id"])
    assert len(all_images(user.client, job["id"])) == answered


def test_cancel_is_final(live, users, fakeweb):
    """No file appears after the cancel response, at whatever moment the cancel comes."""
    fakeweb.config.results_per_keyword = 120
    fakeweb.config.latency = 0.02
    user = users(live)
    rng = random.Random(13)
    for round_ in range(10):
        job = create_job(user.client, [f"final {round_}"], ["bing", "duckduckgo"], 200)
        start(user.client, job["id"])
        at_least = rng.randint(0, 60)
        wait_for(lambda j=job, n=at_least: progress(user.client, j["id"])["downloaded_images"]
                 >= n, 60, f"{at_least} downloads")
        r = user.client.post(f"/jobs/{job['id']}/cancel")
        if r.status_code == 400:  # it finished first: nothing to check
            continue
        assert r.status_code == 200, r.text
        at_cancel = files_on_disk(live, job["id"])
        wait_quiet(fakeweb)
        assert files_on_disk(live, job["id"]) == at_cancel, f"round {round_}"
        assert_counters(live, user.client, job["id"])


def wait_quiet(fakeweb) -> None:
    """Until the fake web has served no image for a while: the tasks have stopped."""
    def quiet() -> bool:
        before = fakeweb.hits("/img/")
        time.sleep(0.5)
        return fakeweb.hits("/img/") == before

    wait_for(quiet, 30, "the worker to stop fetching")


@pytest.fixture
def small_disk(fakeweb, tmp_path: Path) -> Iterator[tuple[Stack, Path]]:
    """An embedded-mode deployment whose data folder is a tmpfs (2 GB until the test shrinks
    it: a job is refused at start unless its estimated size is free)."""
    stack = Stack("sqlite", tmp_path / "stack", fakeweb.engine_urls())
    stack.data_dir.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2g", "tmpfs",
                              str(stack.data_dir)], capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs here: {mounted.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    stack.env["PIXCRAWLER_DISK_START_MIN_MB"] = "1"
    stack.env["PIXCRAWLER_DISK_STOP_BELOW_MB"] = "6"
    try:
        stack.start_api()
        stack.start_worker()
        yield stack, stack.data_dir
    finally:
        stack.close()
        subprocess.run(["umount", "-l", str(stack.data_dir)], check=False)


def test_a_full_disk_fails_the_job_and_retry_completes_it(small_disk, users, fakeweb):
    stack, mount = small_disk
    fakeweb.config.image_size = (1024, 768)
    fakeweb.config.results_per_keyword = 500  # both engines read the same list
    user = users(stack)
    job = create_job(user.client, ["big one", "big two"], ["bing", "duckduckgo"], 400)
    start(user.client, job["id"])
    subprocess.run(["mount", "-o", "remount,size=20m", str(mount)], check=True)
    final = wait_finished(user.client, job["id"], stack, timeout=120)
    assert final["status"] == "failed"
    for chunk in chunks(user.client, job["id"]):
        assert chunk["status"] == "failed"
        assert chunk["last_error"].startswith("disk full: ")
        assert chunk["last_error"].endswith(f" MB free in {mount}")
    assert httpx.get(f"{stack.api_url}/api/v1/health").status_code == 200
    assert_counters(stack, user.client, job["id"])

    # Still full: a retry is refused with the reason, and nothing changes.
    r = user.client.post(f"/jobs/{job['id']}/retry")
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Not enough disk space: ")
    subprocess.run(["mount", "-o", "remount,size=2g", str(mount)], check=True)
    start_retry = user.client.post(f"/jobs/{job['id']}/retry")
    assert start_retry.status_code == 200, start_retry.text
    final = wait_finished(user.client, job["id"], stack, timeout=180)
    assert final["status"] == "completed", chunks(user.client, job["id"])
    assert final["downloaded_images"] == 800
    assert_counters(stack, user.client, job["id"])
