"""'This computer' as a server: the embedded backend behind that sign-in choice.

The app holds one for its whole run. Starting and stopping it take seconds (child processes,
health checks), so those calls are made off the UI thread; the backend's own messages (a
worker restarted by its watchdog) come from its threads and reach the UI through a signal,
which Qt queues to the UI thread. A lock keeps a restart from the panel and the stop at quit
from overlapping.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QVBoxLayout, QWidget

if TYPE_CHECKING:  # the backend's module (httpx, psutil) loads when "This computer" is used
    from pixcrawler_desktop.client.api import PixCrawlerClient
    from pixcrawler_desktop.client.models import User
    from pixcrawler_desktop.client.tokens import TokenStore
    from pixcrawler_desktop.local.backend import EmbeddedBackend
    from pixcrawler_desktop.ui.signin import ClientFactory


# Seconds the backend's processes get to end on their own at quit before they are killed;
# with the kill and the reaping, the local server is gone within 2 s of the user's choice.
QUIT_GRACE = 0.9


class _Finished(QObject):
    done = Signal()


class LocalServer(QObject):
    """Starts, restarts and stops this computer's backend; `event` relays its messages."""

    event = Signal(str)

    def __init__(self, data_dir: Path | None = None, *, concurrency: int = 4,
                 env: dict[str, str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self.concurrency = concurrency
        self.env = dict(env or {})
        self.backend: EmbeddedBackend | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def data_dir(self) -> Path:
        """The given folder, else the shared default (resolved on first use, not at launch)."""
        if self._data_dir is None:
            from pixcrawler_desktop.ui.settings import default_data_dir

            self._data_dir = default_data_dir()
        return self._data_dir

    @property
    def owned(self) -> bool:
        """Whether this app started the processes (and so may restart and must stop them)."""
        return self.backend is not None and self.backend.owned

    def _backend(self) -> EmbeddedBackend:
        if self.backend is None:
            from pixcrawler_desktop.local import EmbeddedBackend

            self.backend = EmbeddedBackend(self.data_dir, concurrency=self.concurrency,
                                           env=self.env, on_event=self.event.emit)
        return self.backend

    def set_env(self, name: str, value: str | None) -> None:
        """Set (None: remove) a variable of the processes' environment, from their next
        start (a restart)."""
        with self._lock:
            targets = [self.env] + ([self.backend.extra_env] if self.backend else [])
            for env in targets:
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = value

    # -- blocking calls, for background threads -----------------------------------------------
    def start(self) -> str:
        """The API URL of this data folder's backend, started here or joined if running."""
        from pixcrawler_desktop.local import BackendError
        from pixcrawler_desktop.local.backend import health

        with self._lock:
            if self._closed:
                raise BackendError("PixCrawler is quitting")
            backend = self._backend()
            # Started here already: starting again would merely attach and give up ownership.
            if backend.state is not None and (backend.owned or health(backend.api_url)):
                return backend.api_url
            return backend.start()

    def sign_in(self, client_factory: ClientFactory, store: TokenStore, *,
                restart: bool = False, concurrency: int | None = None
                ) -> tuple[PixCrawlerClient, User]:
        """Start (or restart) the backend and sign in with the automatic local account."""
        from pixcrawler_desktop.local.signin import sign_in_local

        url = self.restart(concurrency) if restart else self.start()
        client = client_factory(url, store)
        try:
            user = sign_in_local(client, self.data_dir)
        except BaseException:
            client.close()
            raise
        return client, user

    def restart(self, concurrency: int | None = None) -> str:
        """Stop both processes and start them again (with a new worker concurrency)."""
        from pixcrawler_desktop.local import BackendError

        with self._lock:
            if self._closed:
                raise BackendError("PixCrawler is quitting")
            backend = self._backend()
            if backend.state is not None and not backend.owned:
                raise BackendError("another PixCrawler window started this server; "
                                   "restart it from there")
            if concurrency:
                self.concurrency = backend.concurrency = concurrency
            return backend.restart()

    def restart_worker(self) -> None:
        with self._lock:
            self._backend().restart_worker()

    def status(self) -> dict | None:
        """EmbeddedBackend.status(), or None before the backend was first started."""
        backend = self.backend
        return backend.status() if backend is not None else None

    def log_tail(self, role: str) -> str:
        return self._backend().log_tail(role)

    def stop(self, grace: float = 10.0) -> None:
        """Stop what this app started (an attached backend is left to its owner); for good.
        `grace`: seconds the processes get before they are killed."""
        with self._lock:
            self._closed = True
            if self.backend is not None:
                self.backend.stop(grace)

    # -- from the UI thread -------------------------------------------------------------------
    def stop_and_wait(self, grace: float = QUIT_GRACE) -> None:
        """Stop at quit: the stop runs on a thread of its own while a local event loop keeps
        the windows painted; returns once both processes have ended. The grace is short: a
        quit that lingers with nothing on screen looks like a hang, and a chunk killed mid-way
        resumes at the next start (its job was cancelled or paused first, if the user said)."""
        if self.backend is None:
            with self._lock:
                self._closed = True
            return
        finished = _Finished()
        loop = QEventLoop()
        finished.done.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

        def work() -> None:
            try:
                self.stop(grace)
            finally:
                finished.done.emit()

        thread = threading.Thread(target=work, name="local-server-stop")
        thread.start()
        loop.exec()
        thread.join()


class StoppingNote(QWidget):
    """A small window while quitting stops the local server: without it the app vanished
    and the process lingered with nothing on screen."""

    TEXT = "Stopping the local server…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Dialog)
        self.setObjectName("stopping_note")
        self.setWindowTitle("PixCrawler — Quitting")
        self.label = QLabel(self.TEXT)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addWidget(self.label)
        layout.addWidget(bar)
        self.setMinimumWidth(300)

    def show(self) -> None:
        super().show()
        QApplication.processEvents()  # painted before the stop takes the next 2 s
