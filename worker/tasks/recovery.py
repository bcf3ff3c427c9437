"""Re-send chunks whose worker died: a running chunk that has not beaten its heartbeat for
`chunk_stale_after` seconds gets a new task id and goes back on the queue.

This is what makes a SIGKILLed worker harmless on every broker: the filesystem broker forgets a
message once a worker has taken it, and Redis would only restore it after its visibility timeout.
The old task, should it still be alive, sees the new task id and stops.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import select, update

from worker.db.models import Chunk, Job, JobStatus, utcnow
from worker.db.session import session_factory
from worker.lifecycle import Dispatch, send
from worker.settings import Settings

log = logging.getLogger(__name__)
_stop = threading.Event()


def sweep(settings: Settings, celery: Celery) -> int:
    """Re-queue stale running chunks once; returns how many were sent again."""
    cutoff = utcnow() - timedelta(seconds=settings.chunk_stale_after)
    sessions = session_factory(settings)
    dispatches = []
    with sessions() as db:
        stale = db.execute(
            select(Chunk).join(Job, Job.id == Chunk.job_id)
            .where(Chunk.status == JobStatus.running, Chunk.updated_at < cutoff,
                   Job.status == JobStatus.running)
        ).scalars().all()
        for chunk in stale:
            new_id = str(uuid.uuid4())
            taken = db.execute(
                update(Chunk)
                .where(Chunk.id == chunk.id, Chunk.task_id == chunk.task_id,
                       Chunk.status == JobStatus.running)
                .values(task_id=new_id, status=JobStatus.pending)
            ).rowcount
            if taken:
                dispatches.append(Dispatch(new_id, chunk.id, chunk.job_id, chunk.keyword,
                                           chunk.engine, chunk.target))
        db.commit()
    if dispatches:
        log.warning("re-sending %d chunk(s) whose worker stopped answering: %s",
                    len(dispatches), [d.chunk_id for d in dispatches])
        send(celery, dispatches)
    return len(dispatches)


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
