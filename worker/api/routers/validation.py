"""Validate a job's images (the seed's endpoint) and read the latest run's results."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy import func, select

from worker.api.deps import DB, UserId, WriterId, owned_job
from worker.db.models import Image, ValidationStatus
from worker.validation_runs import latest_run, queue_run, send_run

log = logging.getLogger(__name__)
router = APIRouter(prefix="/validation", tags=["validation"])

Level = Literal["fast", "medium", "slow"]


class ValidateBody(BaseModel):
    level: Level = "medium"


class ValidationStarted(BaseModel):
    job_id: int
    images_count: int
    validation_level: Level
    task_ids: list[str]
    message: str


class ValidationSummary(BaseModel):
    job_id: int
    run_id: int
    level: Level
    status: str
    images_total: int
    validated: int
    valid: int
    invalid: int
    duplicate: int
    issues: dict[str, int]
    started_at: datetime
    finished_at: datetime | None
    error: str | None


@router.post("/job/{job_id}/", response_model=ValidationStarted)
def validate_job(job_id: int, request: Request, user_id: WriterId, db: DB,
                 body: Annotated[ValidateBody | None, Body()] = None) -> ValidationStarted:
    level = (body or ValidateBody()).level
    job = owned_job(db, job_id, user_id, lock=True)
    started = queue_run(db, job, level, request.app.state.settings.validation_batch_size)
    if started is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No images found for job {job_id}")
    db.commit()
    try:
        send_run(request.app.state.celery, job_id, level, started)
    except Exception as exc:
        log.exception("could not send validation tasks for job %s", job_id)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"Task broker unavailable: {exc}") from None
    return ValidationStarted(job_id=job_id, images_count=started.images, validation_level=level,
                             task_ids=started.task_ids,
                             message=f"Validation started for {started.images} images")


@router.get("/job/{job_id}/", response_model=ValidationSummary)
def validation_summary(job_id: int, user_id: UserId, db: DB) -> ValidationSummary:
    owned_job(db, job_id, user_id)
    run = latest_run(db, job_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail=f"Job {job_id} has not been validated")
    by_status = {state: n for state, n in db.execute(
        select(Image.validation_status, func.count())
        .where(Image.validation_run_id == run.id).group_by(Image.validation_status))}
    issues: Counter[str] = Counter()
    for row in db.scalars(select(Image.validation_issues).where(
            Image.validation_run_id == run.id,
            Image.validation_status != ValidationStatus.pending)):
        issues.update(row)
    pending = by_status.get(ValidationStatus.pending, 0)
    return ValidationSummary(
        job_id=job_id, run_id=run.id, level=run.level, status=run.status,
        images_total=run.images_total, validated=run.images_total - pending,
        valid=by_status.get(ValidationStatus.valid, 0),
        invalid=by_status.get(ValidationStatus.invalid, 0),
        duplicate=by_status.get(ValidationStatus.duplicate, 0),
        issues=dict(sorted(issues.items())), started_at=run.created_at,
        finished_at=run.finished_at, error=run.error,
    )
