"""Top-up to the count (job option `fill`): a keyword's images that one engine could not give
go to the job's other engines for that keyword, until the count is reached or every engine
has run out.

When a chunk ends short because its search ended (ran out, blocked, failed), the keyword's
deficit (max_images minus what its ended chunks stored and its open chunks are still after)
is added to the target of another chunk of the keyword whose search has not ended (or that
kept results it found and did not use), which notes whose share it took over. That chunk
stays the same chunk: if it has finished it is sent again, going on from where its search
stood (saved when it finished, with its walk's counts), so it neither searches again from the
first page nor counts twice; if it is running, it is sent again when it finishes short of its
raised target; if pending, it starts with it.
All of this happens under the job's row lock, in the finishing chunk's transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from worker.db.models import Chunk, Job, JobStatus
from worker.lifecycle import OPEN, Dispatch


def _dispatch(chunk: Chunk) -> Dispatch:
    return Dispatch(chunk.task_id, chunk.id, chunk.job_id, chunk.keyword, chunk.engine,
                    chunk.target)


def requeue(chunk: Chunk) -> Dispatch:
    """Send the chunk again for its (raised) target, going on from its saved search."""
    chunk.task_id = str(uuid.uuid4())
    chunk.status = JobStatus.pending
    chunk.finished_at = None
    return _dispatch(chunk)


def top_up(db: Session, job: Job, short: Chunk) -> list[Dispatch]:
    """Give the keyword's deficit to another of its chunks whose search has not ended;
    returns the chunks to send again (the caller commits, then sends)."""
    chunks = list(db.scalars(select(Chunk).where(Chunk.job_id == job.id,
                                                 Chunk.keyword == short.keyword)
                             .order_by(Chunk.id)))
    promised = sum(c.target if c.status in OPEN else min(c.downloaded, c.target)
                   for c in chunks if c.status is not JobStatus.cancelled)
    deficit = job.max_images - promised
    if deficit <= 0:
        return []
    takers = [c for c in chunks if c.id != short.id and c.status in (*OPEN, JobStatus.completed)
              and (c.search_end is None or (c.search_state or {}).get("queue"))]
    if not takers:
        return []  # every engine of the keyword has run out (or stopped)
    # An open chunk first (it is running anyway), then the one that stored the most.
    taker = min(takers, key=lambda c: (c.status not in OPEN, -c.downloaded, c.id))
    taker.target += deficit
    note: dict[str, Any] = {"chunk_id": short.id, "engine": short.engine, "images": deficit}
    taker.took_over = [*(taker.took_over or []), note]
    if taker.status is JobStatus.completed:
        return [requeue(taker)]
    return []  # pending: starts with the new target; running: sent again when it ends
