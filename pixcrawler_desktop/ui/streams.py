"""A job's server-sent progress events, read on a background thread and delivered on the UI
thread.

The stream blocks for as long as the job runs, so it gets a thread of its own rather than
a slot in the task pool. Events travel through one long-lived hub object: a thread that is
still blocked when its view goes away then emits into something that still exists, and its
late events are dropped by stream id.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from pixcrawler_desktop.client.models import Progress, Waiting

log = logging.getLogger(__name__)

Events = Callable[[int], Iterator[Progress | Waiting]]


class _Hub(QObject):
    # stream id, "progress" | "waiting" | "ended" | "failed", payload
    event = Signal(int, str, object)

    def __init__(self) -> None:
        super().__init__(QCoreApplication.instance())
        self.streams: dict[int, ProgressStream] = {}
        self.event.connect(self._dispatch)

    @Slot(int, str, object)
    def _dispatch(self, stream_id: int, kind: str, payload: object) -> None:
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream._receive(kind, payload)


_hub: _Hub | None = None
_ids = itertools.count(1)


def hub() -> _Hub:
    """Created on first use, on the UI thread, as a child of the application."""
    global _hub
    if _hub is None:
        _hub = _Hub()
    return _hub


class ProgressStream(QObject):
    """`progress(Progress)` or `waiting(Waiting)` per event; then `ended()` when the server
    closes the stream, or `failed(exc)`. `stop()` silences it at once; the thread itself ends
    at its next event, or when the client is closed."""

    progress = Signal(object)
    waiting = Signal(object)
    ended = Signal()
    failed = Signal(object)

    def __init__(self, events: Events, job_id: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self._events = events
        self._id = next(_ids)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        stream_id = self._id
        self.destroyed.connect(lambda *_: hub().streams.pop(stream_id, None))

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped.is_set()

    def start(self) -> None:
        hub().streams[self._id] = self
        self._thread = threading.Thread(
            target=_read, args=(self._events, self.job_id, self._id, self._stopped, hub().event),
            name=f"events-job-{self.job_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        hub().streams.pop(self._id, None)

    def _receive(self, kind: str, payload: object) -> None:
        if self._stopped.is_set():
            return
        if kind == "progress":
            self.progress.emit(payload)
        elif kind == "waiting":
            self.waiting.emit(payload)
        elif kind == "ended":
            self._stopped.set()
            self.ended.emit()
        else:
            self._stopped.set()
            self.failed.emit(payload)


def _read(events: Events, job_id: int, stream_id: int, stopped: threading.Event,
          relay: Signal) -> None:
    """The thread: touches only its arguments, never the (UI-thread) stream object."""
    try:
        for event in events(job_id):
            if stopped.is_set():
                return
            relay.emit(stream_id, "waiting" if isinstance(event, Waiting) else "progress", event)
    except BaseException as exc:
        if not stopped.is_set():
            relay.emit(stream_id, "failed", exc)
        return
    if not stopped.is_set():
        relay.emit(stream_id, "ended", None)
