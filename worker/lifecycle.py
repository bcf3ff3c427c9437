"""Job lifecycle steps shared by the API (start, cancel, retry) and the tasks (finish a job).

Database rows are always written before tasks are sent or revoked, so a worker never sees a task
whose chunk is not yet recorded, and a cancelled chunk is known as cancelled before its revoke.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from celery import Celery
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from worker.celery_app import CRAWL_QUEUE, DOWNLOAD_TASK
from worker.db.dialects import lock_row
from worker.db.models import FINISHED, Chunk, Job, JobStatus, utcnow
from worker.progress import ChunkCounts, StatusGroup, final_status, summarize

OPEN = (JobStatus.pending, JobStatus.running)


def chunk_targets(max_images: int, engines: int) -> list[int]:
    """Split one keyword's images across its engines as evenly as possible."""
    base, extra = divmod(max_images, engines)
    return [base + (1 if i < extra else 0) for i in range(engines)]


def build_chunks(job: Job) -> list[Chunk]:
    targets = chunk_targets(job.max_images, len(job.engines))
    return [
        Chunk(keyword=kw, engine=engine, target=target, status=JobStatus.pending)
        for kw in job.keywords
        for engine, target in zip(job.engines, targets, strict=True)
    ]


def _chunk_aggregates() -> tuple:
    """count, images, sum of downloaded/target shares (each capped at 1), last update, latest
    search-quota slot."""
    done = case((Chunk.downloaded > Chunk.target, Chunk.target), else_=Chunk.downloaded)
    share = case((Chunk.target > 0, done * 1.0 / Chunk.target), else_=0.0)
    return (func.count(Chunk.id), func.sum(Chunk.downloaded), func.sum(share),
            func.max(Chunk.updated_at), func.max(Chunk.waiting_until))


def _group(status, n, downloaded, shares, updated, waiting) -> StatusGroup:
    return StatusGroup(status, n, downloaded or 0, float(shares or 0), updated, waiting)


def counts_for(session: Session, job_ids: Sequence[int]) -> dict[int, ChunkCounts]:
    """Chunk counts and progress for several jobs, aggregated by the database in one query."""
    groups: dict[int, list[StatusGroup]] = {job_id: [] for job_id in job_ids}
    if job_ids:
        query = (select(Chunk.job_id, Chunk.status, *_chunk_aggregates())
                 .where(Chunk.job_id.in_(job_ids)).group_by(Chunk.job_id, Chunk.status))
        for job_id, *row in session.execute(query):
            groups[job_id].append(_group(*row))
    return {job_id: summarize(g) for job_id, g in groups.items()}


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    owner_id: int
    status: JobStatus
    started_at: datetime | None
    updated_at: datetime
    counts: ChunkCounts


def snapshot(session: Session, job_id: int) -> JobSnapshot | None:
    """A job's status and chunk counts in one round trip: progress is polled often."""
    query = (
        select(Job.owner_id, Job.status, Job.started_at, Job.updated_at, Chunk.status,
               *_chunk_aggregates())
        .select_from(Job).outerjoin(Chunk, Chunk.job_id == Job.id)
        .where(Job.id == job_id).group_by(Job.id, Chunk.status)
    )
    rows = session.execute(query).all()
    if not rows:
        return None
    owner_id, status, started_at, updated_at = rows[0][:4]
    counts = summarize(_group(*row[4:]) for row in rows if row[4] is not None)
    return JobSnapshot(owner_id, status, started_at, updated_at, counts)


@dataclass(frozen=True, slots=True)
class Dispatch:
    task_id: str
    chunk_id: int
    job_id: int
    keyword: str
    engine: str
    target: int
    # A chunk waiting for its search quota runs at the slot it booked, and holds it.
    booked_at: float | None = None


def queue_chunks(job: Job, chunks: Iterable[Chunk]) -> list[Dispatch]:
    """Give each chunk a fresh task id and mark it pending; the caller commits, then sends."""
    out = []
    for chunk in chunks:
        chunk.task_id = str(uuid.uuid4())
        chunk.status = JobStatus.pending
        chunk.last_error = None
        chunk.failed_downloads = 0
        chunk.started_at = chunk.finished_at = None
        chunk.waiting_until = chunk.search_state = None
        out.append(Dispatch(chunk.task_id, chunk.id, job.id, chunk.keyword, chunk.engine,
                            chunk.target))
    job.status = JobStatus.running
    job.started_at = job.started_at or utcnow()
    job.finished_at = None
    return out


def spread(dispatches: Sequence[Dispatch]) -> list[Dispatch]:
    """The same chunks, ordered so that one keyword's engines run apart, and engines take
    turns: round r sends, for the i-th keyword, its ((i + r) mod n)-th chunk. A keyword's
    engines list many of the same images; the chunk that runs later then skips those its
    job already stored (see ChunkSink.stored_elsewhere) instead of downloading them again
    alongside, and consecutive chunks use different engines' search quotas."""
    groups: dict[tuple[int, str], list[Dispatch]] = {}
    for d in dispatches:
        groups.setdefault((d.job_id, d.keyword), []).append(d)
    rotated = [g[i % len(g):] + g[:i % len(g)] for i, g in enumerate(groups.values())]
    return [g[r] for r in range(max(map(len, rotated), default=0))
            for g in rotated if r < len(g)]


def send(celery: Celery, dispatches: Sequence[Dispatch]) -> None:
    """Send every chunk's task over one broker connection, in `spread` order."""
    with celery.producer_or_acquire() as producer:
        for d in spread(dispatches):
            kwargs = {"keyword": d.keyword, "engine": d.engine, "max_images": d.target,
                      "job_id": d.job_id, "chunk_id": d.chunk_id}
            eta = None
            if d.booked_at is not None:
                kwargs["booked_at"] = d.booked_at
                eta = datetime.fromtimestamp(d.booked_at, UTC)
            celery.send_task(DOWNLOAD_TASK, kwargs=kwargs, task_id=d.task_id, eta=eta,
                             queue=CRAWL_QUEUE, producer=producer)


def cancel_open_chunks(session: Session, job: Job) -> list[Chunk]:
    """Mark the job and its open chunks cancelled; return those chunks (their task ids are to
    be revoked, their leftovers swept). Their rows stay locked until the caller commits."""
    now = utcnow()
    chunks = list(session.scalars(
        select(Chunk).where(Chunk.job_id == job.id, Chunk.status.in_(OPEN))
    ))
    session.execute(
        update(Chunk).where(Chunk.job_id == job.id, Chunk.status.in_(OPEN))
        .values(status=JobStatus.cancelled, finished_at=now, updated_at=now)
    )
    job.status = JobStatus.cancelled
    job.finished_at = now
    return chunks


def finish_job_if_done(session: Session, job_id: int) -> JobStatus | None:
    """End a running job once none of its chunks is open; returns the new status if it ended.

    The job row is locked first, so two chunks finishing together cannot both miss the other's
    update.
    """
    lock_row(session, Job, job_id)
    job = session.get(Job, job_id)
    if job.status is not JobStatus.running:
        return None
    status = final_status(counts_for(session, [job_id])[job_id])
    if status is not None:
        job.status = status
        job.finished_at = utcnow()
    return status


def is_finished(status: JobStatus) -> bool:
    return status in FINISHED
