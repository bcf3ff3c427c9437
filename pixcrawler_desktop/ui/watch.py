"""Keeps one job's progress and chunks current: the event stream when the server offers it,
polling every few seconds when it does not (a proxy that buffers, an older server, a
dropped connection).

Chunk lists are fetched after each progress event but never more than one at a time: if
events arrive while a fetch is in flight, one more fetch follows it, so a fast job cannot
queue up a backlog of chunk requests.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.errors import AuthError, ForbiddenError, NotFoundError
from pixcrawler_desktop.client.models import FINISHED, Chunk, Progress
from pixcrawler_desktop.ui.streams import ProgressStream
from pixcrawler_desktop.ui.tasks import TaskRunner

FATAL = (AuthError, ForbiddenError, NotFoundError)  # polling would only repeat these


class JobWatcher(QObject):
    progress = Signal(object)     # Progress
    chunks = Signal(list)         # list[Chunk]
    mode_changed = Signal(str)    # "live", "polling" or "idle"
    failed = Signal(object)       # an ApiError for the window to report

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner, poll_interval: float,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.job_id: int | None = None
        self.mode = "idle"
        self.last: Progress | None = None
        self._stream: ProgressStream | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._poll)
        self.set_poll_interval(poll_interval)
        self._polling = False
        self._chunks_busy = False
        self._chunks_again = False
        self._generation = 0  # results from an earlier watch() are dropped

    def set_poll_interval(self, seconds: float) -> None:
        self._timer.setInterval(max(100, int(seconds * 1000)))

    def set_client(self, client: PixCrawlerClient) -> None:
        self.client = client

    def watch(self, job_id: int, status: str) -> None:
        """Follow `job_id`: one fetch now, then live updates until it finishes."""
        self.stop()
        self._generation += 1
        self.job_id = job_id
        self.last = None
        self.refresh_chunks()
        if status in FINISHED:
            self._fetch_progress()
        else:
            self._start_stream()

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.deleteLater()
            self._stream = None
        self._timer.stop()
        self._generation += 1
        self._polling = False
        self._chunks_busy = self._chunks_again = False
        self._set_mode("idle")

    def restart(self) -> None:
        """After a reconnect or a new sign-in: pick up where the server is now."""
        if self.job_id is not None:
            status = self.last.status if self.last is not None else "running"
            self.watch(self.job_id, status)

    # -- stream ---------------------------------------------------------------------------
    def _start_stream(self) -> None:
        assert self.job_id is not None
        client = self.client
        self._stream = ProgressStream(lambda job_id: client.events(job_id, waiting=True),
                                      self.job_id, self)
        self._stream.progress.connect(self._on_progress)
        self._stream.waiting.connect(lambda _waiting: self.refresh_chunks())
        self._stream.ended.connect(self._stream_ended)
        self._stream.failed.connect(self._stream_failed)
        self._stream.start()
        self._set_mode("live")

    def _stream_ended(self) -> None:
        self._stream = None
        if self.last is None or self.last.status not in FINISHED:
            self._start_polling()  # closed early (a proxy, a deleted job): check by polling
        else:
            self._set_mode("idle")

    def _stream_failed(self, exc: BaseException) -> None:
        self._stream = None
        if isinstance(exc, FATAL):
            self._set_mode("idle")
            self.failed.emit(exc)
            return
        self._start_polling()

    # -- polling --------------------------------------------------------------------------
    def _start_polling(self) -> None:
        self._set_mode("polling")
        self._timer.start()
        self._poll()

    def _poll(self) -> None:
        if not self._polling:
            self._fetch_progress()

    def _fetch_progress(self) -> None:
        if self.job_id is None:
            return
        self._polling = True
        client, job_id, generation = self.client, self.job_id, self._generation
        self.runner.run(lambda: client.progress(job_id),
                        lambda p: self._polled(generation, p),
                        lambda exc: self._poll_failed(generation, exc), owner=self)

    def _polled(self, generation: int, progress: Progress) -> None:
        if generation != self._generation:
            return
        self._polling = False
        self._on_progress(progress)

    def _poll_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._polling = False
        if isinstance(exc, FATAL):
            self._timer.stop()
            self._set_mode("idle")
        self.failed.emit(exc)

    # -- shared ---------------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        if progress.job_id != self.job_id:
            return
        changed = self.last is None or progress != self.last
        self.last = progress
        if changed:
            self.progress.emit(progress)
            self.refresh_chunks()
        if progress.status in FINISHED and self._timer.isActive():
            self._timer.stop()
            self._set_mode("idle")

    def refresh_chunks(self) -> None:
        if self.job_id is None:
            return
        if self._chunks_busy:
            self._chunks_again = True
            return
        self._chunks_busy = True
        client, job_id, generation = self.client, self.job_id, self._generation
        self.runner.run(lambda: client.chunks(job_id),
                        lambda chunks: self._chunks_loaded(generation, chunks),
                        lambda exc: self._chunks_failed(generation, exc), owner=self)

    def _chunks_loaded(self, generation: int, chunks: list[Chunk]) -> None:
        if generation != self._generation:
            return
        self._chunks_busy = False
        self.chunks.emit(chunks)
        if self._chunks_again:
            self._chunks_again = False
            self.refresh_chunks()

    def _chunks_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._chunks_busy = self._chunks_again = False
        self.failed.emit(exc)

    def _set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.mode_changed.emit(mode)
