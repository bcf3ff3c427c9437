"""Noticing that the server is back after the connection was lost.

While offline, the app asks /health in the background with a growing pause (1 s, 2 s, 4 s,
up to 15 s), so a restarted server is noticed quickly without hammering one that is down
for a while. Any answer at all, even "degraded", means the server is reachable again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.errors import ConnectionLost
from pixcrawler_desktop.ui.tasks import TaskRunner

FIRST_DELAY_MS = 1000
MAX_DELAY_MS = 15000


class Reconnector(QObject):
    reconnected = Signal()
    attempt_failed = Signal(str)

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.attempts = 0
        self._delay = FIRST_DELAY_MS
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._try)
        self._busy = False

    @property
    def active(self) -> bool:
        return self._timer.isActive() or self._busy

    def set_client(self, client: PixCrawlerClient) -> None:
        self.client = client

    def start(self) -> None:
        """Begin retrying (a no-op when already retrying)."""
        if self.active:
            return
        self._delay = FIRST_DELAY_MS
        self.attempts = 0
        self._timer.start(self._delay)

    def stop(self) -> None:
        self._timer.stop()
        self.runner.cancel_owned_by(self)
        self._busy = False

    def _try(self) -> None:
        self._busy = True
        self.attempts += 1
        client = self.client
        self.runner.run(client.health, self._up, self._down, owner=self)

    def _up(self, _health: object) -> None:
        self._busy = False
        self.reconnected.emit()

    def _down(self, exc: BaseException) -> None:
        self._busy = False
        if not isinstance(exc, ConnectionLost):
            self.reconnected.emit()  # an HTTP error is still an answer: the server is there
            return
        self.attempt_failed.emit(exc.detail)
        self._delay = min(self._delay * 2, MAX_DELAY_MS)
        self._timer.start(self._delay)
