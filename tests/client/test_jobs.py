"""Job calls and the server's refusals as our error classes, against the API alone (no worker:
started tasks wait in the broker, so every state here is the API's own doing)."""

from __future__ import annotations

import pytest

from pixcrawler_desktop.client import (
    ApiError,
    ForbiddenError,
    Job,
    NotFoundError,
    RateLimited,
    can_cancel,
    can_delete,
    can_retry,
    can_start,
    can_validate,
)


def test_create_list_start_cancel_retry_delete(server, connect):
    client, _ = connect(server)
    job = client.create_job("pets", ["cat", " dog ", "Cat"], ["bing", "duckduckgo"], 10,
                            respect_robots=False)
    assert isinstance(job, Job)
    assert job.status == "pending" and job.keywords == ["cat", "dog"]
    assert job.total_chunks == 4 and not job.respect_robots
    assert can_start(job) and can_cancel(job) and can_delete(job)
    assert not can_retry(job) and not can_validate(job)

    listed = client.jobs(status="pending")
    assert listed.total == 1 and [j.id for j in listed.items] == [job.id]
    assert client.jobs(status="running").total == 0
    assert client.job(job.id) == listed.items[0]
    chunks = client.chunks(job.id)
    assert [(c.keyword, c.engine, c.target) for c in chunks] == [
        ("cat", "bing", 5), ("cat", "duckduckgo", 5), ("dog", "bing", 5),
        ("dog", "duckduckgo", 5)]

    started = client.start(job.id)
    assert started.status == "running" and started.total_chunks == 4
    assert len(set(started.task_ids)) == 4
    running = client.job(job.id)
    assert running.status == "running" and not can_delete(running) and not can_start(running)
    assert client.progress(job.id).status == "running"

    with pytest.raises(ApiError) as busy:
        client.delete(job.id)
    assert busy.value.status == 400
    assert busy.value.detail == "Cannot delete job with status 'running'. Cancel it first."

    cancelled = client.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.revoked_tasks == 4
    after = client.job(job.id)
    assert after.cancelled_chunks == 4 and can_retry(after) and not can_cancel(after)

    retried = client.retry(job.id)
    assert retried.status == "running" and len(retried.task_ids) == 4
    assert retried.message == "Job retried with 4 tasks"

    client.cancel(job.id)
    assert client.delete(job.id) is None
    with pytest.raises(NotFoundError) as gone:
        client.job(job.id)
    assert gone.value.status == 404 and gone.value.detail == "Crawl job not found"
    with pytest.raises(NotFoundError):
        next(client.events(job.id))
    assert client.all_jobs() == []


def test_all_jobs_reads_every_page(server, connect):
    client, _ = connect(server)
    ids = [client.create_job(f"j{i}", ["cat"], ["bing"], 1).id for i in range(3)]
    assert client.jobs(page=2, page_size=2).items[0].id == ids[0]
    assert [j.id for j in client.all_jobs()] == ids[::-1]
    assert [j.id for j in client.all_jobs(status="pending")] == ids[::-1]


def test_validate_level_round_trips(server, connect):
    client, _ = connect(server)
    assert client.create_job("a", ["cat"], ["bing"], 1).validate_level is None
    job = client.create_job("b", ["cat"], ["bing"], 1, validate="fast")
    assert job.validate_level == "fast" and client.job(job.id).validate_level == "fast"
    with pytest.raises(ApiError) as bad:
        client.create_job("c", ["cat"], ["bing"], 1, validate="thorough")
    assert set(bad.value.field_errors) == {"validate"}


def test_someone_elses_job_is_forbidden(server, connect):
    owner, _ = connect(server)
    other, _ = connect(server)
    job = owner.create_job("mine", ["cat"], ["bing"], 1)
    def first_event(job_id: int) -> object:
        return next(other.events(job_id))

    for call in (other.job, other.start, other.cancel, other.delete, other.progress,
                 other.chunks, other.images, other.validation, first_event):
        with pytest.raises(ForbiddenError) as denied:
            call(job.id)
        assert denied.value.status == 403
        assert denied.value.detail == "Access denied to this resource"
    assert owner.job(job.id).status == "pending"


def test_validation_errors_map_to_fields(server, connect):
    client, _ = connect(server)
    with pytest.raises(ApiError) as bad:
        client.create_job("x", ["cat"], ["bing"], 0)
    assert bad.value.status == 422
    assert set(bad.value.field_errors) == {"max_images"}
    assert "greater than or equal to 1" in bad.value.field_errors["max_images"]
    assert bad.value.detail.startswith("max_images: ") and "\n" not in bad.value.detail

    with pytest.raises(ApiError) as several:
        client.create_job("", ["cat", "  "], ["altavista"], 5)
    fields = several.value.field_errors
    assert set(fields) == {"name", "keywords", "engines"}
    assert fields["engines"].startswith("unknown engine 'altavista'")  # no "Value error, "
    assert "keywords.1: " in several.value.detail
    assert client.all_jobs() == []


def test_eleventh_start_in_a_minute_is_rate_limited(server, connect):
    client, _ = connect(server)
    jobs = [client.create_job(f"r{i}", ["cat"], ["bing"], 1) for i in range(11)]
    for job in jobs[:10]:
        assert client.start(job.id).status == "running"
    with pytest.raises(RateLimited) as limited:
        client.start(jobs[10].id)
    assert limited.value.status == 429
    assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 60
    assert limited.value.detail.startswith("Rate limit exceeded")
    assert client.job(jobs[10].id).status == "pending"


def test_engines_and_health(server, connect):
    client, _ = connect(server)
    assert {e.name for e in client.engines()} >= {"bing", "duckduckgo"}
    assert all(e.available for e in client.engines())
    health = client.health()  # no worker on this stack
    assert health.database["ok"] and health.broker["ok"] and not health.workers["ok"]
    assert health.status == "degraded"


def test_validation_paths_without_images(server, connect):
    client, _ = connect(server)
    job = client.create_job("v", ["cat"], ["bing"], 1)
    assert client.validation(job.id) is None  # never validated
    with pytest.raises(NotFoundError) as empty:
        client.validate(job.id, "fast")
    assert empty.value.detail == f"No images found for job {job.id}"
    with pytest.raises(NotFoundError) as missing:
        client.validation(job.id + 10_000)
    assert missing.value.detail == "Crawl job not found"
    assert client.images(job.id).total == 0
