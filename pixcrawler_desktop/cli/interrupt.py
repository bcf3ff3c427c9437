"""Ctrl-C as a request, not an exception, while a crawl is running.

A KeyboardInterrupt can land anywhere, including half-way through an HTTP call or a file
write. During a crawl the first Ctrl-C (or SIGTERM) only sets a flag that the loops check,
so the job is cancelled through the API and what was downloaded is still saved; a second one
raises KeyboardInterrupt for a user who does not want to wait.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)


class Interrupt:
    """Use as a context manager in the main thread; `requested` tells a loop to wind down."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Pause a polling loop; returns True at once if an interrupt arrives."""
        return self._event.wait(seconds)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if self._event.is_set():
            raise KeyboardInterrupt
        self._event.set()

    def __enter__(self) -> Interrupt:
        if not _in_main_thread():
            return self  # only the main thread may set handlers; Ctrl-C goes there anyway
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


@contextlib.contextmanager
def uninterruptible() -> Iterator[None]:
    """Hold off Ctrl-C while stopping the local backend: a stop cut short would leave its
    processes running. A signal that came meanwhile is delivered afterwards."""
    if not _in_main_thread():
        yield
        return
    pending: list[int] = []
    previous = {sig: signal.signal(sig, lambda s, _f: pending.append(s)) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pending:
            raise KeyboardInterrupt


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
