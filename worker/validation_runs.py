"""Starting a validation run: shared by the API endpoint and the auto-validation after a crawl.

Images go to the level's task in batches; task ids are `task_{job_id}_{index}` with the index
continuing across runs, so a new run never reuses the id of a batch still in flight.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from worker.celery_app import VALIDATION_QUEUE, validation_task_name
from worker.db.models import Image, Job, RunStatus, ValidationRun, ValidationStatus, utcnow


@dataclass(frozen=True, slots=True)
class Started:
    run_id: int
    level: str
    images: int
    task_ids: list[str]
    batches: list[list[int]]


def queue_run(session: Session, job: Job, level: str, batch_size: int) -> Started | None:
    """Record a new run over all of the job's images (None if it has none); commit, then
    `send_run`. The job's images are reset to pending under this run, and a run of the job
    still going ends as replaced: its batches see they are no longer current and stop."""
    image_ids = list(session.scalars(select(Image.id).where(Image.job_id == job.id)
                                     .order_by(Image.id)))
    if not image_ids:
        return None
    offset = session.scalar(select(func.coalesce(func.sum(ValidationRun.batches), 0))
                            .where(ValidationRun.job_id == job.id)) or 0
    session.execute(
        update(ValidationRun)
        .where(ValidationRun.job_id == job.id, ValidationRun.status == RunStatus.running)
        .values(status=RunStatus.failed, finished_at=utcnow(), error="replaced by a newer run")
    )
    batches = [image_ids[i:i + batch_size] for i in range(0, len(image_ids), batch_size)]
    run = ValidationRun(job_id=job.id, level=level, status=RunStatus.running,
                        images_total=len(image_ids), batches=len(batches), batches_done=0,
                        task_offset=offset)
    session.add(run)
    session.flush()
    session.execute(
        update(Image).where(Image.job_id == job.id)
        .values(validation_run_id=run.id, validation_status=ValidationStatus.pending,
                validation_level=None, validation_issues=[], validation_metrics={},
                pixel_hash=None, phash=None)
    )
    task_ids = [f"task_{job.id}_{offset + i}" for i in range(len(batches))]
    return Started(run.id, level, len(image_ids), task_ids, batches)


def send_run(celery: Celery, job_id: int, level: str, started: Started) -> None:
    name = validation_task_name(level)
    with celery.producer_or_acquire() as producer:
        for task_id, ids in zip(started.task_ids, started.batches, strict=True):
            celery.send_task(name, kwargs={"image_ids": ids, "job_id": job_id,
                                           "run_id": started.run_id},
                             task_id=task_id, queue=VALIDATION_QUEUE, producer=producer)


def latest_run(session: Session, job_id: int) -> ValidationRun | None:
    return session.scalar(select(ValidationRun).where(ValidationRun.job_id == job_id)
                          .order_by(ValidationRun.id.desc()).limit(1))



def fail_run(sessions: sessionmaker[Session], run_id: int, error: str) -> None:
    """End a running run as failed with `error` (its batches cannot be checked or sent)."""
    with sessions() as db:
        db.execute(update(ValidationRun)
                   .where(ValidationRun.id == run_id, ValidationRun.status == RunStatus.running)
                   .values(status=RunStatus.failed, finished_at=utcnow(), error=error))
        db.commit()
