"""Job progress from its chunks: the one formula the API, the events stream and the tasks share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from worker.db.models import JobStatus


@dataclass(frozen=True, slots=True)
class ChunkCounts:
    total: int = 0
    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    downloaded: int = 0
    progress: int = 0

    @property
    def active(self) -> int:
        return self.pending + self.running

    @property
    def finished(self) -> int:
        return self.completed + self.failed


def summarize(rows: Iterable[tuple[JobStatus | str, int, int]]) -> ChunkCounts:
    """Count chunks by status from (status, target, downloaded) rows and compute progress.

    Finished chunks (completed or failed) count whole, running chunks by downloaded/target;
    the result is an integer 0–100 that reaches 100 exactly when every chunk has finished.
    """
    by_status = dict.fromkeys(JobStatus, 0)
    partial = 0.0
    downloaded = 0
    for status, target, done in rows:
        status = JobStatus(status)
        by_status[status] += 1
        downloaded += done
        if status is JobStatus.running and target > 0:
            partial += min(done, target) / target
    total = sum(by_status.values())
    finished = by_status[JobStatus.completed] + by_status[JobStatus.failed]
    if total and finished == total:
        progress = 100
    elif total:
        progress = min(99, int(100 * (finished + partial) / total))
    else:
        progress = 0
    return ChunkCounts(
        total=total,
        pending=by_status[JobStatus.pending],
        running=by_status[JobStatus.running],
        completed=by_status[JobStatus.completed],
        failed=by_status[JobStatus.failed],
        cancelled=by_status[JobStatus.cancelled],
        downloaded=downloaded,
        progress=progress,
    )


def final_status(counts: ChunkCounts) -> JobStatus | None:
    """The status a running job ends in once no chunk is open, else None."""
    if counts.active:
        return None
    if counts.completed:
        return JobStatus.completed
    if counts.failed:
        return JobStatus.failed
    return JobStatus.cancelled
