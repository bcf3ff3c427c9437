"""Background calls for the UI, in the manner of Anki's taskman.

Every network and disk call runs on a QThreadPool; its result (or exception) comes back to the
UI thread through a queued signal, so callbacks can touch widgets freely. A view that goes
away cancels its tasks (or passes itself as `owner`): queued tasks then never run and late
results are dropped instead of landing on deleted widgets.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


@dataclass(eq=False)
class Task:
    """A handle on one background call; `cancel()` drops its result."""

    id: int
    owner: QObject | None
    on_done: Done | None
    on_error: Failed | None
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        self.cancelled = True

    @property
    def wanted(self) -> bool:
        """False once cancelled or once the owning widget has been deleted."""
        return not self.cancelled and (self.owner is None or shiboken6.isValid(self.owner))


class _Call(QRunnable):
    def __init__(self, task: Task, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._task = task
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        if not self._task.wanted:
            self._relay.skipped.emit(self._task.id)
            return
        try:
            result, error = self._fn(), None
        except BaseException as exc:  # delivered to on_error on the UI thread
            result, error = None, exc
        self._relay.finished.emit(self._task.id, result, error)


class _Relay(QObject):
    """Lives on the UI thread; signals emitted from pool threads arrive here queued."""

    finished = Signal(int, object, object)
    skipped = Signal(int)


class TaskRunner(QObject):
    """Runs callables on its own thread pool and calls back on the UI thread."""

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._relay.skipped.connect(self._forget)
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)
        self._closed = False

    def run(self, fn: Callable[[], Any], on_done: Done | None = None,
            on_error: Failed | None = None, *, owner: QObject | None = None) -> Task:
        """Run `fn()` in the background; `on_done(result)` or `on_error(exc)` on the UI thread.

        Without `on_error`, exceptions are logged: a silent failure would look like a hang.
        """
        task = Task(next(self._ids), owner, on_done, on_error)
        if self._closed:
            task.cancel()
            return task
        self._tasks[task.id] = task
        self.pool.start(_Call(task, fn, self._relay))
        return task

    @property
    def pending(self) -> int:
        """Tasks started and not yet delivered (for tests and the quit dialog)."""
        return len(self._tasks)

    def cancel_owned_by(self, owner: QObject) -> None:
        for task in self._tasks.values():
            if task.owner is owner:
                task.cancel()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Drop queued work, ignore late results, wait for running calls up to the timeout.

        Returns False if some call was still running when the timeout passed; quitting then
        goes ahead anyway, as the calls only hold sockets that the OS closes.
        """
        self._closed = True
        for task in self._tasks.values():
            task.cancel()
        self.pool.clear()
        done = self.pool.waitForDone(timeout_ms)
        self._tasks.clear()
        return done

    @Slot(int)
    def _forget(self, task_id: int) -> None:
        self._tasks.pop(task_id, None)

    @Slot(int, object, object)
    def _deliver(self, task_id: int, result: object, error: object) -> None:
        task = self._tasks.pop(task_id, None)
        if task is None or not task.wanted:
            return
        if error is None:
            if task.on_done is not None:
                task.on_done(result)
        elif task.on_error is not None:
            task.on_error(error)  # type: ignore[arg-type]
        else:
            log.error("background task failed", exc_info=error)  # type: ignore[arg-type]
