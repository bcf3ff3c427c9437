"""A small crawl through a real worker, followed and read through our client."""

from __future__ import annotations

import hashlib

import pytest

from pixcrawler_desktop.client import can_retry, can_validate

pytestmark = pytest.mark.slow


def test_events_follow_a_crawl_to_completion(live, connect):
    client, _ = connect(live)
    job = client.create_job("foxes", ["client fox"], ["bing"], 4)
    client.start(job.id)

    events = list(client.events(job.id, timeout=30))
    assert events, "the stream sent nothing"
    values = [e.progress for e in events]
    assert values == sorted(values), f"progress went backwards: {values}"
    last = events[-1]
    assert last.finished and last.status == "completed" and last.progress == 100
    assert last.downloaded_images == 4 and all(e.job_id == job.id for e in events)

    done = client.job(job.id)
    assert done.status == "completed" and can_validate(done) and not can_retry(done)
    assert [c.status for c in client.chunks(job.id)] == ["completed"]

    page = client.images(job.id, page_size=3)
    assert page.total == 4 and len(page.items) == 3
    rest = client.images(job.id, page=2, page_size=3)
    images = page.items + rest.items
    assert len({i.id for i in images}) == 4
    assert client.images(job.id, keyword="client fox").total == 4
    assert client.images(job.id, keyword="no such keyword").total == 0
    for image in images:
        data = client.image_bytes(image.id)
        assert len(data) == image.bytes
        assert hashlib.sha256(data).hexdigest() == image.sha256

    assert list(client.events(job.id)) == [client.progress(job.id)]  # finished: one event
