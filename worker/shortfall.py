"""Where a chunk's target went: the breakdown users read when a job ends short.

Every result an engine gives a chunk ends as one of: stored (``downloaded``), a duplicate
(listed twice, or bytes the job already has), removed by our filters (min size), or a failed
download (by reason). So for a chunk whose search ended, ``results`` is their sum, and the
images it is short of its target that no result explains are the ones the engine did not have:
``ran_out`` (no more results), ``blocked`` (it refused us) or ``search_failed`` (a page it could
not read). For a short chunk, downloaded + duplicates + filtered + failed + those three is its
target when the engine had fewer results than the target, else the results it had.

The counters live on the chunk (worker.db.models) and change in one UPDATE each; this module
reads them, per chunk and summed per job (one aggregate query).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from worker.crawl.types import FAILURE_REASONS
from worker.db.models import Chunk, Job, JobStatus

# Counters a chunk's walk through its results adds up; a walk that starts again from its
# first result starts them again (worker.tasks.crawl.claim), so they are never counted twice.
WALK_COUNTERS = ("duplicates_skipped", "failed_downloads", "filtered_out", "results_found",
                 *(f"failed_{r}" for r in FAILURE_REASONS))
ENDED = (JobStatus.completed, JobStatus.failed)


def failed_column(reason: str) -> Any:
    return getattr(Chunk, f"failed_{reason}")


def walk_counts(chunk: Chunk) -> dict[str, Any]:
    """The chunk's walk counters and search end, saved with its search state so a run that
    goes on from there (or a re-delivery of it) starts from the same counts."""
    counts: dict[str, Any] = {name: getattr(chunk, name) or 0 for name in WALK_COUNTERS}
    counts["search_end"] = chunk.search_end
    return counts


def restart_walk(chunk: Chunk, saved: dict[str, Any] | None) -> None:
    """Set the counters for a run that starts at ``saved`` (None: at the first result)."""
    saved = saved or {}
    for name in WALK_COUNTERS:
        setattr(chunk, name, int(saved.get(name, 0)))
    chunk.search_end = saved.get("search_end")


def _unfound(target: int, downloaded: int, results: int, ended: bool) -> int:
    return max(0, target - results) if ended and downloaded < target else 0


def chunk_breakdown(chunk: Any) -> dict[str, Any]:
    """The breakdown of one chunk (an ORM row or anything with its attributes)."""
    failed_by = {r: getattr(chunk, f"failed_{r}", 0) or 0 for r in FAILURE_REASONS}
    failed = chunk.failed_downloads or 0
    failed_by["other"] += max(0, failed - sum(failed_by.values()))  # rows from before 0008
    end = getattr(chunk, "search_end", None)
    results = getattr(chunk, "results_found", 0) or 0
    unfound = _unfound(chunk.target, chunk.downloaded or 0, results,
                       end is not None and chunk.status in ENDED)
    took_over = list(getattr(chunk, "took_over", None) or [])
    return {
        "target": chunk.target,
        "share": chunk.target - sum(int(t.get("images", 0)) for t in took_over),
        "downloaded": chunk.downloaded or 0,
        "results": results,
        "search_end": end,
        "ran_out": unfound if end == "ran_out" else 0,
        "blocked": unfound if end == "blocked" else 0,
        "search_failed": unfound if end == "failed" else 0,
        "filtered": getattr(chunk, "filtered_out", 0) or 0,
        "duplicates": chunk.duplicates_skipped or 0,
        "failed": sum(failed_by.values()),
        "failed_by": failed_by,
        "took_over": took_over,
    }


def _job_sums() -> tuple:
    ended = and_(Chunk.status.in_(ENDED), Chunk.downloaded < Chunk.target,
                 Chunk.results_found < Chunk.target)
    unfound = case((ended, Chunk.target - Chunk.results_found), else_=0)

    def by_end(end: str) -> Any:
        return func.sum(case((Chunk.search_end == end, unfound), else_=0))

    return (func.sum(Chunk.target), func.sum(Chunk.downloaded), func.sum(Chunk.results_found),
            by_end("ran_out"), by_end("blocked"), by_end("failed"),
            func.sum(Chunk.filtered_out), func.sum(Chunk.duplicates_skipped),
            func.sum(Chunk.failed_downloads),
            *(func.sum(failed_column(r)) for r in FAILURE_REASONS))


def breakdowns_for(session: Session, jobs: Sequence[Job]) -> dict[int, dict[str, Any]]:
    """Each job's breakdown, summed over its chunks by the database in one query.

    ``wanted`` is what the job asked for (max_images per keyword); ``targets`` the sum of its
    chunks' targets, which a top-up raises: ``topped_up`` is the difference."""
    out: dict[int, dict[str, Any]] = {}
    if not jobs:
        return out
    rows = session.execute(select(Chunk.job_id, *_job_sums())
                           .where(Chunk.job_id.in_([j.id for j in jobs]))
                           .group_by(Chunk.job_id))
    sums = {row[0]: [int(v or 0) for v in row[1:]] for row in rows}
    for job in jobs:
        values = sums.get(job.id, [0] * (9 + len(FAILURE_REASONS)))
        (targets, downloaded, results, ran_out, blocked, search_failed, filtered, duplicates,
         failed) = values[:9]
        failed_by = dict(zip(FAILURE_REASONS, values[9:], strict=True))
        failed_by["other"] += max(0, failed - sum(failed_by.values()))
        wanted = job.max_images * len(job.keywords)
        out[job.id] = {
            "wanted": wanted, "targets": targets, "topped_up": max(0, targets - wanted),
            "downloaded": downloaded, "results": results, "ran_out": ran_out,
            "blocked": blocked, "search_failed": search_failed, "filtered": filtered,
            "duplicates": duplicates, "failed": sum(failed_by.values()), "failed_by": failed_by,
        }
    return out
