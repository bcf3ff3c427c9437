"""An engine's search quota never holds a worker: its chunks park until their booked slot
while the other engine's chunks run, on both brokers; parked chunks are cancelled at once
and survive a killed worker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from tests.conftest import BACKENDS, deploy, ready
from tests.e2e.helpers import (
    assert_consistent,
    chunks,
    create_job,
    kill_workers,
    progress,
    start,
    wait_finished,
)
from tests.fakeweb import FakeWeb
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.slow

SLOW_RATE = "1/4 seconds"  # bing: one query per 4 s, so each further bing chunk parks
KEYWORDS = ["quota owl", "quota heron", "quota crane", "quota stork"]


@pytest.fixture(scope="module", params=BACKENDS)
def quota_stack(request, fakeweb: FakeWeb, tmp_path_factory) -> Iterator[Stack]:
    yield from deploy(request.param, fakeweb, tmp_path_factory, worker=True, name="quota",
                      env={"PIXCRAWLER_ENGINE_BING_SEARCH_RATE": SLOW_RATE})


@pytest.fixture
def quota(quota_stack: Stack, fakeweb: FakeWeb) -> Stack:
    return ready(quota_stack, fakeweb)


def when(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def test_the_quota_waits_without_a_worker_and_the_job_ends_exact(quota, users):
    user = users(quota)
    engines = user.client.get("/engines").json()
    rates = {e["name"]: e["search_rate"] for e in engines}
    assert rates["bing"] == SLOW_RATE and rates["duckduckgo"] == "6000/minute"

    job = create_job(user.client, KEYWORDS, ["bing", "duckduckgo"], 5)
    start(user.client, job["id"])
    timeline: list[list[dict]] = []

    def duckduckgo_done() -> list[dict] | None:
        now = chunks(user.client, job["id"])
        timeline.append(now)
        ddg = [c for c in now if c["engine"] == "duckduckgo"]
        return now if all(c["status"] == "completed" for c in ddg) else None

    at_done = wait_for(duckduckgo_done, 60, "every duckduckgo chunk to complete", interval=0.1)
    bing = [c for c in at_done if c["engine"] == "bing"]
    waiting = [c for c in bing if c["waiting_for"] == "bing search quota"]
    # Four bing queries need 12 s at one per 4 s; duckduckgo's chunks were not behind them.
    assert sum(c["status"] == "completed" for c in bing) < 4, bing
    assert waiting, bing
    assert all(c["status"] == "pending" for c in waiting)  # parked: no worker holds them
    assert all(when(c["waiting_until"]) > time.time() - 1 for c in waiting)

    def finished() -> bool:
        timeline.append(chunks(user.client, job["id"]))
        return progress(user.client, job["id"])["status"] not in ("pending", "running")

    wait_for(finished, 90, "the job to end", interval=0.1)
    # A chunk seen holding a worker (running) while its slot was more than the park
    # threshold (3 s) away gave it back: a later snapshot shows it pending for that slot.
    for i, snapshot in enumerate(timeline):
        for c in snapshot:
            until = when(c["waiting_until"])
            if c["status"] == "running" and until and until - when(c["updated_at"]) > 3.5:
                assert any(later["id"] == c["id"] and later["status"] == "pending"
                           and when(later["waiting_until"]) == until
                           for snap in timeline[i + 1:] for later in snap), c

    # Each parked chunk runs at its slot and goes on from its own state: nothing twice.
    final = wait_finished(user.client, job["id"], quota, timeout=10)
    assert final["status"] == "completed"
    done = chunks(user.client, job["id"])
    assert all(c["downloaded"] == c["target"] and c["waiting_until"] is None
               for c in done), done
    images = assert_consistent(quota, job["id"], user.client)
    assert len(images) == final["downloaded_images"] == 20  # 5 per keyword, shared
    assert len({(i["engine"], i["keyword"], i["rank"]) for i in images}) == 20


def bing_job_with_parked_chunks(user) -> tuple[dict, list[dict]]:
    """A started bing-only job, once two of its chunks wait for their quota; and its chunks
    then."""
    job = create_job(user.client, KEYWORDS, ["bing"], 5)
    start(user.client, job["id"])

    def parked() -> list[dict] | None:
        now = chunks(user.client, job["id"])
        return now if sum(c["waiting_for"] is not None for c in now) >= 2 else None

    return job, wait_for(parked, 60, "two bing chunks to wait for their quota", interval=0.1)


def first_waiting_event(stack: Stack, user, job_id: int) -> tuple[list[str], dict]:
    """The kinds of events up to the first `waiting` one, and that event's data."""
    kinds, kind = [], None
    headers = {"Authorization": user.client.headers["Authorization"]}
    with httpx.stream("GET", f"{stack.api_url}/api/v1/jobs/{job_id}/events",
                      headers=headers, timeout=30) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
                kinds.append(kind)
            elif line.startswith("data: ") and kind == "waiting":
                return kinds, json.loads(line[6:])
    raise AssertionError(f"the stream ended without a waiting event: {kinds}")


def test_cancelling_waiting_chunks_settles_at_once(quota, users):
    user = users(quota)
    job, before = bing_job_with_parked_chunks(user)
    last_slot = max(when(c["waiting_until"]) or 0 for c in before)
    # The events stream says it too, after the progress object (whose fields stay the seed's).
    kinds, waiting = first_waiting_event(quota, user, job["id"])
    assert kinds[0] == "progress"
    assert {c["engine"] for c in waiting["chunks"]} == {"bing"} and len(waiting["chunks"]) >= 2
    assert all(when(c["waiting_until"]) > time.time() - 2 for c in waiting["chunks"])
    r = user.client.post(f"/jobs/{job['id']}/cancel")
    assert r.status_code == 200, r.text
    assert progress(user.client, job["id"])["status"] == "cancelled"
    after = chunks(user.client, job["id"])
    assert all(c["status"] in ("cancelled", "completed") for c in after), after
    assert all(c["waiting_for"] is None for c in after)
    # The parked tasks fire at their slots and find the chunk cancelled: nothing more lands.
    count = len(assert_consistent(quota, job["id"], user.client))
    wait_for(lambda: time.time() > last_slot + 1, last_slot - time.time() + 10,
             "the parked slots to pass", interval=0.2)
    assert len(assert_consistent(quota, job["id"], user.client)) == count
    assert {c["status"] for c in chunks(user.client, job["id"])} <= {"cancelled", "completed"}


def test_a_worker_killed_while_chunks_wait_for_quota(quota, users):
    """The parked chunks' timers die with the worker; the next worker's recovery sends them
    again once their slot has passed, and the job ends with every image once."""
    user = users(quota)
    job, _ = bing_job_with_parked_chunks(user)
    kill_workers(quota)
    quota.start_worker()
    final = wait_finished(user.client, job["id"], quota, timeout=120)
    assert final["status"] == "completed"
    images = assert_consistent(quota, job["id"], user.client)
    assert len(images) == final["downloaded_images"] == 20
    assert all(c["downloaded"] == 5 for c in chunks(user.client, job["id"]))
