"""Following a job or a validation run to its end by polling the API.

Polling, not the server-sent events stream: the per-chunk bars need the chunks anyway, and a
loop that pauses on the interrupt flag notices Ctrl-C within one interval instead of sitting
in a blocking read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from pixcrawler_desktop.cli.exitcodes import CliError
from pixcrawler_desktop.cli.interrupt import Interrupt
from pixcrawler_desktop.cli.progress import View
from pixcrawler_desktop.client import (
    FINISHED,
    ApiError,
    ConnectionLost,
    PixCrawlerClient,
    Progress,
    ValidationSummary,
)

T = TypeVar("T")
POLL_SECONDS = 0.5
# How long a follow waits for a server that went away (restarting, say) before it gives up.
RECONNECT_LIMIT = 300.0
CANCEL_TIMEOUT = 60.0
# A validation run that checks no image for this long has lost its worker (or its tasks).
VALIDATION_STALL_SECONDS = 180.0


def follow_job(client: PixCrawlerClient, job_id: int, view: View, stop: Interrupt,
               interval: float = POLL_SECONDS,
               say: Callable[[str], None] = lambda _line: None) -> Progress:
    """Show the job until it finishes or an interrupt is requested; the last progress seen.
    A server that goes away meanwhile is waited for (see `patiently`)."""
    while True:
        chunks, progress = patiently(
            lambda: (client.chunks(job_id), client.progress(job_id)), stop, interval, say)
        open_chunks = [c for c in chunks if c.status not in FINISHED]
        if chunks and not open_chunks and not progress.finished:
            # Progress answers are cached for a moment; the job itself says it ended now.
            job = patiently(lambda: client.job(job_id), stop, interval, say)
            if job.status in FINISHED:
                progress = Progress(job_id=job.id, **job.model_dump(
                    include=set(Progress.model_fields) - {"job_id", "estimated_completion"}))
        view.job(progress, chunks)
        # The last few chunks are looked at more often, so the end is seen when it comes.
        last = len(open_chunks) <= max(1, len(chunks) // 10)
        if progress.finished or stop.wait(interval / 5 if last else interval):
            return progress


def patiently(call: Callable[[], T], stop: Interrupt, interval: float,
              say: Callable[[str], None]) -> T:
    """`call()`, tried again every `interval` while the server cannot be reached (an API
    restart), saying so in a line when it goes and when it is back. Gives up with the
    connection error after RECONNECT_LIMIT, or when interrupted."""
    lost_at: float | None = None
    while True:
        try:
            result = call()
        except ConnectionLost as exc:
            now = time.monotonic()
            if lost_at is None:
                lost_at = now
                say(f"{exc.detail}; reconnecting …")
            elif now - lost_at > RECONNECT_LIMIT:
                raise
            if stop.wait(interval):
                raise
            continue
        if lost_at is not None:
            say("reconnected to the server")
        return result


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
                    interval: float = POLL_SECONDS,
                    say: Callable[[str], None] = lambda _line: None) -> ValidationSummary:
    """Show the job's latest validation run until it is no longer running (or interrupted).
    Gives up once the run has checked nothing for VALIDATION_STALL_SECONDS, rather than wait
    for ever on a server whose workers are gone."""
    stall = VALIDATION_STALL_SECONDS
    seen, moved_at = -1, time.monotonic()
    while True:
        summary = patiently(lambda: client.validation(job_id), stop, interval, say)
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
