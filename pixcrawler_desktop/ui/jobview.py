"""The job view: counters, overall progress, the chunk grid, the chunks' warnings and the
validation summary.

It follows one job through a JobWatcher (live events, or polling as a fallback) and keeps
the validation summary current while a validation run is going, since the event stream
ends with the crawl and says nothing about validation.

The counters say what the chunks really do: "running" and "queued" come from the chunks' own
states (a job not yet started has nothing queued), and a line under the title says why a job
waits: it was never started, or it was paused when the app quit.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.models import (
    FINISHED,
    Chunk,
    Engine,
    Job,
    Progress,
    ValidationSummary,
    failure_reasons,
)
from pixcrawler_desktop.client.quota import job_wait
from pixcrawler_desktop.client.shortfall import job_summary
from pixcrawler_desktop.ui import roles
from pixcrawler_desktop.ui.chunks_model import ChunkGridModel
from pixcrawler_desktop.ui.delegates import ChunkCellDelegate, legend_html
from pixcrawler_desktop.ui.forms import role_label
from pixcrawler_desktop.ui.jobs_model import fold_progress
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.watch import JobWatcher
from pixcrawler_desktop.ui.widgets import Counter, Placeholder

AWAIT_POLLS = 20  # polls to wait for a just-started validation run to show up
MODE_TEXT = {"live": "● Live", "polling": "Polling every {s:g} s", "idle": ""}


def summary_text(summary: ValidationSummary) -> str:
    state = {"running": f"running, {summary.validated} of {summary.images_total} checked",
             "completed": "completed", "failed": "failed"}.get(summary.status, summary.status)
    return f"{summary.level.capitalize()} validation {state}"


def issues_text(summary: ValidationSummary) -> str:
    if not summary.issues:
        return "No issues found." if summary.status == "completed" else ""
    top = sorted(summary.issues.items(), key=lambda kv: (-kv[1], kv[0]))
    return "Issues: " + ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in top)


class JobView(QWidget):
    progress = Signal(object)            # Progress, for the jobs table
    failed = Signal(object)              # an error for the window to report
    validation_finished = Signal(int)    # job id: the gallery should reload outcomes

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner, poll_interval: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.poll_interval = poll_interval
        self.job: Job | None = None
        self.summary: ValidationSummary | None = None
        self.paused_since: datetime | None = None  # paused at quit (ui.pause), or None
        self.watcher = JobWatcher(client, runner, poll_interval, self)
        self.watcher.progress.connect(self._on_progress)
        self.watcher.chunks.connect(self._on_chunks)
        self.watcher.mode_changed.connect(self._on_mode)
        self.watcher.failed.connect(self.failed)
        self.chunk_model = ChunkGridModel(self)
        self._validation_timer = QTimer(self)
        self._validation_timer.timeout.connect(self.refresh_validation)
        self._validation_busy = False
        self._await_from: int | None = None  # run id shown when a new run was expected
        self._await_left = 0
        self.engines: list[Engine] = []  # their search quotas, for the wait line
        self._wait_timer = QTimer(self, interval=1000)  # counts a quota wait down
        self._wait_timer.timeout.connect(self._show_waits)
        self._build()

    def _build(self) -> None:
        content = QWidget()
        self.title = role_label("", "heading", wrap=False, name="job_title")
        self.status_label = QLabel(objectName="job_status")
        self.mode_label = role_label("", "subtle", wrap=False, name="job_mode")
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.status_label)
        header.addStretch(1)
        header.addWidget(self.mode_label)

        self.counters = {
            "chunks": Counter("chunks done", "counter_chunks"),
            "running": Counter("running", "counter_running"),
            "queued": Counter("queued", "counter_queued"),
            "failed": Counter("failed", "counter_failed"),
            "images": Counter("images", "counter_images"),
            "eta": Counter("estimated to finish", "counter_eta"),
        }
        counters = QHBoxLayout()
        for counter in self.counters.values():
            counters.addWidget(counter)
        self.progress_bar = QProgressBar(objectName="job_progress")
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setFormat("%p%")
        self.state_line = role_label("", "notice", name="job_state_line")
        self.state_line.hide()

        self.grid = QTableView(objectName="chunk_grid")
        self.grid.setModel(self.chunk_model)
        self.grid.setItemDelegate(ChunkCellDelegate(self.grid))
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setShowGrid(False)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.verticalHeader().setDefaultSectionSize(28)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.legend = role_label(legend_html(), "subtle", name="chunk_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("What the colours of the chunk cells mean; a dashed cell is "
                               "queued, a filled part is the share downloaded")
        self.warnings_label = role_label("", "caution", name="chunk_warnings")
        self.warnings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label.hide()
        self.wait_label = role_label("", "subtle", name="quota_wait")
        self.wait_label.hide()

        self.validation_box = QGroupBox("Validation", objectName="validation")
        self.validation_state = QLabel(objectName="validation_state")
        self.validation_counts = QLabel(objectName="validation_counts")
        self.validation_issues = role_label("", "subtle", name="validation_issues")
        box = QGridLayout(self.validation_box)
        box.addWidget(self.validation_state, 0, 0)
        box.addWidget(self.validation_counts, 0, 1)
        box.addWidget(self.validation_issues, 1, 0, 1, 2)
        self.validation_box.hide()

        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(header)
        layout.addWidget(self.state_line)
        layout.addLayout(counters)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.wait_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self.validation_box)
        self.placeholder = Placeholder(content, "Select a job to follow its progress.")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.placeholder)

    # -- public ---------------------------------------------------------------------------
    def set_client(self, client: PixCrawlerClient) -> None:
        self.client = client
        self.engines = []
        self.watcher.set_client(client)

    def set_poll_interval(self, seconds: float) -> None:
        self.poll_interval = seconds
        self.watcher.set_poll_interval(seconds)
        self._validation_timer.setInterval(max(100, int(seconds * 1000)))
        self._on_mode(self.watcher.mode)

    def show_job(self, job: Job | None) -> None:
        """Follow `job` (None: show the hint). Re-showing the same job keeps the stream."""
        if job is None:
            self.stop()
            self.job = None
            self.placeholder.show_content(False)
            return
        same = self.job is not None and self.job.id == job.id
        self.job = job
        self.placeholder.show_content(True)
        self._show_counts(job)
        if same and self.watcher.job_id == job.id:
            return
        self.chunk_model.set_shape(job.keywords, job.engines)
        self._show_warnings([])
        self.summary = None
        self._await_from = None
        self._validation_timer.stop()
        self.runner.cancel_owned_by(self)  # the previous job's validation fetch
        self._validation_busy = False
        self.validation_box.hide()
        self.watcher.watch(job.id, job.status)
        self.refresh_validation()
        if not self.engines:  # their quotas, once per server
            client = self.client
            self.runner.run(client.engines, lambda e: self._engines_known(client, e),
                            lambda _exc: None, owner=self)

    def set_paused(self, since: datetime | None) -> None:
        """The shown job was paused at quit (at `since`), or is not (None)."""
        self.chunk_model.set_paused(since is not None)
        if since != self.paused_since:
            self.paused_since = since
            if self.job is not None:
                self._show_counts(self.job)

    def _engines_known(self, client: PixCrawlerClient, engines: list[Engine]) -> None:
        if client is self.client:
            self.engines = engines
            self._show_waits()

    def update_job(self, job: Job) -> None:
        """A newer copy of the shown job (from the list): counters only, no refetch."""
        if self.job is not None and job.id == self.job.id:
            was_running = self.job.status not in FINISHED
            self.job = job
            self._show_counts(job)
            if was_running and job.status in FINISHED and job.validate_level:
                self.expect_validation()  # the server validates by itself after the crawl

    def reload(self) -> None:
        """Fetch everything again (Refresh, a reconnect, a new sign-in)."""
        if self.job is not None:
            self.watcher.watch(self.job.id, self.job.status)
            self.refresh_validation()

    def stop(self) -> None:
        self.watcher.stop()
        self._validation_timer.stop()
        self.runner.cancel_owned_by(self)
        self._validation_busy = False

    # -- updates --------------------------------------------------------------------------
    def _on_progress(self, progress: Progress) -> None:
        if self.job is None or progress.job_id != self.job.id:
            return
        was_running = self.job.status not in FINISHED
        self.job = fold_progress(self.job, progress)
        self._show_counts(self.job, progress)
        self.progress.emit(progress)
        if was_running and progress.status in FINISHED and self.job.validate_level:
            self.expect_validation()

    def _on_chunks(self, chunks: list[Chunk]) -> None:
        self.chunk_model.set_chunks(chunks)
        self._show_warnings(chunks)
        self._show_waits()
        if self.job is not None:
            self._show_chunk_states(self.job)

    def _show_waits(self) -> None:
        """Why the job is slow, in one line, while chunks wait for a search quota; their
        cells count down with it."""
        waiting = self.chunk_model.refresh_waits()
        text = job_wait(self.chunk_model.chunks(), self.engines) if waiting else None
        if (text or "") != self.wait_label.text():
            self.wait_label.setText(text or "")
            self.wait_label.setVisible(bool(text))
        if waiting and not self._wait_timer.isActive():
            self._wait_timer.start()
        elif not waiting:
            self._wait_timer.stop()

    def _show_warnings(self, chunks: list[Chunk]) -> None:
        """Each warning once (an engine warns alike for every keyword); the cells marked with
        a warning sign say which chunks it came from."""
        terms = self.job.warnings if self.job is not None else []  # its sources' terms
        warnings = list(dict.fromkeys(
            [*terms, *(w for chunk in chunks for w in chunk.warnings)]))
        lines = [f"Warning: {w}" for w in warnings]
        failed = [c for c in chunks if c.status == "failed"]
        if failed and self.job is not None and self.job.status in FINISHED:
            head = "Failed" if self.job.status == "failed" else (
                f"Completed with {len(failed)} failed chunk{'s' if len(failed) > 1 else ''}")
            lines.insert(0, f"{head}: {'; '.join(failure_reasons(chunks))}. "
                            "Retry resumes the failed chunks.")
        text = "\n".join(lines)
        if text != self.warnings_label.text():
            self.warnings_label.setText(text)
            self.warnings_label.setVisible(bool(text))

    def _on_mode(self, mode: str) -> None:
        self.mode_label.setText(MODE_TEXT.get(mode, "").format(s=self.poll_interval))

    def shown_status(self, job: Job) -> str:
        return "paused" if self.paused_since is not None and job.status == "cancelled" \
            else job.status

    def _state_text(self, job: Job) -> str:
        """Why the job waits, in one line; "" when it does not."""
        status = self.shown_status(job)
        if status == "pending":
            n = job.total_chunks
            return (f"Not started: its {n} chunk{'s' if n != 1 else ''} wait for Start "
                    "(Ctrl+Return).")
        if status == "paused" and self.paused_since is not None:
            when = roles.local_time(self.paused_since)
            return (f"Paused when PixCrawler quit ({when}). Start goes on from where it "
                    f"stopped; its {job.downloaded_images} images are kept.")
        b = job.breakdown
        if status in FINISHED and b is not None and b.downloaded < b.wanted:
            return f"Images: {job_summary(job)}."  # where the missing ones went
        return ""

    def _show_chunk_states(self, job: Job) -> None:
        """Running and queued chunks as the chunks say, once their list is known; nothing is
        queued before Start or after the job ended."""
        chunks = self.chunk_model.chunks()
        if job.status != "running":
            running = queued = 0
        elif chunks:
            running = sum(1 for c in chunks if c.status == "running")
            queued = sum(1 for c in chunks if c.status == "pending")
        else:
            running = queued = "–"
        self.counters["running"].set(running)
        self.counters["queued"].set(queued, "Sent to the workers, waiting for a free one "
                                            "or for the engine's search quota")

    def _show_counts(self, job: Job, progress: Progress | None = None) -> None:
        self.title.setText(job.name)
        self.title.setToolTip(f"Job {job.id}")
        status = self.shown_status(job)
        if self.status_label.text() != status:  # restyling is slow: only on a change
            self.status_label.setText(status)
            color = roles.status_color(status).name()
            self.status_label.setStyleSheet(
                f"color: white; background: {color}; border-radius: 8px; padding: 1px 8px;")
        line = self._state_text(job)
        if line != self.state_line.text():
            self.state_line.setText(line)
            self.state_line.setVisible(bool(line))
        done = job.completed_chunks + job.failed_chunks
        self.counters["chunks"].set(f"{done}/{job.total_chunks}")
        self._show_chunk_states(job)
        self.counters["failed"].set(job.failed_chunks)
        self.counters["images"].set(job.downloaded_images)
        latest = progress or self.watcher.last
        eta = latest.estimated_completion if latest is not None and latest.job_id == job.id \
            and job.status == "running" else None
        self.counters["eta"].set(roles.time_left(eta), roles.local_time(eta))
        self.progress_bar.setValue(job.progress)

    # -- validation -----------------------------------------------------------------------
    def refresh_validation(self) -> None:
        if self.job is None or self._validation_busy:
            return
        self._validation_busy = True
        client, job_id = self.client, self.job.id
        self.runner.run(lambda: client.validation(job_id),
                        lambda summary: self._validation_loaded(job_id, summary),
                        self._validation_failed, owner=self)

    def expect_validation(self) -> None:
        """A run was just started (by the user, or by the server after the crawl): watch for
        a run newer than the one shown, and say `validation_finished` when it ends."""
        self._await_from = self.summary.run_id if self.summary is not None else 0
        self._await_left = AWAIT_POLLS
        if not self._validation_timer.isActive():
            self._validation_timer.start(max(100, int(self.poll_interval * 1000)))
        self.refresh_validation()

    def _validation_loaded(self, job_id: int, summary: ValidationSummary | None) -> None:
        self._validation_busy = False
        if self.job is None or job_id != self.job.id:
            return
        previous, self.summary = self.summary, summary
        awaiting = self._await_from is not None
        if summary is None or (awaiting and summary.run_id == self._await_from):
            if awaiting and self._await_left > 0:
                self._await_left -= 1  # the new run is not recorded yet; look again
            else:
                self._await_from = None
                self._validation_timer.stop()
            self.validation_box.setVisible(summary is not None)
            if summary is not None:
                self._show_summary(summary)
            return
        self.validation_box.show()
        self._show_summary(summary)
        if summary.status == "running":
            if not self._validation_timer.isActive():
                self._validation_timer.start(max(100, int(self.poll_interval * 1000)))
            return
        self._validation_timer.stop()
        ended_now = previous is not None and previous.run_id == summary.run_id \
            and previous.status == "running"
        if awaiting or ended_now:
            self._await_from = None
            self.validation_finished.emit(job_id)

    def _show_summary(self, summary: ValidationSummary) -> None:
        self.validation_state.setText(summary_text(summary)
                                      + (f": {summary.error}" if summary.error else ""))
        self.validation_counts.setText(f"{summary.valid} valid · {summary.invalid} invalid · "
                                       f"{summary.duplicate} duplicates")
        self.validation_issues.setText(issues_text(summary))

    def _validation_failed(self, exc: BaseException) -> None:
        self._validation_busy = False
        self._validation_timer.stop()
        self.failed.emit(exc)
