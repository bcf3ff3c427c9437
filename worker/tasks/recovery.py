"""Re-send chunks whose worker died: a running chunk that has not beaten its heartbeat for
`chunk_stale_after` seconds gets a new task id and goes back on the queue.

This is what makes a SIGKILLed worker harmless on every broker: the filesystem broker forgets a
message once a worker has taken it, and Redis would only restore it after its visibility timeout.
The old task, should it still be alive, sees the new task id and stops.

A worker can also die after taking a chunk's message but before marking the chunk running; on
the filesystem broker that chunk would stay pending for good. So a worker starting on it first
re-sends the pending chunks of running jobs whose message is no longer in the queue.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown
from sqlalchemy import ColumnElement, select, update

from worker.celery_app import CRAWL_QUEUE
from worker.db.models import Chunk, Job, JobStatus, utcnow
from worker.db.session import session_factory
from worker.folder_broker import queued_task_ids
from worker.lifecycle import Dispatch, send
from worker.settings import Settings

log = logging.getLogger(__name__)
_stop = threading.Event()


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
    """Re-queue stale running chunks once; returns how many were sent again."""
    cutoff = utcnow() - timedelta(seconds=settings.chunk_stale_after)
    return _resend(settings, celery, lambda _chunk: True, Chunk.status == JobStatus.running,
                   Chunk.updated_at < cutoff, why="whose worker stopped answering")


def resend_lost(settings: Settings, celery: Celery) -> int:
    """Re-send pending chunks whose message is gone from the filesystem broker's queue: a
    worker took it and died before marking the chunk running. Run before this worker takes
    any message itself; a message another live worker holds is sent twice at worst, and the
    chunk's task id lets only one of them run."""
    queued = queued_task_ids(settings.broker_dir / "in", CRAWL_QUEUE)
    return _resend(settings, celery, lambda chunk: chunk.task_id not in queued,
                   Chunk.status == JobStatus.pending, why="whose message a stopped worker took")


def _loop(settings: Settings, celery: Celery) -> None:
    last_error = ""
    while not _stop.is_set():
        try:
            sweep(settings, celery)
            last_error = ""
        except Exception as exc:
            # Said once, not every interval: e.g. a new database the API has yet to migrate.
            if str(exc) != last_error:
                log.warning("chunk recovery sweep failed (%s); will keep trying", exc)
            last_error = str(exc)
        _stop.wait(settings.recovery_interval)


@worker_init.connect
def _recover_lost(sender=None, **_) -> None:
    settings = sender.app.conf.pixcrawler_settings
    if not settings.uses_filesystem_broker:
        return
    try:
        resend_lost(settings, sender.app)
    except Exception as exc:  # e.g. a new database the API has yet to migrate: nothing lost
        log.warning("could not look for chunks a stopped worker took (%s)", exc)


@worker_ready.connect
def _start(sender=None, **_) -> None:
    celery = sender.app
    settings = celery.conf.pixcrawler_settings
    _stop.clear()
    threading.Thread(target=_loop, args=(settings, celery), name="chunk-recovery",
                     daemon=True).start()


@worker_shutdown.connect
def _shutdown(**_) -> None:
    _stop.set()
