"""Nothing waits for ever: chunks whose task was lost are sent again, and validation runs whose
images all have their result are closed, by a sweep that every worker runs.

A chunk's task can be lost in three ways, and each has its sign:
- its worker died while running it: the chunk is `running` but its heartbeat went silent for
  `chunk_stale_after` seconds;
- its worker died after taking its message but before starting it, or the broker lost the
  message (Redis restarted without persistence): the chunk is `pending`, its message is no
  longer in the broker's queue, and no live worker holds it. Each worker keeps a row in
  `workers` with the task ids it holds (reserved or running), refreshed every
  `recovery_interval` and at once when it takes a message; a worker silent for
  `chunk_stale_after` seconds is dead.
Either way the chunk gets a new task id and goes back on the queue. The old task, should it
still be alive or its message come back, sees the new id and stops; the new one resumes.

A validation run ends once every image has its result, even if a batch's report was lost; if
its batches' messages were lost, the unchecked images are sent again as new batches.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from celery import Celery
from celery.signals import task_received, worker_init, worker_ready, worker_shutdown
from celery.worker import state as worker_state
from sqlalchemy import ColumnElement, delete, exists, or_, select, update

from worker.broker_queue import queued_task_ids
from worker.celery_app import CRAWL_QUEUE, VALIDATION_QUEUE
from worker.db.dialects import dialect_insert
from worker.db.migrate import HEAD, current_revision
from worker.db.models import (
    Chunk,
    Image,
    Job,
    JobStatus,
    RunStatus,
    ValidationRun,
    ValidationStatus,
    WorkerPresence,
    utcnow,
)
from worker.db.session import session_factory
from worker.lifecycle import Dispatch, send
from worker.settings import Settings
from worker.tasks.validation import close_run
from worker.validation_runs import Started, send_run

log = logging.getLogger(__name__)
_stop = threading.Event()
_wake = threading.Event()  # a message was taken: say so before anyone sweeps
_PRESENCE_MIN_GAP = 0.1  # seconds between two presence writes when messages pour in
_STARTUP_GRACE = 2.0  # a chunk queued this recently may still be on its way to the broker
_MIGRATION_WAIT = 60.0  # seconds a starting worker waits for the API to migrate the database
_MIGRATION_POLL = 0.1


def _resend(settings: Settings, celery: Celery, lost: Callable[[Chunk], bool],
            *conditions: ColumnElement[bool], why: str) -> int:
    """Give the chunks of running jobs that match `conditions` and `lost` a new task id, mark
    them pending and send them again; returns how many were sent."""
    dispatches = []
    with session_factory(settings)() as db:
        found = db.execute(
            select(Chunk).join(Job, Job.id == Chunk.job_id)
            .where(Job.status == JobStatus.running, *conditions)
        ).scalars().all()
        for chunk in filter(lost, found):
            new_id = str(uuid.uuid4())
            taken = db.execute(
                update(Chunk)
                .where(Chunk.id == chunk.id, Chunk.task_id == chunk.task_id,
                       Chunk.status == chunk.status)
                .values(task_id=new_id, status=JobStatus.pending)
            ).rowcount
            if taken:
                dispatches.append(Dispatch(new_id, chunk.id, chunk.job_id, chunk.keyword,
                                           chunk.engine, chunk.target))
        db.commit()
    if dispatches:
        log.warning("re-sending %d chunk(s) %s: %s", len(dispatches), why,
                    [d.chunk_id for d in dispatches])
        send(celery, dispatches)
    return len(dispatches)


def sweep(settings: Settings, celery: Celery) -> int:
    """Re-queue running chunks whose heartbeat went silent; returns how many were sent."""
    cutoff = utcnow() - timedelta(seconds=settings.chunk_stale_after)
    return _resend(settings, celery, lambda _chunk: True, Chunk.status == JobStatus.running,
                   Chunk.updated_at < cutoff, why="whose worker stopped answering")


def resend_stranded(settings: Settings, celery: Celery, grace: float) -> int:
    """Re-send pending chunks, queued more than `grace` seconds ago, whose message neither
    the broker's queue nor a live worker holds. The queue is read before the workers, so a
    message taken meanwhile is seen in one or the other."""
    queued = queued_task_ids(settings, CRAWL_QUEUE)
    if queued is None:
        return 0  # a broker whose queue cannot be read: only heartbeats recover chunks
    held = live_holdings(settings)
    cutoff = utcnow() - timedelta(seconds=grace)
    # A chunk parked for its search quota is held by a worker only as a timer (Celery does
    # not list those), so it counts as stranded only once its slot is `grace` past.
    return _resend(settings, celery,
                   lambda chunk: chunk.task_id not in queued and chunk.task_id not in held,
                   Chunk.status == JobStatus.pending, Chunk.updated_at < cutoff,
                   or_(Chunk.waiting_until.is_(None), Chunk.waiting_until < cutoff),
                   why="whose message no broker queue or live worker holds")


def live_holdings(settings: Settings) -> set[str]:
    """Task ids held by workers seen within `chunk_stale_after` seconds."""
    cutoff = utcnow() - timedelta(seconds=settings.chunk_stale_after)
    with session_factory(settings)() as db:
        lists = db.scalars(select(WorkerPresence.holding)
                           .where(WorkerPresence.seen_at >= cutoff))
        return {task_id for holding in lists for task_id in holding}


def held_task_ids() -> list[str]:
    """The tasks this worker process has taken from the broker and not yet finished."""
    requests = [*worker_state.reserved_requests, *worker_state.active_requests]
    return sorted({request.id for request in requests})


def report_presence(settings: Settings, name: str, holding: list[str]) -> None:
    table = WorkerPresence.__table__
    with session_factory(settings)() as db:
        insert = dialect_insert(db)(table).values(name=name, seen_at=utcnow(), holding=holding)
        db.execute(insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"seen_at": insert.excluded.seen_at, "holding": insert.excluded.holding}))
        # Rows of workers gone for long are kept out of every sweep anyway; drop them.
        gone = utcnow() - timedelta(seconds=10 * settings.chunk_stale_after)
        db.execute(delete(WorkerPresence).where(WorkerPresence.seen_at < gone))
        db.commit()


def forget_presence(settings: Settings, name: str) -> None:
    with session_factory(settings)() as db:
        db.execute(delete(WorkerPresence).where(WorkerPresence.name == name))
        db.commit()


def resend_lost_batches(settings: Settings, celery: Celery) -> int:
    """Validation runs whose batch messages were all lost (a broker restart) while images
    are still unchecked: send those images again as new batches of the run, their task ids
    going on from the run's. Returns how many batches were sent."""
    queued = queued_task_ids(settings, VALIDATION_QUEUE)
    if queued is None:
        return 0
    alive = queued | live_holdings(settings)
    cutoff = utcnow() - timedelta(seconds=settings.chunk_stale_after)
    sent = 0
    sessions = session_factory(settings)
    with sessions() as db:
        runs = db.execute(select(ValidationRun.id, ValidationRun.job_id, ValidationRun.level,
                                 ValidationRun.task_offset, ValidationRun.batches)
                          .where(ValidationRun.status == RunStatus.running,
                                 ValidationRun.created_at < cutoff)).all()
    for run_id, job_id, level, offset, batches in runs:
        if any(f"task_{job_id}_{offset + i}" in alive for i in range(batches)):
            continue
        with sessions() as db:
            unchecked = list(db.scalars(select(Image.id).where(
                Image.validation_run_id == run_id,
                Image.validation_status == ValidationStatus.pending).order_by(Image.id)))
            if not unchecked:
                continue  # close_runs ends it
            size = settings.validation_batch_size
            parts = [unchecked[i:i + size] for i in range(0, len(unchecked), size)]
            grown = db.execute(
                update(ValidationRun)
                .where(ValidationRun.id == run_id, ValidationRun.status == RunStatus.running,
                       ValidationRun.batches == batches)
                .values(batches=ValidationRun.batches + len(parts))
            ).rowcount
            db.commit()
        if not grown:
            continue
        ids = [f"task_{job_id}_{offset + batches + i}" for i in range(len(parts))]
        log.warning("re-sending %d batch(es) of validation run %s, whose messages were lost",
                    len(parts), run_id)
        send_run(celery, job_id, level, Started(run_id, level, len(unchecked), ids, parts))
        sent += len(parts)
    return sent


def close_runs(settings: Settings) -> int:
    """Close running validation runs whose images all have their result (a batch's report
    was lost); returns how many were closed."""
    unchecked = exists().where(Image.validation_run_id == ValidationRun.id,
                               Image.validation_status == ValidationStatus.pending)
    closed = 0
    with session_factory(settings)() as db:
        run_ids = db.scalars(select(ValidationRun.id).where(
            ValidationRun.status == RunStatus.running, ~unchecked)).all()
        for run_id in run_ids:
            if close_run(db, run_id, settings):
                db.commit()
                closed += 1
                log.warning("closed validation run %s: all its images were checked", run_id)
            else:
                db.rollback()
    return closed


class _Recovery:
    """The sweeping thread of one worker process."""

    def __init__(self, settings: Settings, celery: Celery) -> None:
        self.settings = settings
        self.celery = celery
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self) -> None:
        last_error = ""
        next_sweep = 0.0
        while not _stop.is_set():
            try:
                report_presence(self.settings, self.name, held_task_ids())
                if time.monotonic() >= next_sweep:
                    sweep(self.settings, self.celery)
                    resend_stranded(self.settings, self.celery, self.settings.chunk_stale_after)
                    resend_lost_batches(self.settings, self.celery)
                    close_runs(self.settings)
                    next_sweep = time.monotonic() + self.settings.recovery_interval
                last_error = ""
            except Exception as exc:
                # Said once, not every interval: e.g. a database or broker that is down.
                if str(exc) != last_error:
                    log.warning("recovery sweep failed (%s); will keep trying", exc)
                last_error = str(exc)
                next_sweep = time.monotonic() + self.settings.recovery_interval
            _wake.wait(max(0.0, next_sweep - time.monotonic()))
            _wake.clear()
            _stop.wait(_PRESENCE_MIN_GAP)
        try:
            forget_presence(self.settings, self.name)
        except Exception as exc:
            log.warning("could not remove this worker's presence row (%s)", exc)


_current: _Recovery | None = None


def wait_for_migration(database_url: str, timeout: float = _MIGRATION_WAIT) -> bool:
    """Until the database is at (or past) HEAD: the API migrates it as it starts, and the
    embedded backend starts the API and the first worker together, so at a brand-new
    database's first start the worker's sweep would otherwise query tables not made yet.
    One small query a poll; False, said in the log, if the bound passes first."""
    deadline = time.monotonic() + timeout
    while True:
        revision = current_revision(database_url)
        if revision is not None and revision >= HEAD:  # zero-padded numbers: text order
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(_MIGRATION_POLL)
    log.warning("the database is at migration %s, not %s, after %.0f s: starting anyway "
                "(the API migrates it when it starts; is it running?)",
                revision or "none", HEAD, timeout)
    return False


@worker_init.connect
def _recover_lost(sender=None, **_) -> None:
    """Before this worker takes any message: once the database is migrated, re-send what a
    stopped worker took with it."""
    settings = sender.app.conf.pixcrawler_settings
    wait_for_migration(settings.database_url)
    try:
        resend_stranded(settings, sender.app, _STARTUP_GRACE)
    except Exception as exc:  # e.g. a database that never got migrated: nothing to recover
        log.info("could not look for chunks a stopped worker took (%s)", exc)


@worker_ready.connect
def _start(sender=None, **_) -> None:
    global _current
    celery = sender.app
    _stop.clear()
    _current = _Recovery(celery.conf.pixcrawler_settings, celery)
    threading.Thread(target=_current.run, name="chunk-recovery", daemon=True).start()


@task_received.connect
def _received(request=None, **_) -> None:
    _wake.set()


@worker_shutdown.connect
def _shutdown(**_) -> None:
    _stop.set()
    _wake.set()
