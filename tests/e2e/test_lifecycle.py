"""The whole job lifecycle through a real worker: SQLite + filesystem broker, and
PostgreSQL + Redis. Nothing of ours is replaced; the web is the loopback fake web."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.helpers import (
    assert_consistent,
    chunks,
    create_job,
    drop_queued,
    files_on_disk,
    kill_workers,
    plant_leftovers,
    progress,
    read_events,
    start,
    wait_finished,
)
from tests.support.stack import wait_for

pytestmark = pytest.mark.slow


def test_create_start_follow_complete(live, users, fakeweb):
    fakeweb.config.duplicate_every = 5  # some results repeat an earlier image's bytes
    user = users(live)
    job = create_job(user.client, ["red fox", "blue whale"], ["bing", "duckduckgo"], 12)
    started = start(user.client, job["id"])
    assert started["total_chunks"] == 4

    token = user.client.headers["Authorization"].split()[1]
    events = read_events(live.api_url, token, job["id"])
    assert events, "the events stream sent nothing"
    values = [e["progress"] for e in events]
    assert values == sorted(values), f"progress went backwards: {values}"
    assert events[-1]["status"] == "completed" and events[-1]["progress"] == 100

    final = progress(user.client, job["id"])
    assert final["status"] == "completed" and final["progress"] == 100
    assert final["completed_chunks"] == 4 and final["active_chunks"] == 0
    assert final["downloaded_images"] == 24
    for chunk in chunks(user.client, job["id"]):
        assert chunk["status"] == "completed" and chunk["downloaded"] == chunk["target"] == 6
        assert chunk["started_at"] and chunk["finished_at"]

    images = assert_consistent(live, job["id"], user.client)
    assert len(images) == 24
    assert {i["keyword"] for i in images} == {"red fox", "blue whale"}
    assert all(i["width"] == 320 and i["height"] == 240 and i["format"] == "jpeg"
               for i in images)
    assert any(c["duplicates_skipped"] for c in chunks(user.client, job["id"]))

    one = images[0]
    served = user.client.get(f"/images/{one['id']}/file")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert len(served.content) == one["bytes"]


def test_health_sees_the_worker(live):
    def healthy():
        body = httpx.get(f"{live.api_url}/api/v1/health").json()
        return body if body["status"] == "ok" else None

    body = wait_for(healthy, 15, "/health to report the worker")
    assert body["workers"]["count"] >= 1 and body["database"]["ok"] and body["broker"]["ok"]


def test_cancel_while_running(live, users, fakeweb):
    fakeweb.config.latency = 0.25
    fakeweb.config.results_per_keyword = 400
    user = users(live)
    job = create_job(user.client, ["slow snail"], ["bing", "duckduckgo"], 400)
    start(user.client, job["id"])
    wait_for(lambda: progress(user.client, job["id"])["downloaded_images"] >= 3, 60,
             "the first downloads")

    cancelled_at = time.time()
    r = user.client.post(f"/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert progress(user.client, job["id"])["status"] == "cancelled"
    assert {c["status"] for c in chunks(user.client, job["id"])} == {"cancelled"}

    # The tasks stop by themselves; wait until nothing has been fetched for a while.
    def quiet() -> bool:
        before = fakeweb.hits("/img/")
        time.sleep(0.8)
        return fakeweb.hits("/img/") == before

    wait_for(quiet, 15, "the worker to stop fetching")
    files = files_on_disk(live, job["id"])
    stored_until = max((live.data_dir / f).stat().st_mtime for f in files)
    assert stored_until - cancelled_at < 2.0, "files kept appearing after the cancel"
    images = assert_consistent(live, job["id"], user.client)
    assert 3 <= len(images) < 400  # what was downloaded stays
    assert progress(user.client, job["id"])["status"] == "cancelled"


def test_worker_killed_mid_chunk(live, users, fakeweb):
    kw, answered = "crash test", 20
    fakeweb.config.results_per_keyword = 200
    # Only the first `answered` results send their image; the others send headers and a few
    # bytes, then hang. Both chunks share the result list and need 40 images each, so neither
    # can finish before the kill, however fast or slow the machine is.
    fakeweb.config.faults[kw] = dict.fromkeys(range(answered, 200), "hang=1")
    user = users(live)
    job = create_job(user.client, [kw], ["bing", "duckduckgo"], 80)
    start(user.client, job["id"])

    def mid_chunk() -> list[dict] | None:
        # Every chunk claimed by the worker and done with the answered results (each stored
        # once in the job: by one chunk, a duplicate for the other), downloads still hanging.
        now = chunks(user.client, job["id"])
        done = all(c["status"] == "running" and c["downloaded"] + c["duplicates_skipped"]
                   + c["failed_downloads"] >= answered for c in now)
        return now if done else None

    wait_for(mid_chunk, 120, "both chunks to be running with only hanging downloads left")
    kill_workers(live)
    at_kill = chunks(user.client, job["id"])
    assert all(c["status"] == "running" and c["downloaded"] < c["target"] for c in at_kill), \
        at_kill
    assert 0 < sum(c["downloaded"] for c in at_kill) <= answered
    mid = progress(user.client, job["id"])
    assert mid["status"] == "running" and mid["downloaded_images"] < 80

    # What a kill between placing files and committing their rows leaves: the resumed chunk
    # removes it before it goes on.
    leftovers = [plant_leftovers(live, job["id"], kw, c["engine"], c["id"]) for c in at_kill]

    fakeweb.config.faults.clear()  # the recovered chunks search again and get whole images
    live.start_worker()
    final = wait_finished(user.client, job["id"], live, timeout=180)
    assert not any(path.exists() for pair in leftovers for path in pair)
    assert final["status"] == "completed"
    assert final["downloaded_images"] == 80
    images = assert_consistent(live, job["id"], user.client)
    assert len(images) == 80
    ranks = {(c["engine"], c["rank"]) for c in images}
    assert len(ranks) == 80


def test_chunks_whose_message_was_lost_are_sent_again(live, users, fakeweb):
    """A worker killed after taking a chunk's message but before marking the chunk running
    leaves it pending, with its message gone from the queue (the filesystem broker forgets a
    taken message; Redis keeps it aside until its visibility timeout, hours away). A restarted
    Redis loses its queue the same way. The next worker sends such chunks again."""
    kill_workers(live)
    user = users(live)
    job = create_job(user.client, ["taken then lost"], ["bing", "duckduckgo"], 20)
    start(user.client, job["id"])
    assert drop_queued(live) == 2  # what taking them, or a broker restart, does
    assert {c["status"] for c in chunks(user.client, job["id"])} == {"pending"}

    live.start_worker()
    final = wait_finished(user.client, job["id"], live, timeout=120)
    assert final["status"] == "completed"
    assert final["downloaded_images"] == 20
    assert len(assert_consistent(live, job["id"], user.client)) == 20


def test_fake_web_faults(live, users, fakeweb):
    kw = "faulty"
    fakeweb.config.results_per_keyword = 12
    fakeweb.config.faults[kw] = {
        0: "status429=1&retry_after=1",
        1: "status500=2",
        2: "truncate=1",
        3: "html=1",
        4: "redirect=2",
        5: "wrongtype=1",
        6: "dead=1",
        7: "cut=1",
    }
    user = users(live)
    job = create_job(user.client, [kw], ["bing"], 12)
    start(user.client, job["id"])
    final = wait_finished(user.client, job["id"], live)
    assert final["status"] == "completed"

    images = assert_consistent(live, job["id"], user.client)
    ranks = {i["rank"] for i in images}
    assert {0, 1, 4, 5} <= ranks  # waited for Retry-After, retried the 500s, followed, sniffed
    assert not {2, 3, 6, 7} & ranks  # truncated, HTML, dead host, dropped: never stored
    assert len(images) == 8
    name = fakeweb.result_name(kw, 0)
    assert fakeweb.hits(f"/img/{name}.jpg") == 2
    assert fakeweb.hits(f"/img/{fakeweb.result_name(kw, 1)}.jpg") == 3
    (chunk,) = chunks(user.client, job["id"])
    assert chunk["status"] == "completed" and chunk["failed_downloads"] == 4
    assert chunk["last_error"]
