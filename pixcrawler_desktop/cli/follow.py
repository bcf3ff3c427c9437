"""Following a job or a validation run to its end by polling the API.

Polling, not the server-sent events stream: the per-chunk bars need the chunks anyway, and a
loop that pauses on the interrupt flag notices Ctrl-C within one interval instead of sitting
in a blocking read.
"""

from __future__ import annotations

import threading
import time

from pixcrawler_desktop.cli.exitcodes import CliError
from pixcrawler_desktop.cli.interrupt import Interrupt
from pixcrawler_desktop.cli.progress import View
from pixcrawler_desktop.client import (
    ApiError,
    PixCrawlerClient,
    Progress,
    ValidationSummary,
)

POLL_SECONDS = 0.5
CANCEL_TIMEOUT = 60.0
# A validation run that checks no image for this long has lost its worker (or its tasks).
VALIDATION_STALL_SECONDS = 180.0


def follow_job(client: PixCrawlerClient, job_id: int, view: View, stop: Interrupt,
               interval: float = POLL_SECONDS) -> Progress:
    """Show the job until it finishes or an interrupt is requested; the last progress seen."""
    while True:
        chunks = client.chunks(job_id)
        progress = client.progress(job_id)
        view.job(progress, chunks)
        if progress.finished or stop.wait(interval):
            return progress


def cancel_and_wait(client: PixCrawlerClient, job_id: int, view: View,
                    interval: float = POLL_SECONDS) -> Progress:
    """Cancel through the API and wait until the server reports the job finished.

    A job that finished just before the cancel arrived is refused with 400; that is fine, it
    is over either way. The pauses here ignore the (already set) interrupt flag, so only a
    second Ctrl-C, raised as KeyboardInterrupt by the handler, cuts the wait short.
    """
    try:
        client.cancel(job_id)
    except ApiError as exc:
        if exc.status != 400:
            raise
    pause = threading.Event()
    deadline = time.monotonic() + CANCEL_TIMEOUT
    while True:
        progress = client.progress(job_id)
        view.job(progress, client.chunks(job_id))
        if progress.finished:
            return progress
        if time.monotonic() > deadline:
            raise CliError(f"job {job_id} was not cancelled within {CANCEL_TIMEOUT:.0f} s")
        pause.wait(interval)


def wait_validation(client: PixCrawlerClient, job_id: int, view: View, stop: Interrupt,
                    interval: float = POLL_SECONDS) -> ValidationSummary:
    """Show the job's latest validation run until it is no longer running (or interrupted).
    Gives up once the run has checked nothing for VALIDATION_STALL_SECONDS, rather than wait
    for ever on a server whose workers are gone."""
    stall = VALIDATION_STALL_SECONDS
    seen, moved_at = -1, time.monotonic()
    while True:
        summary = client.validation(job_id)
        if summary is None:
            raise CliError(f"job {job_id} has no validation run")
        view.validation(summary)
        if summary.status != "running" or stop.wait(interval):
            return summary
        if summary.validated != seen:
            seen, moved_at = summary.validated, time.monotonic()
        elif time.monotonic() - moved_at > stall:
            raise CliError(
                f"validation of job {job_id} checked no image for {stall:.0f} s "
                f"({summary.validated} of {summary.images_total} done): is a worker running? "
                "its results so far stay on the server")
