"""Job progress from its chunks: the one formula the API, the events stream and the tasks share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from worker.db.models import JobStatus


@dataclass(frozen=True, slots=True)
class StatusGroup:
    """The chunks of one job in one status: how many, images downloaded, and the sum of
    their downloaded/target shares (each capped at 1)."""

    status: JobStatus | str
    count: int
    downloaded: int
    shares: float
    updated_at: datetime | None = None
    waiting_until: datetime | None = None  # the latest search-quota slot one of them holds


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
    updated_at: datetime | None = None  # the latest change of any chunk
    # The latest search-quota slot an open chunk waits for: the job cannot end before it.
    waiting_until: datetime | None = None

    @property
    def active(self) -> int:
        return self.pending + self.running

    @property
    def finished(self) -> int:
        return self.completed + self.failed


def summarize(groups: Iterable[StatusGroup]) -> ChunkCounts:
    """Counts per status and the job's progress.

    Finished chunks (completed or failed) count whole, open ones by downloaded/target (a chunk
    waiting for its search quota is pending with what it has); the result is an integer 0–100
    that reaches 100 exactly when every chunk has finished.
    """
    by_status = dict.fromkeys(JobStatus, 0)
    partial = 0.0
    downloaded = 0
    updated = []
    waits = []
    for group in groups:
        if group.updated_at is not None:
            updated.append(group.updated_at)
        status = JobStatus(group.status)
        by_status[status] += group.count
        downloaded += group.downloaded
        if status in (JobStatus.running, JobStatus.pending):
            partial += group.shares
            if group.waiting_until is not None:
                waits.append(group.waiting_until)
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
        updated_at=max(updated, default=None),
        waiting_until=max(waits, default=None),
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
