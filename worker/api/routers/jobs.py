"""Crawl jobs: create, list, inspect, start, cancel, retry, follow progress, delete.

Routers stay thin: they check input and ownership, write rows, and hand work to Celery.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select, update

from worker.api.deps import DB, MAX_ID, UserId, WriterId, check_owner, owned_job
from worker.api.schemas import (
    CancelOut,
    ChunkOut,
    ImageOut,
    JobCreate,
    JobOut,
    Page,
    ProgressOut,
    ReviewManyIn,
    ReviewManyOut,
    StartOut,
    WaitingChunkOut,
    WaitingOut,
)
from worker.crawl.engines import engine_status
from worker.crawl.filters import SearchFilters
from worker.crawl.storage import JobStorage
from worker.crawl.terms import engine_warnings
from worker.db.models import (
    FINISHED,
    Chunk,
    Image,
    Job,
    JobStatus,
    ReviewState,
    ValidationStatus,
    utcnow,
)
from worker.lifecycle import (
    OPEN,
    JobSnapshot,
    build_chunks,
    cancel_open_chunks,
    counts_for,
    queue_chunks,
    send,
    snapshot,
)
from worker.progress import ChunkCounts
from worker.settings import Settings
from worker.shortfall import breakdowns_for

log = logging.getLogger(__name__)
router = APIRouter(prefix="/jobs", tags=["jobs"])

# Bounded so that the row offset, (page - 1) * page_size, fits the databases' 64-bit integers.
PageNo = Annotated[int, Query(ge=1, le=MAX_ID)]
PageSize = Annotated[int, Query(ge=1, le=500)]


def job_out(job: Job, counts: ChunkCounts, breakdown: dict | None = None) -> JobOut:
    return JobOut(
        id=job.id, name=job.name, keywords=job.keywords, engines=job.engines,
        max_images=job.max_images, respect_robots=job.options.get("respect_robots", True),
        respect_optout=job.options.get("respect_optout", True),
        fill=job.options.get("fill", False),
        validate_level=job.options.get("validate"),
        filters=SearchFilters.from_options(job.options).as_dict(),
        status=job.status, progress=counts.progress, total_chunks=counts.total,
        active_chunks=counts.active, completed_chunks=counts.completed,
        failed_chunks=counts.failed, cancelled_chunks=counts.cancelled,
        downloaded_images=counts.downloaded, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at, updated_at=job.updated_at,
        breakdown=breakdown, warnings=engine_warnings(job.engines),
    )


def require_available(settings: Settings, engines: list[str]) -> None:
    """400 naming the setting to set when a job asks for an engine this server cannot use."""
    for name in engines:
        state = engine_status(name, settings.api_key)
        if not state.available:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                detail=f"Engine '{name}' is not available: {state.reason}")


# What an image takes on disk, on average, for the space a job needs before it starts.
IMAGE_BYTES_ESTIMATE = 500_000


def require_disk_space(settings: Settings, images: int) -> None:
    """400 unless the data folder has the configured minimum free, or the estimated size of
    `images` more images if that is larger: a crawl that fills the disk fails mid-way."""
    need = max(settings.disk_start_min_mb * 1_000_000, images * IMAGE_BYTES_ESTIMATE)
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"Cannot read the free space of {settings.data_dir}: "
                            f"{exc.strerror or exc}") from None
    if free < need:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"Not enough disk space: {free / 1e9:.1f} GB free in {settings.data_dir}, "
            f"this job needs about {need / 1e9:.1f} GB. Free some space, or lower max_images.")


def estimate(snap: JobSnapshot) -> datetime | None:
    """Linear projection from the progress so far, and never before the last search-quota
    slot a chunk waits for; None until there is something to project."""
    progress = snap.counts.progress
    if snap.status is not JobStatus.running or not snap.started_at or progress >= 100:
        return None
    now = utcnow()
    projected = snap.started_at + (now - snap.started_at) * (100 / progress) if progress else None
    waiting = snap.counts.waiting_until
    if waiting is not None and waiting > now:
        return max(projected, waiting) if projected else waiting
    return projected


def _dispatch_or_revert(request: Request, db: DB, job: Job, dispatches, previous: JobStatus):
    """Send the tasks; if the broker is down, put the job back as it was and say so."""
    try:
        send(request.app.state.celery, dispatches)
    except Exception as exc:
        log.exception("could not send tasks for job %s", job.id)
        ids = [d.chunk_id for d in dispatches]
        for chunk in db.scalars(select(Chunk).where(Chunk.id.in_(ids))):
            chunk.status = JobStatus.pending if previous is JobStatus.pending else chunk.status
            chunk.task_id = None
        job.status = previous
        db.commit()
        request.app.state.snapshots.forget(job.id)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"Task broker unavailable: {exc}") from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=JobOut)
def create_job(body: JobCreate, request: Request, user_id: WriterId, db: DB) -> JobOut:
    require_available(request.app.state.settings, body.engines)
    job = Job(owner_id=user_id, name=body.name, keywords=body.keywords, engines=body.engines,
              max_images=body.max_images,
              options={"respect_robots": body.respect_robots, "validate": body.validate_level,
                       "respect_optout": body.respect_optout, "fill": body.fill,
                       "filters": body.filters.model_dump()},
              status=JobStatus.pending)
    job.chunks = build_chunks(job)
    db.add(job)
    db.commit()
    return job_out(job, counts_for(db, [job.id])[job.id])


@router.get("", response_model=Page[JobOut])
def list_jobs(user_id: UserId, db: DB, page: PageNo = 1, page_size: PageSize = 50,
              status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
              ) -> Page[JobOut]:
    where = [Job.owner_id == user_id]
    if status_filter is not None:
        where.append(Job.status == status_filter)
    total = db.scalar(select(func.count()).select_from(Job).where(*where)) or 0
    jobs = list(db.scalars(select(Job).where(*where).order_by(Job.id.desc())
                           .offset((page - 1) * page_size).limit(page_size)))
    counts = counts_for(db, [j.id for j in jobs])
    shortfalls = breakdowns_for(db, jobs)
    return Page(items=[job_out(j, counts[j.id], shortfalls[j.id]) for j in jobs], total=total,
                page=page, page_size=page_size)


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: int, user_id: UserId, db: DB) -> JobOut:
    job = owned_job(db, job_id, user_id)
    return job_out(job, counts_for(db, [job.id])[job.id], breakdowns_for(db, [job])[job.id])


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(job_id: int, request: Request, user_id: WriterId, db: DB) -> Response:
    job = owned_job(db, job_id, user_id, lock=True)
    if job.status is JobStatus.running:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="Cannot delete job with status 'running'. Cancel it first.")
    db.delete(job)
    db.commit()
    request.app.state.snapshots.forget(job_id)
    shutil.rmtree(request.app.state.settings.data_dir / "jobs" / str(job_id), ignore_errors=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{job_id}/start", response_model=StartOut)
def start_job(job_id: int, request: Request, user_id: WriterId, db: DB) -> StartOut:
    request.app.state.limiter.check(request.app.state.settings.start_rate_limit,
                                    "start", str(user_id))
    job = owned_job(db, job_id, user_id, lock=True)
    if job.status is not JobStatus.pending:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"Cannot start job with status '{job.status}'. "
            "Only pending jobs can be started.",
        )
    require_available(request.app.state.settings, job.engines)
    require_disk_space(request.app.state.settings, sum(c.target for c in job.chunks))
    dispatches = queue_chunks(job, job.chunks)
    db.commit()
    request.app.state.snapshots.forget(job.id)
    _dispatch_or_revert(request, db, job, dispatches, JobStatus.pending)
    n = len(dispatches)
    return StartOut(job_id=job.id, status=JobStatus.running,
                    task_ids=[d.task_id for d in dispatches], total_chunks=n,
                    message=f"Job started with {n} tasks")


@router.post("/{job_id}/cancel", response_model=CancelOut)
def cancel_job(job_id: int, request: Request, user_id: WriterId, db: DB) -> CancelOut:
    job = owned_job(db, job_id, user_id, lock=True)
    if job.status not in OPEN:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail=f"Cannot cancel job with status: {job.status}")
    cancelled = cancel_open_chunks(db, job)
    sweep_cancelled(db, request.app.state.settings.data_dir, job.id, cancelled)
    db.commit()
    request.app.state.snapshots.forget(job.id)
    task_ids = [c.task_id for c in cancelled if c.task_id]
    if task_ids:
        # Running tasks stop on their own within a second (they poll the chunk's status);
        # revoking keeps queued ones from ever starting. Not terminate: a killed process could
        # leave a half-recorded image, and the cooperative stop is already that fast.
        try:
            request.app.state.celery.control.revoke(task_ids)
        except Exception:
            log.warning("revoke failed for job %s; tasks will stop on their own", job.id,
                        exc_info=True)
    n = len(task_ids)
    return CancelOut(job_id=job.id, status=JobStatus.cancelled, revoked_tasks=n,
                     message=f"Job cancelled successfully. {n} task(s) revoked.")


def sweep_cancelled(db: DB, data_dir: Path, job_id: int, chunks: list[Chunk]) -> None:
    """Remove what tasks of the cancelled chunks left unrecorded (a killed worker's files and
    temp downloads). The chunks' rows are locked by the cancel, so no live task is mid-batch,
    and none will place anything once the cancel commits."""
    if not chunks:
        return
    storage = JobStorage(data_dir, job_id)
    ids = [c.id for c in chunks]
    recorded = set(db.scalars(select(Image.file_path).where(Image.chunk_id.in_(ids))))
    for chunk in chunks:
        try:
            storage.sweep_chunk(chunk.id, chunk.keyword, chunk.engine, recorded)
        except OSError as exc:  # the cancel holds regardless; the files wait for a delete
            log.warning("could not sweep chunk %s of job %s: %s", chunk.id, job_id, exc)


@router.post("/{job_id}/retry", response_model=StartOut)
def retry_job(job_id: int, request: Request, user_id: WriterId, db: DB) -> StartOut:
    request.app.state.limiter.check(request.app.state.settings.start_rate_limit,
                                    "retry", str(user_id))
    job = owned_job(db, job_id, user_id, lock=True)
    if job.status not in FINISHED:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"Cannot retry job with status '{job.status}'. "
            "Only finished jobs can be retried.",
        )
    redo = [c for c in job.chunks if c.status in (JobStatus.failed, JobStatus.cancelled)]
    if not redo:
        raise HTTPException(status.HTTP_400_BAD_REQUEST,
                            detail="Job has no failed or cancelled chunks to retry")
    require_disk_space(request.app.state.settings,
                       sum(max(c.target - c.downloaded, 0) for c in redo))
    previous = job.status
    dispatches = queue_chunks(job, redo)
    db.commit()
    request.app.state.snapshots.forget(job.id)
    _dispatch_or_revert(request, db, job, dispatches, previous)
    n = len(dispatches)
    return StartOut(job_id=job.id, status=JobStatus.running,
                    task_ids=[d.task_id for d in dispatches], total_chunks=len(job.chunks),
                    message=f"Job retried with {n} tasks")


def load_progress(state, job_id: int, user_id: int) -> ProgressOut:
    def load() -> JobSnapshot | None:
        with state.sessions() as db:
            return snapshot(db, job_id)

    snap = state.snapshots.get(job_id, load)
    check_owner(snap.owner_id if snap else None, user_id)
    c = snap.counts
    return ProgressOut(
        job_id=job_id, status=snap.status, progress=c.progress, total_chunks=c.total,
        active_chunks=c.active, completed_chunks=c.completed, failed_chunks=c.failed,
        downloaded_images=c.downloaded, estimated_completion=estimate(snap),
        started_at=snap.started_at,
        updated_at=max(snap.updated_at, c.updated_at or snap.updated_at),
    )


@router.get("/{job_id}/progress", response_model=ProgressOut)
def job_progress(job_id: int, request: Request, user_id: UserId) -> ProgressOut:
    return load_progress(request.app.state, job_id, user_id)


# How long an EventSource (or our client) waits before it reconnects after a drop.
EVENTS_RETRY_MS = 2000


def _event_number(value: str | None) -> int:
    """The id a resumed stream goes on from (its `Last-Event-ID`), else 0."""
    return int(value) if value is not None and value.isdigit() and len(value) < 18 else 0


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"description": "Server-sent events: `progress` and `waiting`",
                     "content": {"text/event-stream": {"schema": {"type": "object"}}}}},
)
async def job_events(job_id: int, request: Request, user_id: UserId) -> StreamingResponse:
    """Server-sent events: the progress object each time it changes (`progress`), and the
    chunks that wait for their engine's search quota each time that set changes (`waiting`:
    `{"job_id", "chunks": [{"id", "keyword", "engine", "waiting_until"}]}`); ends when the job
    does. Every event has an id; a client that reconnects with `Last-Event-ID` gets the
    current state at once and the ids go on from there."""
    state = request.app.state
    interval = state.settings.events_interval
    first = await run_in_threadpool(load_progress, state, job_id, user_id)  # 403/404 as JSON
    number = _event_number(request.headers.get("last-event-id"))

    async def stream():
        nonlocal number
        current, last_sent, quiet = first, None, 0.0
        last_waiting = WaitingOut(job_id=job_id, chunks=[]).model_dump_json()
        yield f"retry: {EVENTS_RETRY_MS}\n\n"
        while True:
            payload = current.model_dump_json()
            if payload != last_sent:
                number += 1
                yield f"id: {number}\nevent: progress\ndata: {payload}\n\n"
                last_sent, quiet = payload, 0.0
            if current.status in FINISHED or await request.is_disconnected():
                return
            waiting = (await run_in_threadpool(waiting_chunks, state, job_id)
                       if current.active_chunks else WaitingOut(job_id=job_id, chunks=[]))
            if (text := waiting.model_dump_json()) != last_waiting:
                number += 1
                yield f"id: {number}\nevent: waiting\ndata: {text}\n\n"
                last_waiting, quiet = text, 0.0
            elif quiet >= 15:
                yield ": keep-alive\n\n"
                quiet = 0.0
            await asyncio.sleep(interval)
            quiet += interval
            try:
                current = await run_in_threadpool(load_progress, state, job_id, user_id)
            except HTTPException:  # the job was deleted while being watched
                return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def waiting_chunks(state, job_id: int) -> WaitingOut:
    """The job's open chunks whose booked search-quota slot is still ahead."""
    with state.sessions() as db:
        rows = db.execute(
            select(Chunk.id, Chunk.keyword, Chunk.engine, Chunk.waiting_until)
            .where(Chunk.job_id == job_id, Chunk.status.in_(OPEN),
                   Chunk.waiting_until > utcnow())
            .order_by(Chunk.waiting_until, Chunk.id)
        ).all()
    return WaitingOut(job_id=job_id, chunks=[
        WaitingChunkOut(id=i, keyword=k, engine=e, waiting_until=w) for i, k, e, w in rows])


@router.get("/{job_id}/chunks", response_model=list[ChunkOut])
def job_chunks(job_id: int, user_id: UserId, db: DB) -> list[Chunk]:
    owned_job(db, job_id, user_id)
    return list(db.scalars(select(Chunk).where(Chunk.job_id == job_id).order_by(Chunk.id)))


@router.patch("/{job_id}/images", response_model=ReviewManyOut)
def review_images(job_id: int, body: ReviewManyIn, user_id: WriterId, db: DB) -> ReviewManyOut:
    """Set one review state on many images of the job at once; all or none: 422 naming the
    ids that are not images of this job (the job is there: what is wrong is the body; a 404
    here read to clients as the job being gone)."""
    owned_job(db, job_id, user_id)
    ids = sorted(set(body.ids))
    in_range = [i for i in ids if 1 <= i <= MAX_ID]  # others name no row (and break queries)
    found = set(db.scalars(select(Image.id).where(Image.job_id == job_id,
                                                  Image.id.in_(in_range))))
    if unknown := [i for i in ids if i not in found]:
        shown = ", ".join(map(str, unknown[:20])) + (" …" if len(unknown) > 20 else "")
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"No image of job {job_id} has id {shown}")
    db.execute(update(Image).where(Image.job_id == job_id, Image.id.in_(ids))
               .values(review=body.review))
    db.commit()
    return ReviewManyOut(updated=len(ids), review=body.review)


@router.get("/{job_id}/images", response_model=Page[ImageOut])
def job_images(
    job_id: int, user_id: UserId, db: DB, page: PageNo = 1, page_size: PageSize = 100,
    keyword: str | None = None, engine: str | None = None,
    validation: ValidationStatus | None = None, review: ReviewState | None = None,
) -> Page[ImageOut]:
    owned_job(db, job_id, user_id)
    where = [Image.job_id == job_id]
    if review is not None:
        where.append(Image.review == review)
    if keyword is not None:
        where.append(Image.keyword == keyword)
    if engine is not None:
        where.append(Image.engine == engine)
    if validation is not None:
        where.append(Image.validation_status == validation)
    total = db.scalar(select(func.count()).select_from(Image).where(*where)) or 0
    rows = db.scalars(select(Image).where(*where).order_by(Image.id)
                      .offset((page - 1) * page_size).limit(page_size))
    return Page(items=[ImageOut.model_validate(r) for r in rows], total=total, page=page,
                page_size=page_size)
