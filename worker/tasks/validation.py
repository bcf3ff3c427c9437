"""Validation tasks, one per level, each taking a batch of a job's images.

Each image's result is written as soon as it is known, so a run's progress is visible while it
is under way. The batch that finishes a run last groups duplicates across the whole job (they
can only be known once every image has its hashes) and closes the run; should its report be
lost, the recovery sweep closes the run instead (worker.tasks.recovery).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from worker.celery_app import LEVELS, app, validation_task_name
from worker.crawl.outage import outlast_sync
from worker.crawl.types import ChunkFault, LocalWriteError
from worker.db.models import Image, RunStatus, ValidationRun, ValidationStatus, utcnow
from worker.db.session import session_factory
from worker.service_errors import database_call
from worker.settings import Settings
from worker.validate.issues import outcome
from worker.validate.result import ImageCheck
from worker.validation_runs import fail_run

log = logging.getLogger(__name__)


def _is_current(db: Session, run_id: int, job_id: int) -> bool:
    """False once a newer run of the job exists: its images now belong to that run."""
    latest = db.scalar(select(ValidationRun.id).where(ValidationRun.job_id == job_id)
                       .order_by(ValidationRun.id.desc()).limit(1))
    return latest == run_id


def _store(db: Session, image_id: int, run_id: int, level: str, check: ImageCheck) -> None:
    db.execute(
        update(Image).where(Image.id == image_id, Image.validation_run_id == run_id)
        .values(validation_status=ValidationStatus(outcome(check.issues)),
                validation_level=level, validation_issues=list(check.issues),
                validation_metrics=dict(check.metrics), pixel_hash=check.pixel_hash,
                phash=None if check.phash is None else f"{check.phash:016x}")
    )


def _stored_check(row: Image) -> ImageCheck:
    phash = int(row.phash, 16) if row.phash else None
    area = (row.width or 0) * (row.height or 0)
    return ImageCheck(issues=list(row.validation_issues), metrics=dict(row.validation_metrics),
                      pixel_hash=row.pixel_hash, phash=phash, area=area)


def close_run(db: Session, run_id: int, settings: Settings) -> bool:
    """End a run whose images all have their result: group duplicates across the job, mark
    it completed. Whoever moves the run out of `running` first does it, once; the caller
    commits. False when images are still unchecked or the run is no longer running."""
    unchecked = select(Image.id).where(Image.validation_run_id == run_id,
                                       Image.validation_status == ValidationStatus.pending)
    if db.scalar(unchecked.limit(1)) is not None:
        return False
    run = db.execute(
        update(ValidationRun)
        .where(ValidationRun.id == run_id, ValidationRun.status == RunStatus.running)
        .values(status=RunStatus.completed, finished_at=utcnow())
        .returning(ValidationRun.level)
    ).first()
    if run is None:
        return False
    if run.level != "fast":
        from worker.validate.duplicates import find_duplicates  # numpy: see validate_batch

        rows = db.scalars(select(Image).where(Image.validation_run_id == run_id)).all()
        items = [(row.id, _stored_check(row)) for row in rows]
        by_id = {row.id: row for row in rows}
        for image_id, found in find_duplicates(items, run.level, settings.validation).items():
            row = by_id[image_id]
            row.validation_issues = [*row.validation_issues, found.code]
            # Why, for people and the app's duplicate view: the kept image, the DCT-hash
            # distance between the views that matched, and which views or hashes those were.
            row.validation_metrics = {**row.validation_metrics, "duplicate_of": found.keeper,
                                      "duplicate_distance": found.distance,
                                      "duplicate_means": list(found.means)}
            row.validation_status = ValidationStatus.duplicate
    return True


def validate_batch(sessions: sessionmaker[Session], settings: Settings, level: str,
                   image_ids: list[int], job_id: int, run_id: int) -> dict:
    with sessions() as db:
        if not _is_current(db, run_id, job_id):
            return {"run_id": run_id, "skipped": True}
        rows = db.execute(select(Image.id, Image.file_path).where(
            Image.id.in_(image_ids), Image.validation_run_id == run_id)).all()
    # numpy and Pillow load with the first batch, not at worker start: a worker is ready to
    # crawl a tenth of a second sooner
    from worker.validate.checks import check_image

    checked = 0
    for image_id, file_path in rows:
        check = check_image(Path(settings.data_dir, file_path), level, settings.validation)
        with sessions() as db:
            _store(db, image_id, run_id, level, check)
            db.commit()
        checked += 1
    with sessions() as db:
        # One statement: batches of a run finish together on several workers and threads.
        counted = db.execute(
            update(ValidationRun).where(ValidationRun.id == run_id)
            .values(batches_done=ValidationRun.batches_done + 1)
            .returning(ValidationRun.batches_done, ValidationRun.batches)
        ).first()
        if counted is None:
            return {"run_id": run_id, "skipped": True}
        done, batches = counted
        if done >= batches:
            close_run(db, run_id, settings)
        db.commit()
    return {"run_id": run_id, "checked": checked}


def _make_task(level: str):
    @app.task(bind=True, name=validation_task_name(level),
              rate_limit=app.conf.pixcrawler_settings.validation_rate_limits.get(level) or None)
    def task(self, image_ids: list[int], job_id: int, run_id: int) -> dict:
        settings: Settings = app.conf.pixcrawler_settings
        sessions = session_factory(settings)

        def attempt() -> dict:
            with database_call():  # a database outage is waited out, then named
                return validate_batch(sessions, settings, level, image_ids, job_id, run_id)

        try:
            return outlast_sync(attempt, settings.outage_limit,
                                f"validation batch {self.request.id}")
        except (ChunkFault, LocalWriteError) as exc:
            error = str(exc)
            log.error("validation batch %s of run %s stopped: %s", self.request.id, run_id,
                      error)
        except Exception as exc:
            log.exception("validation batch %s of run %s failed", self.request.id, run_id)
            error = f"{type(exc).__name__}: {exc}"
        try:
            fail_run(sessions, run_id, error)
        except Exception as exc:  # the database is gone for good: nothing more to record
            log.error("could not record the failure of run %s: %s", run_id, exc)
        return {"run_id": run_id, "error": error}

    task.__doc__ = f"Validate a batch of a job's images at the {level!r} level."
    return task


validate_image_fast_task, validate_image_medium_task, validate_image_slow_task = (
    _make_task(level) for level in LEVELS
)
