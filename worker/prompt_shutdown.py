"""Warm shutdown without Celery's idle wait on the folder broker.

The filesystem broker runs Celery's blocking consumer loop, which looks at the shutdown flag a
SIGTERM sets only between two-second waits for messages, and then waits once more: an idle
embedded worker took 2-4 s to stop, and every app quit or `pixcrawler crawl` paid for it. A
`shutdown` control message to the worker itself ends the wait at once; it is Celery's own
remote shutdown, so running tasks still finish (or are requeued) as in any warm shutdown.
"""

from __future__ import annotations

import threading

from celery.signals import worker_shutting_down

from worker.celery_app import app


@worker_shutting_down.connect
def _wake(sender: str, how: str = "Warm", **_) -> None:
    if how != "Warm" or not app.conf.pixcrawler_settings.uses_filesystem_broker:
        return
    # From a thread: this runs inside the signal handler, which may have interrupted the
    # main thread while it held the broker connection's locks.
    threading.Thread(target=app.control.shutdown, kwargs={"destination": [sender]},
                     name="prompt-shutdown", daemon=True).start()
