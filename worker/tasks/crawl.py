"""`download_images_task`: one chunk (keyword × engine) of a job, as one Celery task.

The task is thin glue: it claims the chunk, runs worker.crawl.chunk.run_chunk with a sink that
records into the database, and ends the chunk (and the job, when it was the last one).
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from celery.signals import worker_process_init, worker_process_shutdown, worker_shutdown
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from worker.celery_app import DOWNLOAD_TASK, app
from worker.crawl.chunk import run_chunk
from worker.crawl.downloader import Downloader, DownloadOptions
from worker.crawl.engines import Engine
from worker.crawl.filters import SearchFilters
from worker.crawl.outage import outlast_sync
from worker.crawl.runtime import close_all, runtime
from worker.crawl.search_limit import make_search_limiter
from worker.crawl.storage import JobStorage
from worker.crawl.types import (
    ChunkFault,
    ChunkOutcome,
    EngineError,
    Failure,
    Parked,
    StoredImage,
)
from worker.db.dialects import dialect_insert, lock_row
from worker.db.models import Chunk, Image, Job, JobStatus, ValidationStatus, url_key, utcnow
from worker.db.session import forget_connections, session_factory
from worker.engine_config import configured_engine
from worker.fill import requeue, top_up
from worker.lifecycle import OPEN, Dispatch, finish_job_if_done, send
from worker.service_errors import broker_call, database_call
from worker.settings import Settings
from worker.shortfall import failed_column, restart_walk, walk_counts
from worker.validation_runs import Started, fail_run, queue_run, send_run

log = logging.getLogger(__name__)
# A chunk whose next search-quota slot is this many seconds off or more gives its worker back
# and runs again at that slot; a shorter wait is slept.
PARK_AFTER = 3.0


@worker_process_init.connect
def _fresh_connections(**_) -> None:
    forget_connections()


@worker_shutdown.connect
@worker_process_shutdown.connect
def _close_runtimes(**_) -> None:
    close_all()


class DbChunkSink:
    """Records a chunk's images and counters as they arrive, and tells the runner to stop when
    the chunk is cancelled or taken over by a newer task (after a worker was presumed lost).
    Database errors come out as ServiceDown, so the runner waits an outage out."""

    def __init__(self, sessions: sessionmaker[Session], chunk_id: int, job_id: int,
                 task_id: str, heartbeat: float) -> None:
        self._sessions = sessions
        self._chunk_id = chunk_id
        self._job_id = job_id
        self._task_id = task_id
        self._heartbeat = heartbeat
        self._beat_at = time.monotonic()

    def already_recorded(self) -> dict[int, str]:
        with database_call(), self._sessions() as db:
            rows = db.execute(select(Image.rank, Image.source_url)
                              .where(Image.chunk_id == self._chunk_id))
            return {rank: url for rank, url in rows}

    def stored_elsewhere(self, urls: Sequence[str]) -> set[str]:
        keys = {url_key(u) for u in urls}
        if not keys:
            return set()
        with database_call(), self._sessions() as db:
            found = db.scalars(select(Image.source_url).where(
                Image.job_id == self._job_id, Image.chunk_id != self._chunk_id,
                Image.url_key.in_(keys)))
            return set(found) & set(urls)

    def is_cancelled(self) -> bool:
        with database_call(), self._sessions() as db:
            row = db.execute(
                select(Chunk.status, Chunk.task_id, Job.status)
                .join(Job, Job.id == Chunk.job_id).where(Chunk.id == self._chunk_id)
            ).one_or_none()
            if row is None:
                return True
            chunk_status, task_id, job_status = row
            if (chunk_status is not JobStatus.running or task_id != self._task_id
                    or job_status is not JobStatus.running):
                return True
            if time.monotonic() - self._beat_at >= self._heartbeat:
                db.execute(update(Chunk).where(Chunk.id == self._chunk_id)
                           .values(updated_at=utcnow()))
                db.commit()
                self._beat_at = time.monotonic()
            return False

    def record_batch(self, images: Sequence[StoredImage], failures: Sequence[Failure],
                     duplicates: int, place: Callable[[Sequence[StoredImage]], None],
                     filtered: int = 0) -> list[str | None] | None:
        """One transaction, begun by locking the chunk's row if it is still this task's and
        running: insert the images (a sha256 the job already has is skipped by the unique
        constraint, not an error), place the new ones' files, add the counts, commit. A cancel
        waits for the lock, so once it has committed nothing more is placed."""
        with database_call(), self._sessions() as db:
            ours = db.execute(
                update(Chunk).where(Chunk.id == self._chunk_id, Chunk.task_id == self._task_id,
                                    Chunk.status == JobStatus.running)
                .values(updated_at=utcnow())
            ).rowcount
            if not ours:
                return None
            existing: dict[str, str] = {}
            inserted: set[str] = set()
            if images:
                # executemany of one statement: compiled once and cached, where a multi-row
                # VALUES would be compiled anew for every batch size.
                table = Image.__table__
                insert = dialect_insert(db)(table).on_conflict_do_nothing(
                    index_elements=["job_id", "sha256"]).returning(table.c.sha256)
                inserted = set(db.execute(insert, [self._row(i) for i in images]).scalars())
                clashes = [i.fetched.sha256 for i in images if i.fetched.sha256 not in inserted]
                if clashes:
                    rows = db.execute(select(Image.sha256, Image.file_path).where(
                        Image.job_id == self._job_id, Image.sha256.in_(clashes)))
                    existing = {sha: path for sha, path in rows}
            place([i for i in images if i.fetched.sha256 in inserted])
            found = [existing.get(i.fetched.sha256) for i in images]
            new = sum(1 for f in found if f is None)
            values: dict = {Chunk.downloaded: Chunk.downloaded + new,
                            Chunk.duplicates_skipped: Chunk.duplicates_skipped + duplicates
                            + sum(1 for i, f in zip(images, found, strict=True)
                                  if f is not None and f != i.file_path),
                            Chunk.failed_downloads: Chunk.failed_downloads + len(failures)}
            if filtered:
                values[Chunk.filtered_out] = Chunk.filtered_out + filtered
            by_reason: dict[str, int] = {}
            for failure in failures:
                by_reason[failure.reason] = by_reason.get(failure.reason, 0) + 1
            for reason, n in by_reason.items():
                column = failed_column(reason)
                values[column] = column + n
            if failures:
                url, error, _reason = failures[-1]
                values[Chunk.last_error] = f"{error} ({url})"
            db.execute(update(Chunk).where(Chunk.id == self._chunk_id).values(values))
            db.commit()
        self._beat_at = time.monotonic()
        return found

    def _row(self, image: StoredImage) -> dict:
        f, c = image.fetched, image.candidate
        return {"job_id": self._job_id, "chunk_id": self._chunk_id, "keyword": image.keyword,
                "engine": image.engine, "rank": image.rank, "source_url": c.url,
                "url_key": url_key(c.url),
                "page_url": c.page_url, "title": c.title, "query": image.keyword,
                "license": c.license, "license_url": c.license_url, "creator": c.creator,
                "attribution": c.attribution, "file_path": image.file_path, "sha256": f.sha256,
                "bytes": f.size, "width": f.width, "height": f.height, "format": f.format,
                "downloaded_at": utcnow(), "validation_status": ValidationStatus.pending,
                "validation_issues": [], "validation_metrics": {}}

    def note_wait(self, until: float) -> None:
        with database_call(), self._sessions() as db:
            db.execute(update(Chunk).where(Chunk.id == self._chunk_id,
                                           Chunk.task_id == self._task_id)
                       .values(waiting_until=datetime.fromtimestamp(until, UTC)))
            db.commit()

    def warn(self, warnings: list[str]) -> None:
        """Keep notes for users on the chunk (e.g. filters its engine cannot apply)."""
        with database_call(), self._sessions() as db:
            db.execute(update(Chunk).where(Chunk.id == self._chunk_id)
                       .values(warnings=warnings))
            db.commit()


def claim(sessions: sessionmaker[Session], chunk_id: int, task_id: str) -> Chunk | None:
    """Mark the chunk running if this task still owns it and its job is running."""
    with database_call(), sessions() as db:
        lock_row(db, Chunk, chunk_id)  # a cancel or a re-send waits until this is decided
        chunk = db.get(Chunk, chunk_id)
        if chunk is None or chunk.task_id != task_id or chunk.status not in OPEN:
            return None
        job_status = db.scalar(select(Job.status).where(Job.id == chunk.job_id))
        if job_status is not JobStatus.running:
            return None
        # A run from the first result counts its walk afresh; one that goes on from a saved
        # search (parked, topped up, or a re-delivery of either) from the counts saved with it.
        state = chunk.search_state
        restart_walk(chunk, state.get("counts") if state else None)
        chunk.status = JobStatus.running
        chunk.started_at = chunk.started_at or utcnow()
        db.commit()
        return chunk


def sweep_leftovers(sessions: sessionmaker[Session], storage: JobStorage, chunk: Chunk) -> int:
    """Remove what an earlier task of the chunk left: files placed but never committed, and
    its temp downloads. Under the chunk's lock: an earlier task still alive has either
    committed its batch or placed nothing."""
    with database_call(), sessions() as db:
        lock_row(db, Chunk, chunk.id)
        recorded = set(db.scalars(select(Image.file_path).where(Image.chunk_id == chunk.id)))
        removed = storage.sweep_chunk(chunk.id, chunk.keyword, chunk.engine, recorded,
                                      keep_task=chunk.task_id)
        db.commit()
    if removed:
        log.warning("chunk %s: removed %d file(s) an earlier task placed without recording",
                    chunk.id, removed)
    return removed


def park(sessions: sessionmaker[Session], chunk_id: int, task_id: str,
         parked: Parked) -> Dispatch | None:
    """Hand the chunk to a new task that runs at its booked quota slot: pending meanwhile
    (a waiting chunk is still active), with where its search stands. None if the chunk was
    cancelled or taken over meanwhile."""
    with database_call(), sessions() as db:
        lock_row(db, Chunk, chunk_id)
        chunk = db.get(Chunk, chunk_id)
        if chunk is None or chunk.task_id != task_id or chunk.status is not JobStatus.running:
            return None
        chunk.task_id = str(uuid.uuid4())
        chunk.status = JobStatus.pending
        chunk.waiting_until = datetime.fromtimestamp(parked.until, UTC)
        chunk.search_state = {**parked.search, "counts": walk_counts(chunk)}
        db.commit()
        return Dispatch(chunk.task_id, chunk.id, chunk.job_id, chunk.keyword, chunk.engine,
                        chunk.target, booked_at=parked.until)


def finish(sessions: sessionmaker[Session], settings: Settings, chunk_id: int, job_id: int,
           task_id: str, outcome: ChunkOutcome,
           resend: list[Dispatch] | None = None) -> Started | None:
    """End the chunk unless it was cancelled or taken over meanwhile; then maybe the job, and
    queue its validation if it asked for one (returned, to be sent). A chunk stopped by a
    fault fails, whatever it downloaded; so does one that stored nothing because of an
    error. With the job's `fill`, a chunk short of its target tops up (worker.fill): the
    chunks to send again go into ``resend``."""
    with database_call(), sessions() as db:
        lock_row(db, Job, job_id)
        chunk = db.get(Chunk, chunk_id)
        if chunk is None or chunk.task_id != task_id or chunk.status is not JobStatus.running:
            return None
        job = db.get(Job, job_id)
        fill = bool(job.options.get("fill")) and outcome.fault is None
        failed = outcome.fault is not None or (
            outcome.error is not None and chunk.downloaded == 0 and chunk.target > 0)
        chunk.status = JobStatus.failed if failed else JobStatus.completed
        chunk.last_error = outcome.error or chunk.last_error
        chunk.finished_at = utcnow()
        chunk.waiting_until = chunk.search_state = None
        db.flush()
        seen = outcome.results  # a run from a saved search goes on from its rank: the most
        db.execute(update(Chunk).where(Chunk.id == chunk_id).values(
            results_found=case((Chunk.results_found < seen, seen), else_=Chunk.results_found),
            search_end=outcome.search_end))
        dispatches: list[Dispatch] = []
        if fill:
            db.refresh(chunk)
            # It stopped at its target with results to go on with: its engine's search has
            # not ended, or the results it found and did not use are kept with its search.
            leftover = bool((outcome.search or {}).get("queue"))
            going = (outcome.search_end is None or leftover) and not failed
            if outcome.search is not None and (going or chunk.downloaded >= chunk.target):
                # It may take over another chunk's share later: keep where its search stands
                # (with the results it found and did not use).
                chunk.search_state = {**outcome.search, "counts": walk_counts(chunk)}
            if chunk.downloaded < chunk.target:
                if going and outcome.search is not None:  # its target was raised as it ran
                    dispatches.append(requeue(chunk))
                else:
                    dispatches += top_up(db, job, chunk)
            db.flush()
        ended = finish_job_if_done(db, job_id)
        level = job.options.get("validate") if ended is JobStatus.completed else None
        started = queue_run(db, job, level, settings.validation_batch_size) if level else None
        db.commit()
    if resend is not None:  # only once committed: an outage retry must not send them twice
        resend += dispatches
    return started


def send_run_patiently(settings: Settings, job_id: int, started: Started) -> None:
    """Send a queued validation run's batches, waiting out a broker outage; past the outage
    limit the run fails, naming the broker, rather than wait for batches never sent."""
    def send() -> None:
        with broker_call():
            send_run(app, job_id, started.level, started)

    try:
        outlast_sync(send, settings.outage_limit, f"validation run {started.run_id}")
    except ChunkFault as exc:
        fail_run(session_factory(settings), started.run_id, str(exc))


def download_options(settings: Settings, job_options: dict) -> DownloadOptions:
    return DownloadOptions(
        concurrency=settings.download_concurrency,
        per_host=settings.download_per_host,
        host_interval=settings.download_host_interval,
        timeout_total=settings.download_timeout,
        timeout_connect=min(10.0, settings.download_timeout),
        timeout_sock_read=min(settings.download_stall_timeout, settings.download_timeout),
        deadline=settings.download_deadline,
        max_bytes=settings.download_max_bytes,
        max_retries=settings.download_retries,
        respect_robots=job_options.get("respect_robots", settings.respect_robots),
        respect_optout=job_options.get("respect_optout", True),
        allow_private=bool(settings.allow_private_addresses),
        user_agent=settings.user_agent,
    )


def crawl_chunk(settings: Settings, chunk: Chunk, engine: Engine, job_options: dict,
                sink: DbChunkSink, storage: JobStorage,
                booked_at: float | None = None) -> ChunkOutcome:
    """Run the chunk on this thread's event loop and open downloader (worker.crawl.runtime)."""
    limiter = make_search_limiter(settings.search_rate, settings.ratelimit_storage_url,
                                  settings.data_dir / "ratelimit")
    temp_dir = storage.task_temp_dir(chunk.id, chunk.task_id)
    temp_dir.mkdir(parents=True, exist_ok=True)

    async def work(downloader: Downloader) -> ChunkOutcome:
        return await run_chunk(engine=engine, keyword=chunk.keyword, target=chunk.target,
                               downloader=downloader, storage=storage, sink=sink,
                               limiter=limiter, temp_dir=temp_dir,
                               outage_limit=settings.outage_limit,
                               min_free_bytes=settings.disk_stop_below_mb * 1_000_000,
                               park_after=PARK_AFTER, booked_at=booked_at,
                               search_state=chunk.search_state)

    try:
        return runtime().run(download_options(settings, job_options), work)
    finally:
        limiter.close()


def _park(settings: Settings, sessions: sessionmaker[Session], chunk_id: int, task_id: str,
          outcome: ChunkOutcome) -> dict:
    """Re-send the parked chunk for its slot. Should the broker stay down past the outage
    limit, the chunk stays pending without a message, which the recovery sweep re-sends."""
    assert outcome.parked is not None
    limit, what = settings.outage_limit, f"chunk {chunk_id}"
    try:
        dispatch = outlast_sync(lambda: park(sessions, chunk_id, task_id, outcome.parked),
                                limit, what)
        if dispatch is not None:
            def resend() -> None:
                with broker_call():
                    send(app, [dispatch])

            outlast_sync(resend, limit, what)
    except ChunkFault as exc:
        log.error("chunk %s: could not park it for its search quota (%s)", chunk_id, exc)
    return {"chunk_id": chunk_id, "downloaded": outcome.downloaded, "parked_until":
            outcome.parked.until}


@app.task(bind=True, name=DOWNLOAD_TASK)
def download_images_task(self, keyword: str, engine: str, max_images: int, job_id: int,
                         chunk_id: int, booked_at: float | None = None) -> dict:
    """Download up to `max_images` images of `keyword` from `engine` for chunk `chunk_id`;
    `booked_at`: the search-quota slot this chunk holds (it waited for it, parked)."""
    settings: Settings = app.conf.pixcrawler_settings
    sessions = session_factory(settings)
    task_id = self.request.id
    limit = settings.outage_limit
    what = f"chunk {chunk_id}"
    chunk = outlast_sync(lambda: claim(sessions, chunk_id, task_id), limit, what)
    if chunk is None:
        log.info("chunk %s: nothing to do for task %s (cancelled or superseded)", chunk_id,
                 task_id)
        return {"chunk_id": chunk_id, "skipped": True}
    sink = DbChunkSink(sessions, chunk_id, job_id, task_id, settings.chunk_heartbeat)
    storage = JobStorage(settings.data_dir, job_id)
    notes: list[str] = []
    try:
        outlast_sync(lambda: sweep_leftovers(sessions, storage, chunk), limit, what)
        with database_call(), sessions() as db:
            job_options = db.scalar(select(Job.options).where(Job.id == job_id)) or {}
        engine = configured_engine(settings, engine, SearchFilters.from_options(job_options))
        if notes := engine.unapplied():
            sink.warn(notes)
        outcome = crawl_chunk(settings, chunk, engine, job_options, sink, storage, booked_at)
    except EngineError as exc:  # e.g. its API key was removed after the job was made
        outcome = ChunkOutcome(error=str(exc))
    except ChunkFault as exc:
        outcome = ChunkOutcome(error=str(exc), fault=str(exc))
    except Exception as exc:
        log.exception("chunk %s (%s × %s) crashed", chunk_id, keyword, engine)
        outcome = ChunkOutcome(error=f"internal error: {type(exc).__name__}: {exc}")
    shutil.rmtree(storage.task_temp_dir(chunk_id, task_id), ignore_errors=True)
    if outcome.parked is not None:
        return _park(settings, sessions, chunk_id, task_id, outcome)
    try:
        if outcome.warnings:
            outlast_sync(lambda: sink.warn([*notes, *outcome.warnings]), limit, what)
        resend: list[Dispatch] = []
        started = outlast_sync(
            lambda: finish(sessions, settings, chunk_id, job_id, task_id, outcome, resend),
            limit, what)
        if resend:  # topped up: chunks of the keyword go on for the images this one lacked
            def send_again() -> None:
                with broker_call():
                    send(app, resend)

            outlast_sync(send_again, limit, what)
    except ChunkFault as exc:
        # The chunk stays running with a silent heartbeat: the recovery sweep sends it again.
        log.error("chunk %s: could not record its end (%s)", chunk_id, exc)
        started = None
    if started is not None:  # the job asked to be validated once its crawl is done
        send_run_patiently(settings, job_id, started)
    return {"chunk_id": chunk_id, "downloaded": outcome.downloaded,
            "duplicates": outcome.duplicates, "failed": outcome.failed, "error": outcome.error}
