"""Run one chunk (one keyword on one engine): page through results, download, store, record.

Downloads run concurrently but only as many as the target still needs (plus a small margin for
failures), so a chunk never fetches far more than it keeps. Cancellation is polled from the sink
in the background; once seen, nothing more is placed and in-flight downloads are cancelled.

Downloaded images are recorded in batches from a worker thread: a database commit per image on
the event loop would cap a chunk at a few hundred images per second. Files are moved into place
inside the batch's transaction, so no file shows without its committed row, and none after a
cancel has committed. An image counts towards the target once downloaded; a duplicate the
database finds (another chunk of the job had the same bytes) takes it back.

Faults of this machine (disk full, a folder that cannot be written, a service down past the
outage limit) stop the chunk at once: it ends failed with the reason. An outage shorter than
the limit is only a pause.

Search queries are booked with the engine's quota (worker.crawl.search_limit). A slot a few
seconds off is slept for; one further off is noted for users, and once the chunk has nothing
else to do (no download in flight or queued, everything recorded) it parks: it returns with
the booked slot and where its search stands, and the task runs it again at that time, so the
worker serves other engines meanwhile.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import shutil
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from worker.crawl.downloader import Downloader
from worker.crawl.outage import outlast
from worker.crawl.search_limit import SearchLimiter
from worker.crawl.storage import JobStorage
from worker.crawl.types import (
    Candidate,
    ChunkFault,
    ChunkOutcome,
    ChunkSink,
    DownloadError,
    EngineBlocked,
    EngineError,
    Failure,
    Fetched,
    LocalWriteError,
    Parked,
    ResultPage,
    StoredImage,
)

if TYPE_CHECKING:
    from worker.crawl.engines.base import Engine

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PAGES = 200  # an engine that keeps returning cursors must not page forever
MAX_EMPTY_PAGES = 3  # consecutive empty pages (after the first) that end the result list
MAX_LISTED_ERRORS = 20  # failure messages kept in ChunkOutcome.errors
BOOKING_SLACK = 1.0  # a booked slot missed by more than this is stale: book another
NOTE_WAIT_AFTER = 1.0  # waits this long or longer are shown to users


async def run_chunk(
    *,
    engine: Engine,
    keyword: str,
    target: int,
    downloader: Downloader,
    storage: JobStorage,
    sink: ChunkSink,
    limiter: SearchLimiter | None,
    temp_dir: Path | None = None,
    outage_limit: float = 300.0,
    min_free_bytes: int = 0,
    cancel_poll: float = 0.25,
    park_after: float | None = None,
    booked_at: float | None = None,
    search_state: dict[str, Any] | None = None,
) -> ChunkOutcome:
    """Store up to ``target`` new images for ``keyword`` from ``engine``; counts are this run's.

    Ranks are the engine's global result index (0-based); ranks the sink already recorded count
    towards the target and are not fetched again. Downloads go to ``temp_dir`` (the job's temp
    folder by default). The chunk stops with "disk full" once the data folder has less than
    ``min_free_bytes`` free. With ``park_after``, a chunk whose next query slot is at least
    that many seconds off returns ``outcome.parked`` once idle; it is run again with
    ``booked_at`` (the slot it holds) and ``search_state`` (``parked.search``).
    """
    run = _ChunkRun(engine, keyword, target, downloader, storage, sink, limiter, cancel_poll)
    run.temp_dir = temp_dir or storage.temp_dir
    run.outage_limit = outage_limit
    run.min_free_bytes = min_free_bytes
    run.park_after = park_after
    run.booked_at = booked_at
    if search_state:
        run.resume_search(search_state)
    return await run.run()


class _ChunkRun:
    def __init__(
        self,
        engine: Engine,
        keyword: str,
        target: int,
        downloader: Downloader,
        storage: JobStorage,
        sink: ChunkSink,
        limiter: SearchLimiter | None,
        cancel_poll: float,
    ) -> None:
        self.engine = engine
        self.keyword = keyword
        self.target = target
        self.downloader = downloader
        self.storage = storage
        self.sink = sink
        self.limiter = limiter
        self.cancel_poll = cancel_poll
        self.temp_dir = storage.temp_dir
        self.outage_limit = 300.0
        self.min_free_bytes = 0
        self.outcome = ChunkOutcome()
        # Set from the polling thread; read before every placement, so a file is never placed
        # once the runner has seen the cancellation.
        self.cancelled = False
        self.fault: str | None = None  # set (also from the polling thread) when a fault stops us
        self.recorded: dict[int, str] = {}
        self.stored = 0  # images of this chunk on disk, including ones recorded by earlier runs
        self.queue: deque[tuple[int, Candidate]] = deque()
        self.seen_urls: set[str] = set()
        self.downloads: dict[asyncio.Task[Fetched], tuple[int, Candidate]] = {}
        self.search_task: asyncio.Task[tuple[ResultPage, set[str]]] | None = None
        # Placed but not yet recorded, and the batch being recorded now.
        self.pending: list[StoredImage] = []
        self.pending_failures: list[Failure] = []
        self.pending_duplicates = 0
        self.pending_filtered = 0
        # Downloaded after the target was met: not kept, but not used up either (a later
        # top-up fetches them again).
        self.spare: list[tuple[int, Candidate]] = []
        self.flush_task: asyncio.Task[None] | None = None
        self.finished: asyncio.Queue[asyncio.Task[Any]] = asyncio.Queue()
        self.placed: set[str] = set()  # sha256 of images this run placed (dedup without a query)
        self.cursor: Any = None
        self.pages = 0
        self.empty_pages = 0
        self.next_rank = 0
        self.exhausted = False
        self.search_error: str | None = None
        self.search_end: str | None = None  # SEARCH_ENDS, once the search has ended
        self.last_failure: str | None = None
        self.park_after: float | None = None
        self.booked_at: float | None = None  # a query slot booked by an earlier run
        self.waiting_until: float | None = None  # the booked slot the search sleeps for

    def resume_search(self, state: dict[str, Any]) -> None:
        """Go on from where a parked run's search stood."""
        self.cursor = self.engine.load_cursor(state.get("cursor"))
        self.next_rank = int(state.get("next_rank", 0))
        self.pages = int(state.get("pages", 0))
        self.empty_pages = int(state.get("empty_pages", 0))
        self.exhausted = bool(state.get("exhausted", False))
        if self.exhausted:
            self.search_end = "ran_out"
        for rank, fields in state.get("queue", ()):
            self.queue.append((int(rank), Candidate(**fields)))

    def _search_state(self, leftover: Sequence[tuple[int, Candidate]] = ()) -> dict[str, Any]:
        """Where the search stands; ``leftover``: results found but not used, kept with it so
        a run that goes on from here fetches them first (none is lost between runs)."""
        state = {"cursor": self.engine.save_cursor(self.cursor), "next_rank": self.next_rank,
                 "pages": self.pages, "empty_pages": self.empty_pages}
        if leftover:
            state["queue"] = [[rank, asdict(c)] for rank, c in sorted(leftover,
                                                                       key=lambda rc: rc[0])]
        if self.exhausted and self.search_error is None:
            state["exhausted"] = True
        return state

    # -- main loop ---------------------------------------------------------------------------

    async def run(self) -> ChunkOutcome:
        if self.target <= 0:
            return self.outcome
        try:
            self.recorded = await outlast(lambda: asyncio.to_thread(self.sink.already_recorded),
                                          self.outage_limit, "reading recorded images")
        except ChunkFault as exc:
            self.fault = str(exc)
            return self._finish()
        self.stored = len(self.recorded)
        self.seen_urls = set(self.recorded.values())
        # Results an earlier run found and did not use; a crashed run may have stored some.
        self.queue = deque((r, c) for r, c in self.queue if r not in self.recorded)
        self.seen_urls.update(c.url for _r, c in self.queue)
        if self.stored >= self.target:
            return self.outcome
        watcher = self._start(self._watch_cancel(), "cancel watcher")
        try:
            await self._loop()
        finally:
            await self._stop(watcher)
        return self._finish()

    async def _loop(self) -> None:
        while not self.cancelled and self.fault is None:
            if self.stored < self.target:
                self._fill()
                if self.search_task is None and self._want_more_results():
                    self.search_task = self._start(self._search(self.cursor), "search")
            elif self.flush_task is None and not self._unrecorded():
                return  # the target is met and recorded
            if self.flush_task is None and self._unrecorded():
                self.flush_task = self._start(self._flush(), "record")
            if self._idle_until_quota():
                self.outcome.parked = Parked(self.waiting_until, self._search_state())
                return  # _stop cancels the sleeping search; its slot goes with `parked`
            if not (self.downloads or self.search_task or self.flush_task):
                return  # nothing in flight and nothing left to ask for
            done = [await self.finished.get()]
            while not self.finished.empty():
                done.append(self.finished.get_nowait())
            for task in done:
                if task is self.search_task:
                    self.search_task = None
                    self._on_page(task)
                elif task is self.flush_task:
                    self.flush_task = None
                    task.result()  # only an unexpected error: faults are noted by _flush
                elif task in self.downloads:
                    self._on_download(task)

    def _window(self) -> int:
        need = self.target - self.stored
        return need + max(2, need // 5)

    def _fill(self) -> None:
        # Some tasks wait on a busy host's cap; a few times the downloader's concurrency keeps
        # its global slots filled without a task per result for large targets.
        limit = min(self._window(), 4 * self.downloader.options.concurrency)
        while self.queue and len(self.downloads) < limit:
            rank, candidate = self.queue.popleft()
            task = self._start(
                self.downloader.fetch(candidate.url, self.temp_dir),
                f"download {self.engine.name} #{rank}",
            )
            self.downloads[task] = (rank, candidate)

    def _start(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """A task that reports to ``finished`` when done (one wake-up per task, where
        asyncio.wait over all of them would re-register every task on every wake-up)."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self.finished.put_nowait)
        return task

    def _idle_until_quota(self) -> bool:
        """Only a search far off waits: time to give the worker back."""
        if self.park_after is None or self.waiting_until is None or self.search_task is None:
            return False
        if self.downloads or self.queue or self.flush_task or self._unrecorded():
            return False
        return self.waiting_until - time.time() >= self.park_after

    def _want_more_results(self) -> bool:
        if self.exhausted or self.search_error is not None:
            return False
        return len(self.queue) + len(self.downloads) < self._window()

    # -- search ------------------------------------------------------------------------------

    async def _search(self, cursor: Any) -> tuple[ResultPage, set[str]]:
        """The next page, and those of its results the job already stored from its other
        chunks: when a keyword's engines list the same images, each is downloaded once."""
        page = await self._query(cursor)
        urls = [c.url for c in page.candidates if c.url not in self.seen_urls]
        known = await outlast(lambda: asyncio.to_thread(self.sink.stored_elsewhere, urls),
                              self.outage_limit, "reading the job's images") if urls else set()
        return page, known

    async def _query(self, cursor: Any) -> ResultPage:
        if self.limiter is not None:
            delay = await self._slot(self.limiter)
            if delay > 0:
                self.waiting_until = time.time() + delay
                if delay >= NOTE_WAIT_AFTER:  # also wakes the loop, which may park the chunk
                    self._start(self._note_wait(self.waiting_until), "note wait")
                await asyncio.sleep(delay)
            self.waiting_until = None
        return await self.engine.search(self.downloader.session, self.keyword, cursor)

    async def _slot(self, limiter: SearchLimiter) -> float:
        """Seconds until this query may go: the slot an earlier run booked, else a new one."""
        booked, self.booked_at = self.booked_at, None
        if booked is not None and booked >= time.time() - BOOKING_SLACK:
            return max(booked - time.time(), 0.0)
        name = self.engine.name
        return await outlast(lambda: asyncio.to_thread(limiter.book, name), self.outage_limit,
                             f"{name} search quota")

    async def _note_wait(self, until: float) -> None:
        try:
            await asyncio.to_thread(self.sink.note_wait, until)
        except Exception:  # only for users to see: never a reason to stop
            log.debug("could not note the quota wait of %s/%r", self.engine.name, self.keyword,
                      exc_info=True)

    def _on_page(self, task: asyncio.Task[tuple[ResultPage, set[str]]]) -> None:
        name = self.engine.name
        try:
            page, known = task.result()
        except ChunkFault as exc:
            self._fault(str(exc))
            return
        except EngineError as exc:
            self._search_failed(str(exc), "blocked" if isinstance(exc, EngineBlocked) else "failed")
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._search_failed(f"{name}: search failed ({type(exc).__name__}: {exc})")
            return
        first = self.pages == 0
        self.pages += 1
        if first and not page.candidates:
            self._search_failed(f"{name}: no results for {self.keyword!r}", "ran_out")
            return
        filters = self.engine.filters
        for candidate in page.candidates:
            rank = self.next_rank
            self.next_rank += 1
            if rank in self.recorded:
                continue
            if candidate.url in self.seen_urls or candidate.url in known:
                # listed twice by the engine, or already stored by another engine's chunk
                self.seen_urls.add(candidate.url)
                self.outcome.duplicates += 1
                self.pending_duplicates += 1
                continue
            if filters.too_small(candidate.width, candidate.height):
                self.outcome.too_small += 1
                self.pending_filtered += 1
                continue
            self.seen_urls.add(candidate.url)
            self.queue.append((rank, candidate))
        self.empty_pages = 0 if page.candidates else self.empty_pages + 1
        self.cursor = page.next_cursor
        if self.cursor is None or self.empty_pages >= MAX_EMPTY_PAGES or self.pages >= MAX_PAGES:
            self.exhausted = True
            self.search_end = "ran_out"

    def _search_failed(self, message: str, end: str = "failed") -> None:
        self.search_error = message
        self.search_end = end
        self.exhausted = True
        self.outcome.errors.append(message)

    # -- downloads ---------------------------------------------------------------------------

    def _on_download(self, task: asyncio.Task[Fetched]) -> None:
        rank, candidate = self.downloads.pop(task)
        if task.cancelled():
            return
        try:
            fetched = task.result()
        except DownloadError as exc:
            self._failed(candidate.url, str(exc), exc.reason)
            return
        except LocalWriteError as exc:
            self._fault(self._write_fault(exc.error))
            return
        if self.cancelled or self.fault is not None or self.stored >= self.target:
            fetched.temp_path.unlink(missing_ok=True)
            if self.stored >= self.target:
                self.spare.append((rank, candidate))
            return
        self._keep(rank, candidate, fetched)

    def _keep(self, rank: int, candidate: Candidate, fetched: Fetched) -> None:
        if fetched.sha256 in self.placed:  # the same bytes came earlier in this run
            fetched.temp_path.unlink(missing_ok=True)
            self.outcome.duplicates += 1
            self.pending_duplicates += 1
            return
        if self.engine.filters.too_small(fetched.width, fetched.height):
            fetched.temp_path.unlink(missing_ok=True)
            self.outcome.too_small += 1
            self.pending_filtered += 1
            return
        rel_path = self.storage.relative_path(
            self.keyword, self.engine.name, rank, fetched.sha256, fetched.extension
        )
        self.placed.add(fetched.sha256)
        image = StoredImage(self.keyword, self.engine.name, rank, candidate, fetched, rel_path)
        self.pending.append(image)
        self.stored += 1

    def _unrecorded(self) -> bool:
        return bool(self.pending or self.pending_failures or self.pending_duplicates
                    or self.pending_filtered)

    async def _flush(self) -> None:
        """Place and record what is pending, in one worker-thread hop (file renames are slow
        enough on some disks to stall the event loop). A database outage is waited out."""
        images, failures, duplicates = self.pending, self.pending_failures, self.pending_duplicates
        filtered = self.pending_filtered
        self.pending, self.pending_failures, self.pending_duplicates = [], [], 0
        self.pending_filtered = 0
        try:
            existing = await outlast(
                lambda: asyncio.to_thread(self._place_and_record, images, failures, duplicates,
                                          filtered),
                self.outage_limit, "recording images")
        except ChunkFault as exc:
            self._fault(str(exc))
            existing = None
        except LocalWriteError as exc:
            self._fault(self._write_fault(exc.error))
            existing = None
        if existing is None:  # not recorded: a fault, or the chunk is no longer ours
            self.cancelled = self.cancelled or self.fault is None
            for image in images:
                image.fetched.temp_path.unlink(missing_ok=True)
            self.stored -= len(images)
            return
        kept = []
        for image, found in zip(images, existing, strict=True):
            if found is None:
                self.outcome.downloaded += 1
                kept.append(image.candidate)
                continue
            image.fetched.temp_path.unlink(missing_ok=True)  # not placed: the job has it
            if found != image.file_path:
                self.outcome.duplicates += 1  # the job already has these bytes elsewhere
                self.stored -= 1
            # else: an earlier run recorded this very file; it already counted as stored
        if kept:  # what the source asks to hear of a kept image (Unsplash's downloads)
            session = self.downloader.session
            await asyncio.gather(*(self.engine.kept(session, c) for c in kept))

    def _place_and_record(
        self, images: list[StoredImage], failures: list[Failure], duplicates: int,
        filtered: int = 0,
    ) -> list[str | None] | None:
        """Record the batch; the sink calls back to move the new images into place within its
        transaction. Should the transaction fail, the placed files go back to their temp
        names, so nothing shows without a row and a retry can place them again."""
        placed: list[StoredImage] = []

        def place(new: Sequence[StoredImage]) -> None:
            for image in new:
                try:
                    self.storage.place(image.fetched, image.file_path)
                except OSError as exc:
                    raise LocalWriteError(exc) from exc
                placed.append(image)

        try:
            return self.sink.record_batch(images, failures, duplicates, place, filtered)
        except BaseException:
            for image in placed:
                self.storage.unplace(image.fetched, image.file_path)
            raise

    def _write_fault(self, error: OSError) -> str:
        root = self.storage.data_dir
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return disk_full(root)
        return f"cannot write in {root}: {error.strerror or error}"

    def _fault(self, message: str) -> None:
        """Stop the chunk on a fault of this machine; the first reason is the one kept."""
        if self.fault is None:
            log.error("%s/%r stops: %s", self.engine.name, self.keyword, message)
            self.fault = message

    def _failed(self, url: str, message: str, reason: str = "other") -> None:
        self.pending_failures.append(Failure(url, message, reason))
        self.outcome.failed += 1
        self.outcome.failed_by[reason] = self.outcome.failed_by.get(reason, 0) + 1
        self.last_failure = message
        if len(self.outcome.errors) < MAX_LISTED_ERRORS:
            self.outcome.errors.append(f"{url}: {message}")

    # -- cancellation and shutdown -----------------------------------------------------------

    def _poll_cancelled(self) -> bool:
        """Cancelled, or out of disk space: either stops the chunk."""
        if self.min_free_bytes and self.fault is None:
            free = shutil.disk_usage(self.storage.data_dir).free
            if free < self.min_free_bytes:
                self._fault(disk_full(self.storage.data_dir, free))
        if self.sink.is_cancelled():
            self.cancelled = True
        return self.cancelled or self.fault is not None

    async def _watch_cancel(self) -> None:
        while True:
            try:
                if await asyncio.to_thread(self._poll_cancelled):
                    return
            except Exception:  # a flaky DB read must not kill the chunk; try again next tick
                log.warning(
                    "cancel check failed for %s/%r", self.engine.name, self.keyword, exc_info=True
                )
            await asyncio.sleep(self.cancel_poll)

    async def _stop(self, watcher: asyncio.Task[None]) -> None:
        """Cancel downloads and searches, delete temp files nobody will place, and record
        everything placed (a batch being written is awaited, never cancelled: its thread would
        write on regardless)."""
        tasks: list[asyncio.Task[Any]] = [watcher, *self.downloads]
        if self.search_task is not None:
            tasks.append(self.search_task)
        self.spare += [*self.downloads.values(), *self.queue]  # found, not used: kept for later
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for task in self.downloads:
            if not task.cancelled() and task.exception() is None:
                task.result().temp_path.unlink(missing_ok=True)
        self.downloads.clear()
        self.search_task = None
        flushing, self.flush_task = self.flush_task, None
        if flushing is not None:
            await asyncio.wait({flushing})
            if not flushing.cancelled() and flushing.exception() is not None:
                self._drop_unrecorded()
                flushing.result()
        if self._unrecorded():
            if self.cancelled or self.fault is not None:
                self._drop_unrecorded()  # a cancel is final; a fault leaves nothing to place
            else:
                await self._flush()

    def _drop_unrecorded(self) -> None:
        for image in self.pending:
            image.fetched.temp_path.unlink(missing_ok=True)
        self.stored -= len(self.pending)
        self.pending.clear()

    def _finish(self) -> ChunkOutcome:
        outcome = self.outcome
        outcome.results = self.next_rank
        outcome.search_end = self.search_end
        if outcome.parked is None:
            outcome.search = self._search_state(self.spare)
        outcome.warnings = [
            f"{host}: timed out {self.downloader.options.host_timeouts} times; its other "
            "images were skipped" for host in self.downloader.skipped_hosts]
        if self.fault is not None or self.cancelled:
            outcome.parked = None  # a parked chunk that then stopped has ended
        if self.fault is not None:
            outcome.fault = outcome.error = self.fault
            return outcome
        if self.cancelled:
            outcome.cancelled = True
            return outcome
        if outcome.parked is not None or self.stored >= self.target:
            return outcome  # a late search error does not matter once the target is met, and
            # a parked chunk has not ended
        problems = []
        if self.search_error is not None:
            problems.append(self.search_error)
        if outcome.failed and not outcome.downloaded and not outcome.duplicates:
            problems.append(f"all {outcome.failed} downloads failed; last: {self.last_failure}")
        if outcome.too_small:
            f = self.engine.filters
            problems.append(
                f"{self.engine.name}: {outcome.too_small} results were smaller than the minimum "
                f"size {f.min_width}x{f.min_height}"
            )
        outcome.error = "; ".join(problems) or None
        return outcome


def disk_full(data_dir: Path, free: int | None = None) -> str:
    """The reason a chunk stops on a full disk, as users read it."""
    if free is None:
        try:
            free = shutil.disk_usage(data_dir).free
        except OSError:
            free = 0
    return f"disk full: {free // 1_000_000} MB free in {data_dir}"
