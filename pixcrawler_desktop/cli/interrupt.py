"""Ctrl-C, SIGTERM and SIGHUP: every signal that ends the command ends it through Python's
`finally` blocks, so a local backend the command started is always stopped.

Python's default for SIGTERM and SIGHUP is to die on the spot, leaving the backend's API and
workers (in sessions of their own, so no terminal hang-up reaches them) running as orphans.
`ending_signals` turns them into KeyboardInterrupt for the whole command.

A KeyboardInterrupt can land anywhere, including half-way through an HTTP call or a file
write. During a crawl the first signal only sets a flag that the loops check, so the job is
cancelled through the API and what was downloaded is still saved; a second one raises
KeyboardInterrupt for a user who does not want to wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None),
                            getattr(signal, "SIGHUP", None)) if s is not None)
SIGHUP = getattr(signal, "SIGHUP", None)
_terminal_fds: list[int] = []  # stdin/stdout/stderr that were a terminal at the start


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

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        _after_hangup(signum)
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
def ending_signals() -> Iterator[None]:
    """For a whole command: SIGTERM and SIGHUP raise KeyboardInterrupt like Ctrl-C does,
    instead of killing the process before it can stop what it started."""
    if not _in_main_thread():
        yield
        return
    _terminal_fds[:] = [fd for fd in (0, 1, 2) if _isatty(fd)]

    def handle(signum: int, _frame: FrameType | None) -> None:
        _after_hangup(signum)
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handle) for sig in SIGNALS if sig != signal.SIGINT}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _after_hangup(signum: int) -> None:
    """A hang-up closed the terminal: point its streams at the null device, or the writes
    made while winding down (notes, the final report) fail with EIO half-way through the
    clean-up. Redirected streams (`--json > report.json`) are left alone."""
    if signum != SIGHUP:
        return
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        for fd in _terminal_fds:
            os.dup2(null, fd)
        os.close(null)
    _terminal_fds.clear()


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


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
