"""run_chunk end to end over loopback HTTP: real engines, downloader and storage; an in-memory
sink stands in for the database task glue."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeweb.server import FakeWeb, FakeWebConfig
from tests.support.redis_server import RedisServer
from worker.crawl.chunk import run_chunk
from worker.crawl.downloader import Downloader, DownloadOptions
from worker.crawl.engines import make_engine
from worker.crawl.search_limit import FileSearchLimiter, RedisSearchLimiter, SearchLimiter
from worker.crawl.storage import JobStorage, keyword_slug
from worker.crawl.types import ChunkOutcome, ServiceDown, StoredImage


class MemorySink:
    """ChunkSink with the database's semantics: one image per sha256 per job."""

    def __init__(self, recorded: dict[int, str] | None = None, cancel_after: int | None = None):
        self.recorded = dict(recorded or {})
        self.cancel_after = cancel_after
        self.images: list[StoredImage] = []
        self.by_sha: dict[str, str] = {}
        self.failures: list[tuple[str, str]] = []
        self.cancel_requested = False
        self.cancel_seen = False  # is_cancelled() has answered True
        self.records_after_cancel_seen = 0
        self.cancel_polls = 0
        self.duplicates = 0  # found by the runner itself
        self.filtered = 0  # results the runner's filters removed
        self.waits: list[float] = []  # quota waits noted for users
        self.elsewhere: set[str] = set()  # URLs the job stored from its other chunks
        self.asked_elsewhere: list[str] = []
        self._lock = threading.Lock()

    def note_wait(self, until: float) -> None:
        self.waits.append(until)

    def already_recorded(self) -> dict[int, str]:
        return dict(self.recorded)

    def stored_elsewhere(self, urls):
        self.asked_elsewhere.extend(urls)
        return self.elsewhere & set(urls)

    def is_cancelled(self) -> bool:
        with self._lock:
            self.cancel_polls += 1
            if self.cancel_requested:
                self.cancel_seen = True
            return self.cancel_requested

    def record_batch(self, images, failures, duplicates: int, place,
                     filtered: int = 0) -> list[str | None] | None:
        found: list[str | None] = []
        new = []
        with self._lock:
            if self.cancel_requested:  # the database refuses a cancelled chunk's batch
                return None
            for image in images:
                if self.cancel_seen:
                    self.records_after_cancel_seen += 1
                existing = self.by_sha.get(image.fetched.sha256)
                if existing is None:
                    self.by_sha[image.fetched.sha256] = image.file_path
                    self.images.append(image)
                    new.append(image)
                found.append(existing)
            place(new)
            if self.cancel_after is not None and len(self.images) >= self.cancel_after:
                self.cancel_requested = True
            self.failures.extend(failures)
            self.duplicates += duplicates
            self.filtered += filtered
        return found


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    with FakeWeb(config=FakeWebConfig()) as server:
        yield server


def chunk(
    web: FakeWeb,
    data_dir: Path,
    keyword: str,
    target: int,
    sink: MemorySink,
    *,
    engine: str = "bing",
    limiter: SearchLimiter | None = None,
    outage_limit: float = 300.0,
    park_after: float | None = None,
    booked_at: float | None = None,
    search_state: dict | None = None,
    **options: object,
) -> ChunkOutcome:
    storage = JobStorage(data_dir, 1)
    opts = {"allow_private": True, "backoff_base": 0.01, **options}

    async def go() -> ChunkOutcome:
        async with Downloader(DownloadOptions(**opts)) as downloader:  # type: ignore[arg-type]
            return await run_chunk(
                engine=make_engine(engine, web.base_url),
                keyword=keyword,
                target=target,
                downloader=downloader,
                storage=storage,
                sink=sink,
                limiter=limiter,
                outage_limit=outage_limit,
                cancel_poll=0.05,
                park_after=park_after,
                booked_at=booked_at,
                search_state=search_state,
            )

    return asyncio.run(go())


def files_of(data_dir: Path, keyword: str) -> list[Path]:
    folder = data_dir / "jobs" / "1" / keyword_slug(keyword)
    return sorted(folder.iterdir()) if folder.exists() else []


def temp_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "jobs" / "1" / ".tmp").iterdir())


def counts(outcome: ChunkOutcome) -> ChunkOutcome:
    """The outcome without where its search stands (results seen, cursor): its counts."""
    return dataclasses.replace(outcome, results=0, search=None, search_end=None)


def assert_disk_matches_sink(data_dir: Path, keyword: str, sink: MemorySink) -> None:
    """Every recorded image is on disk under its path with its bytes, and nothing else is."""
    on_disk = {p.relative_to(data_dir).as_posix() for p in files_of(data_dir, keyword)}
    assert on_disk == {image.file_path for image in sink.images}
    for image in sink.images:
        body = (data_dir / image.file_path).read_bytes()
        assert hashlib.sha256(body).hexdigest() == image.fetched.sha256
    assert temp_files(data_dir) == []


@pytest.mark.parametrize("engine", ["bing", "duckduckgo"])
def test_reaches_target(web: FakeWeb, tmp_path: Path, engine: str) -> None:
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "red panda", 12, sink, engine=engine)

    assert counts(outcome) == ChunkOutcome(downloaded=12)
    assert len(sink.images) == 12
    assert_disk_matches_sink(tmp_path, "red panda", sink)
    for image in sink.images:
        assert image.keyword == "red panda" and image.engine == engine
        assert image.candidate.url == web.result_image_url("red panda", image.rank)
        name = f"{engine}-{image.rank}-{image.fetched.sha256[:12]}.jpg"
        assert image.file_path == f"jobs/1/{keyword_slug('red panda')}/{name}"
    # never far more downloads than needed: the window is the target plus a small margin
    assert web.hits("/img/") <= 12 + 2


def test_pages_through_results(web: FakeWeb, tmp_path: Path) -> None:
    web.config.results_per_keyword = 100
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "owl", 80, sink)  # Bing pages hold 35 results
    assert outcome.downloaded == 80
    assert max(image.rank for image in sink.images) >= 70
    assert_disk_matches_sink(tmp_path, "owl", sink)


def test_resume_skips_recorded_ranks(web: FakeWeb, tmp_path: Path) -> None:
    recorded = {rank: web.result_image_url("fox", rank) for rank in (0, 1, 2, 5)}
    sink = MemorySink(recorded=recorded)
    outcome = chunk(web, tmp_path, "fox", 10, sink)

    assert outcome.downloaded == 6  # 4 already there count towards the 10
    assert not {image.rank for image in sink.images} & set(recorded)
    for rank in recorded:
        assert web.hits(f"/img/{web.result_name('fox', rank)}.jpg") == 0
    assert_disk_matches_sink(tmp_path, "fox", sink)


def test_already_complete_chunk_does_nothing(web: FakeWeb, tmp_path: Path) -> None:
    sink = MemorySink(recorded={rank: f"http://x/{rank}" for rank in range(5)})
    assert counts(chunk(web, tmp_path, "done", 5, sink)) == ChunkOutcome()
    assert web.hits() == 0


def test_duplicates_are_recorded_once(web: FakeWeb, tmp_path: Path) -> None:
    web.config.duplicate_every = 2  # results 2, 4, 6... repeat the bytes of 1, 3, 5...
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "twins", 10, sink)

    assert outcome.downloaded == 10
    assert outcome.duplicates >= 1
    assert len(sink.by_sha) == 10
    assert_disk_matches_sink(tmp_path, "twins", sink)


def test_images_the_job_stored_from_another_engine_are_not_fetched_again(
        web: FakeWeb, tmp_path: Path) -> None:
    """The keyword's other engine stored results 0-5 already: they count as duplicates
    without a download, and the chunk reaches its count with the next results."""
    sink = MemorySink()
    sink.elsewhere = {web.result_image_url("otter", rank) for rank in range(6)}
    outcome = chunk(web, tmp_path, "otter", 10, sink)

    assert outcome.downloaded == 10 and outcome.duplicates == 6
    assert {image.rank for image in sink.images} == set(range(6, 16))
    for rank in range(6):
        assert web.hits(f"/img/{web.result_name('otter', rank)}.jpg") == 0
    assert set(sink.asked_elsewhere) >= sink.elsewhere
    assert_disk_matches_sink(tmp_path, "otter", sink)


def test_failed_downloads_are_reported_and_replaced(web: FakeWeb, tmp_path: Path) -> None:
    # The good images answer slowly, so the three failures are all in before the target is met
    # (otherwise a failure still in flight at that moment is cancelled, not counted).
    faults = {i: "latency=0.5" for i in range(12)}
    faults.update({1: "status404=1", 3: "html=1", 4: "cut=1"})
    web.config.faults["mixed"] = faults
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "mixed", 8, sink, max_retries=0)

    assert outcome.downloaded == 8 and outcome.error is None
    reasons = {f.url: f.message for f in sink.failures}
    assert outcome.failed == len(sink.failures) == 3
    assert reasons[web.result_image_url("mixed", 1)] == "HTTP 404"
    assert reasons[web.result_image_url("mixed", 3)] == "not an image (HTML page)"
    assert reasons[web.result_image_url("mixed", 4)].startswith("truncated")
    # and the breakdown's machine-readable reason of each
    assert {f.url: f.reason for f in sink.failures} == {
        web.result_image_url("mixed", 1): "http", web.result_image_url("mixed", 3): "not_image",
        web.result_image_url("mixed", 4): "network"}
    assert outcome.failed_by == {"http": 1, "not_image": 1, "network": 1}
    assert not {1, 3, 4} & {image.rank for image in sink.images}
    assert_disk_matches_sink(tmp_path, "mixed", sink)


def test_all_downloads_failed(web: FakeWeb, tmp_path: Path) -> None:
    web.config.results_per_keyword = 4
    web.config.faults["dead"] = {i: "status404=1" for i in range(4)}
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "dead", 10, sink)

    assert outcome.downloaded == 0 and outcome.failed == 4
    assert outcome.error == "all 4 downloads failed; last: HTTP 404"
    assert files_of(tmp_path, "dead") == []


def test_results_running_out_is_not_an_error(web: FakeWeb, tmp_path: Path) -> None:
    web.config.results_per_keyword = 5
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "rare", 20, sink)
    assert counts(outcome) == ChunkOutcome(downloaded=5)
    assert_disk_matches_sink(tmp_path, "rare", sink)


@pytest.mark.parametrize("engine", ["bing", "duckduckgo"])
def test_zero_results_is_an_error(web: FakeWeb, tmp_path: Path, engine: str) -> None:
    web.config.keyword_results["nothing at all"] = 0
    outcome = chunk(web, tmp_path, "nothing at all", 5, MemorySink(), engine=engine)
    assert outcome.error == f"{engine}: no results for 'nothing at all'"
    assert outcome.downloaded == 0


def test_engine_error_is_the_chunk_error(web: FakeWeb, tmp_path: Path) -> None:
    web.config.blocked.add("bing")
    outcome = chunk(web, tmp_path, "cat", 5, MemorySink())
    assert outcome.error is not None and outcome.error.startswith("bing: ")
    assert outcome.downloaded == 0


@pytest.mark.timeout(20)
def test_cancel_stops_quickly_and_places_nothing_more(web: FakeWeb, tmp_path: Path) -> None:
    # Results 0 and 1 arrive; everything else hangs, so the chunk can only return if the
    # cancellation really cancels in-flight downloads (their timeouts are 30 s and 15 s).
    web.config.faults["slow"] = {i: "hang=1" for i in range(2, 60)}
    sink = MemorySink(cancel_after=2)
    # Enough slots per host that hung downloads cannot hold up results 0 and 1.
    outcome = chunk(web, tmp_path, "slow", 40, sink, per_host=64)

    assert outcome.cancelled and outcome.error is None
    assert outcome.downloaded == 2
    assert sink.cancel_seen and sink.records_after_cancel_seen == 0
    assert sink.failures == []  # cancelled downloads are not failures
    assert_disk_matches_sink(tmp_path, "slow", sink)


def test_cancel_while_downloads_keep_arriving(web: FakeWeb, tmp_path: Path) -> None:
    # Downloads finish one by one (rank i after 0.1*i s); cancellation comes after the 3rd.
    web.config.faults["stream"] = {i: f"latency={0.1 * i:.1f}" for i in range(1, 60)}
    sink = MemorySink(cancel_after=3)
    outcome = chunk(web, tmp_path, "stream", 40, sink, per_host=64)

    assert outcome.cancelled and sink.cancel_seen
    # One image arrives every 0.1 s and cancellation is polled every 0.05 s: at most the one
    # in hand when the poll answered may still be placed (and is then recorded, not lost).
    assert 3 <= outcome.downloaded <= 5
    assert_disk_matches_sink(tmp_path, "stream", sink)


def test_cancelled_before_start(web: FakeWeb, tmp_path: Path) -> None:
    web.config.latency = 0.5
    sink = MemorySink()
    sink.cancel_requested = True
    outcome = chunk(web, tmp_path, "never", 10, sink)
    assert outcome.cancelled and outcome.downloaded == 0
    assert sink.images == [] and files_of(tmp_path, "never") == []
    assert temp_files(tmp_path) == []


def test_limiter_is_asked_before_every_search(web: FakeWeb, tmp_path: Path) -> None:
    web.config.results_per_keyword = 100
    limiter = FileSearchLimiter("100/minute", tmp_path / "limits")
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "owl", 60, sink, limiter=limiter)
    assert outcome.downloaded == 60
    searches = web.hits("/images/search") + web.hits("/images/async")
    assert searches >= 2
    # each search call took one slot of the engine's window
    stamps = json.loads((tmp_path / "limits" / "bing.json").read_text())
    assert len(stamps) == searches


def test_a_chunk_without_quota_parks_and_goes_on_where_it_stood(web: FakeWeb,
                                                                tmp_path: Path) -> None:
    """One query a minute: the first page comes at once, the second is booked a minute on.
    Once its downloads are recorded the chunk parks with that slot and its search state; run
    again with both, it takes the next page (no query repeated), and the two runs together
    store the target once."""
    web.config.results_per_keyword = 100
    limiter = FileSearchLimiter("1/minute", tmp_path / "limits")
    sink = MemorySink()
    first = chunk(web, tmp_path, "owl", 50, sink, limiter=limiter, park_after=5)
    assert first.parked is not None and first.error is None
    assert 50 < first.parked.until - time.time() <= 60
    assert first.parked.search["pages"] == 1 and first.parked.search["next_rank"] == 35
    assert len(sink.waits) == 1 and abs(sink.waits[0] - first.parked.until) < 0.5
    assert first.downloaded == len(sink.images) == 35
    assert web.hits("/images/async") == 0
    assert temp_files(tmp_path) == []

    # The slot has come (as the re-sent task would run at it): the same chunk goes on.
    resumed = MemorySink(recorded={i.rank: i.candidate.url for i in sink.images})
    second = chunk(web, tmp_path, "owl", 50, resumed, limiter=limiter, park_after=5,
                   booked_at=time.time(),
                   search_state=first.parked.search)
    assert second.parked is None and second.error is None
    assert second.downloaded == 15
    assert web.hits("/images/search") == 1 and web.hits("/images/async") == 1
    # The booked slot was used, not booked again: the file holds the two bookings only.
    assert len(json.loads((tmp_path / "limits" / "bing.json").read_text())) == 2


def test_a_short_wait_is_slept_not_parked(web: FakeWeb, tmp_path: Path) -> None:
    web.config.results_per_keyword = 100
    limiter = FileSearchLimiter("1/second", tmp_path / "limits")
    outcome = chunk(web, tmp_path, "owl", 50, MemorySink(), limiter=limiter, park_after=5)
    assert outcome.parked is None and outcome.downloaded == 50


def test_slow_hosts_cost_the_deadline_not_minutes(tmp_path: Path) -> None:
    """Two of 22 image hosts send a byte every half second (never stalled, never done). Each
    image has one deadline across its retries, and a host that timed out twice is skipped, so
    the chunk ends within twice the deadline, not after 4 tries × 30 s per slow image."""
    deadline = 4.0
    with FakeWeb(config=FakeWebConfig(results_per_keyword=66), image_hosts=22) as web:
        slow = [i for i in range(66) if i % 22 in (0, 1)]  # on 127.0.0.1 and 127.0.0.2
        web.config.faults["slowloris"] = dict.fromkeys(slow, "drip=0.5")
        sink = MemorySink()
        began = time.monotonic()
        outcome = chunk(web, tmp_path, "slowloris", 66, sink, deadline=deadline)
        took = time.monotonic() - began
    assert took < 2 * deadline, f"the chunk took {took:.1f} s"
    assert outcome.downloaded == 60 and outcome.failed == 6
    assert sorted(outcome.warnings) == [
        f"127.0.0.{n}: timed out 2 times; its other images were skipped" for n in (1, 2)]
    assert_disk_matches_sink(tmp_path, "slowloris", sink)


def test_a_full_disk_stops_the_chunk_as_failed(web: FakeWeb, tmp_path: Path) -> None:
    """Below the free-space floor the chunk stops at once and says why; what it recorded
    stays, and nothing is left without its record."""
    web.config.results_per_keyword = 200
    web.config.latency = 0.05
    sink = MemorySink()

    async def go() -> ChunkOutcome:
        storage = JobStorage(tmp_path, 1)
        async with Downloader(DownloadOptions(allow_private=True)) as downloader:
            return await run_chunk(
                engine=make_engine("bing", web.base_url), keyword="full", target=200,
                downloader=downloader, storage=storage, sink=sink, limiter=None,
                min_free_bytes=10**18, cancel_poll=0.05)

    outcome = asyncio.run(go())
    assert outcome.fault is not None and outcome.fault == outcome.error
    assert outcome.fault.startswith("disk full: ") and outcome.fault.endswith(
        f" MB free in {tmp_path.resolve()}")
    assert outcome.downloaded < 200
    assert_disk_matches_sink(tmp_path, "full", sink)


def test_a_redis_outage_is_a_pause_then_a_named_failure(web: FakeWeb, tmp_path: Path) -> None:
    """The search limit lives in Redis on a lab server. Redis coming back within the outage
    limit costs a pause; Redis staying away ends the chunk failed, naming it."""
    redis = RedisServer(tmp_path)
    limiter = RedisSearchLimiter("600/minute", redis.url)
    sink = MemorySink()
    threading.Timer(1.0, redis.start).start()  # down when the chunk starts, up a second later
    try:
        outcome = chunk(web, tmp_path, "patient", 10, sink, limiter=limiter, outage_limit=30)
        assert outcome.error is None and outcome.downloaded == 10
    finally:
        redis.stop()
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "impatient", 10, sink, limiter=limiter, outage_limit=1.5)
    assert outcome.downloaded == 0
    assert outcome.fault is not None and outcome.fault.startswith(
        "Redis (search rate limit) unreachable for 2 s (")


class FlakyDatabaseSink(MemorySink):
    """A database that does not answer the first `outages` batches."""

    def __init__(self, outages: int) -> None:
        super().__init__()
        self.outages = outages

    def record_batch(self, images, failures, duplicates: int, place,
                     filtered: int = 0) -> list[str | None] | None:
        if self.outages > 0:
            self.outages -= 1
            raise ServiceDown("database", "connection refused")
        return super().record_batch(images, failures, duplicates, place, filtered)


def test_a_database_outage_is_waited_out_and_nothing_is_lost(web: FakeWeb,
                                                             tmp_path: Path) -> None:
    sink = FlakyDatabaseSink(outages=2)
    outcome = chunk(web, tmp_path, "outage", 20, sink)
    assert outcome.error is None and outcome.downloaded == 20 and sink.outages == 0
    assert_disk_matches_sink(tmp_path, "outage", sink)

    sink = FlakyDatabaseSink(outages=10**6)
    outcome = chunk(web, tmp_path, "outage forever", 20, sink, outage_limit=1)
    assert outcome.fault == "database unreachable for 1 s (connection refused)"
    assert outcome.downloaded == 0
    assert_disk_matches_sink(tmp_path, "outage forever", sink)


def test_a_short_chunk_accounts_for_every_missing_image(web: FakeWeb, tmp_path: Path) -> None:
    """The engine has 30 results for a target of 50: every result is stored, a duplicate,
    filtered or failed (by reason), and the 20 no result was there for are "ran out"."""
    web.config.results_per_keyword = 30
    web.config.duplicate_every = 10  # results 10 and 20 repeat earlier bytes
    web.config.faults["short"] = {2: "status404=1", 5: "html=1", 7: "latency=30"}
    sink = MemorySink()
    outcome = chunk(web, tmp_path, "short", 50, sink, max_retries=0, deadline=1.0)
    assert outcome.results == 30 and outcome.search_end == "ran_out"
    assert outcome.failed_by == {"http": 1, "not_image": 1, "timeout": 1}
    assert outcome.duplicates == 2 and outcome.downloaded == 25
    parts = outcome.downloaded + outcome.duplicates + outcome.too_small + outcome.failed
    assert parts == outcome.results  # every result is accounted for
    assert parts + (50 - outcome.results) == 50  # and with what the engine lacked, the target
    assert outcome.search is not None and outcome.search["next_rank"] == 30


def test_blocked_search_says_so(web: FakeWeb, tmp_path: Path) -> None:
    web.config.blocked.add("bing")
    try:
        outcome = chunk(web, tmp_path, "blocked", 10, MemorySink())
    finally:
        web.config.blocked.discard("bing")
    assert outcome.search_end == "blocked" and outcome.results == 0
