"""The main window: the jobs table on top; the selected job's progress and gallery below.

The window runs every server call through the task runner and funnels every failure into
`report()`, which decides what the user sees: the server's `detail` in the status bar, a
return to sign-in for an ended session, a background reconnect loop when the server is
unreachable.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient, is_local_server
from pixcrawler_desktop.client.errors import ApiError, AuthError, ConnectionLost
from pixcrawler_desktop.client.models import (
    FINISHED,
    CancelResult,
    Job,
    Progress,
    StartResult,
    User,
)
from pixcrawler_desktop.client.quota import least_time_sentence
from pixcrawler_desktop.ui import resources, roles
from pixcrawler_desktop.ui.actions import JobActions
from pixcrawler_desktop.ui.connection import Reconnector
from pixcrawler_desktop.ui.errors import describe, unreachable
from pixcrawler_desktop.ui.export_dialog import ExportDialog
from pixcrawler_desktop.ui.gallery import GalleryView
from pixcrawler_desktop.ui.jobs_model import with_status
from pixcrawler_desktop.ui.jobs_panel import JobsPanel
from pixcrawler_desktop.ui.jobview import JobView
from pixcrawler_desktop.ui.newjob import NewJobDialog
from pixcrawler_desktop.ui.pause import CANCEL, PAUSE, PausedJobs, quit_question
from pixcrawler_desktop.ui.settings import AppSettings
from pixcrawler_desktop.ui.settings_dialog import SettingsDialog
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.theme import Theme, themed_icon
from pixcrawler_desktop.ui.thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from pixcrawler_desktop.ui.localpanel import LocalServerPanel
    from pixcrawler_desktop.ui.localserver import LocalServer

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    session_expired = Signal(str)   # the server's reason; the controller shows sign-in
    sign_out_requested = Signal()
    local_restart_requested = Signal(int)  # worker concurrency; the controller restarts

    def __init__(self, client: PixCrawlerClient, user: User, settings: AppSettings,
                 runner: TaskRunner, thumb_runner: TaskRunner, theme: Theme | None = None,
                 cache: ThumbnailCache | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.user = user
        self.settings = settings
        self.runner = runner
        self.theme = theme
        self.signed_in = True
        self.offline = False
        self.dialog: QWidget | None = None  # the dialog opened last (tests reach it here)
        self.local_server: LocalServer | None = None  # set while signed in to "This computer"
        self.local_panel: LocalServerPanel | None = None
        self._busy_jobs: set[int] = set()
        self._quit_decided = False  # the quit question was answered: closing may go on
        self._heard: dict[int, float] = {}  # job id -> when its latest progress event came
        self.setWindowIcon(resources.app_icon())
        self.resize(1180, 780)

        self.actions = JobActions(self)
        self.actions.triggered.connect(self._on_action)
        self.jobs = JobsPanel(self.actions, self)
        self.job_view = JobView(client, runner, settings.poll_interval, self)
        self.gallery = GalleryView(client, runner, thumb_runner, settings, cache, self)
        self.reconnector = Reconnector(client, runner, self)
        self._build()
        self._connect()
        self._jobs_timer = QTimer(self)
        self._jobs_timer.timeout.connect(self.refresh_jobs)
        self._jobs_timer.setInterval(max(200, int(settings.poll_interval * 1000)))
        if theme is not None:
            theme.changed.connect(lambda _scheme: self.retheme())
        self._update_title()
        self._set_connection_text()
        self._sync_actions()
        self.refresh_jobs()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        toolbar = QToolBar("Jobs", self, objectName="toolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(resources.icon_size(toolbar=True))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for key in ("new", "start", "cancel", "retry", "validate", "export", "delete",
                    "refresh"):
            toolbar.addAction(self.actions[key])
            if key in ("new", "delete"):
                toolbar.addSeparator()
        self.actions.style_validate_button(toolbar.widgetForAction(self.actions["validate"]))
        self.addToolBar(toolbar)
        self.toolbar = toolbar

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.actions["new"])
        self.goto_action = file_menu.addAction("&Go to job…", self._ask_job_id)
        self.goto_action.setShortcut("Ctrl+G")
        file_menu.addSeparator()
        self.settings_action = file_menu.addAction(themed_icon("settings"), "&Settings…",
                                                   self.open_settings)
        self.settings_action.setShortcut("Ctrl+,")
        self.sign_out_action = file_menu.addAction(themed_icon("signout"), "Sign &out",
                                                   self.sign_out_requested.emit)
        file_menu.addSeparator()
        file_menu.addAction("&Quit", self.close).setShortcut("Ctrl+Q")
        job_menu = menu.addMenu("&Job")
        self.actions.fill_menu(job_menu, with_new=False)
        view_menu = menu.addMenu("&View")
        # Alt+digit switches the tabs (Ctrl+1..3 are the validation levels); Ctrl+F finds a
        # job by name
        self.progress_action = view_menu.addAction(
            themed_icon("progress"), "&Progress", lambda: self.show_tab(self.job_view))
        self.progress_action.setShortcut("Alt+1")
        self.gallery_action = view_menu.addAction(
            themed_icon("gallery"), "&Gallery", lambda: self.show_tab(self.gallery))
        self.gallery_action.setShortcut("Alt+2")
        view_menu.addSeparator()
        self.search_action = view_menu.addAction(themed_icon("search"), "&Find job…",
                                                 self.focus_search)
        self.search_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        server_menu = menu.addMenu("&Server")
        self.local_action = server_menu.addAction(themed_icon("settings"), "&Local server…",
                                                  self.open_local_server)
        self.local_action.setEnabled(False)
        self.local_action.setToolTip("Available when signed in to “This computer”")
        help_menu = menu.addMenu("&Help")
        help_menu.addAction("&About PixCrawler", self._about)

        self.tabs = QTabWidget(objectName="job_tabs")
        self.tabs.addTab(self.job_view, themed_icon("progress"), "Progress")
        self.tabs.addTab(self.gallery, themed_icon("gallery"), "Gallery")
        self.tabs.setTabToolTip(0, "The job's progress and chunk grid (Alt+1)")
        self.tabs.setTabToolTip(1, "The job's images (Alt+2)")
        splitter = QSplitter(Qt.Orientation.Vertical, objectName="splitter")
        splitter.addWidget(self.jobs)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([300, 440])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.message = QLabel(objectName="status_message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.connection = QLabel(objectName="connection")
        self.connection.setProperty("role", "subtle")
        self.statusBar().addWidget(self.message, 1)
        self.statusBar().addPermanentWidget(self.connection)

    def _connect(self) -> None:
        self.jobs.selected.connect(self._job_selected)
        self.jobs.changed.connect(self._selected_job_changed)
        self.jobs.opened.connect(lambda _job: self.tabs.setCurrentWidget(self.job_view))
        self.job_view.progress.connect(self._on_progress)
        self.job_view.failed.connect(self.report)
        self.job_view.validation_finished.connect(self._validation_finished)
        self.gallery.failed.connect(self.report)
        self.gallery.notice.connect(self.notify)
        self.reconnector.reconnected.connect(self._reconnected)
        self.reconnector.attempt_failed.connect(
            lambda detail: self._set_connection_text(f"Offline, retrying: {detail}"))

    def retheme(self) -> None:
        self.actions.retheme()
        self.jobs.retheme()
        self.gallery.retheme()
        self.settings_action.setIcon(themed_icon("settings"))
        self.sign_out_action.setIcon(themed_icon("signout"))
        self.tabs.setTabIcon(0, themed_icon("progress"))
        self.tabs.setTabIcon(1, themed_icon("gallery"))
        self.progress_action.setIcon(themed_icon("progress"))
        self.gallery_action.setIcon(themed_icon("gallery"))
        self.search_action.setIcon(themed_icon("search"))

    def show_tab(self, page: QWidget) -> None:
        """Progress or Gallery (Alt+1, Alt+2), with the keyboard focus in it."""
        self.tabs.setCurrentWidget(page)
        (self.gallery.view if page is self.gallery else self.job_view.grid).setFocus()

    def focus_search(self) -> None:
        """Ctrl+F: type a job's name at once."""
        self.jobs.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.jobs.search.selectAll()

    def _update_title(self) -> None:
        self.setWindowTitle(f"PixCrawler — {self.user.email} on {self.client.base_url}")

    # -- session --------------------------------------------------------------------------
    def set_session(self, client: PixCrawlerClient, user: User, *, moved: bool = False) -> None:
        """Signed in again (same or other account): keep the window, swap the client.
        `moved`: the same server at a new address (this computer's, after a restart)."""
        same_user = user.id == self.user.id and (moved or client.base_url == self.client.base_url)
        self.client, self.user, self.signed_in = client, user, True
        self.job_view.set_client(client)
        self.gallery.set_client(client)
        self.reconnector.set_client(client)
        self._update_title()
        self._set_connection_text()
        if not same_user:
            self.job_view.show_job(None)
            self.gallery.show_job(None)
            self.jobs.model.clear()
        else:
            self.job_view.reload()
        self.refresh_jobs()

    def set_local(self, local: LocalServer | None) -> None:
        """Signed in to "This computer" (or not): the backend panel and the data folder that
        "Show in folder" needs come with it."""
        self.local_server = local
        self.local_action.setEnabled(local is not None)
        self.gallery.set_data_dir(local.data_dir if local is not None else None)
        self.gallery.server = self.server_identity()
        if local is None and self.local_panel is not None:
            self.local_panel.close()

    def open_local_server(self) -> None:
        """The backend panel (one per window, brought to the front if already open)."""
        from pixcrawler_desktop.ui.localpanel import LocalServerPanel

        if self.local_server is None:
            return
        if self.local_panel is None:
            panel = LocalServerPanel(self.local_server, self.runner, self.settings, self)
            panel.restart_requested.connect(self._restart_local)
            panel.finished.connect(lambda _result: self._panel_closed(panel))
            self.local_panel = panel
        self.dialog = self.local_panel
        self.local_panel.show()
        self.local_panel.raise_()

    def _panel_closed(self, panel: LocalServerPanel) -> None:
        if self.local_panel is panel:
            self.local_panel = None
            panel.deleteLater()

    def _restart_local(self, concurrency: int) -> None:
        self.notify("Restarting the local server…")
        self.local_restart_requested.emit(concurrency)

    def local_restart_done(self, error: str | None) -> None:
        """The controller's answer to local_restart_requested."""
        if error:
            self._show_message(f"The local server did not restart: {error}", "statusError")
        else:
            self.notify("Local server restarted")
        if self.local_panel is not None:
            self.local_panel.restart_done(error)

    def session_ended(self) -> None:
        """The server refused our tokens: stop talking to it but keep what is on screen."""
        self.signed_in = False
        self.job_view.stop()
        self.gallery.stop()
        self._jobs_timer.stop()
        self.reconnector.stop()
        self.actions.update(None, signed_in=False)
        self._set_connection_text("Signed out")

    # -- jobs paused at quit (ui.pause) -----------------------------------------------------
    def server_identity(self) -> str:
        """What the app keeps per server under: "This computer" by its data folder (its
        address changes with every start), any other server by its address."""
        local = self.local_server
        return f"local {local.data_dir}" if local is not None else self.client.base_url

    def paused_jobs(self) -> PausedJobs:
        """This server's pause marks."""
        return PausedJobs(self.settings, self.server_identity())

    def _show_paused(self, paused: set[int]) -> None:
        self.jobs.model.set_paused(paused)
        job = self.job_view.job
        self.job_view.set_paused(self.paused_jobs().since(job.id)
                                 if job is not None and job.id in paused else None)
        self._sync_actions()

    def _unpause(self, job_id: int) -> None:
        pauses = self.paused_jobs()
        pauses.discard(job_id)
        self._show_paused(set(pauses.marks()))

    # -- feedback -------------------------------------------------------------------------
    def notify(self, text: str) -> None:
        self._show_message(text, "statusOk")

    def report(self, exc: BaseException) -> None:
        """Show any failure the right way; never raises."""
        if isinstance(exc, AuthError):
            if self.signed_in:
                self._show_message(describe(exc), "statusError")
                self.session_ended()
                self.session_expired.emit(exc.detail)
            return
        if isinstance(exc, ConnectionLost):
            self._went_offline(exc)
            return
        if not isinstance(exc, ApiError):
            log.error("unexpected error in a background call", exc_info=exc)
        self._show_message(describe(exc), "statusError")

    def status_text(self) -> str:
        return self.message.text()

    def _show_message(self, text: str, role: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setProperty("role", role)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _went_offline(self, exc: ConnectionLost) -> None:
        if not self.offline:
            self.offline = True
            self._show_message(f"{unreachable(exc, self.client.base_url)} Reconnecting…",
                               "statusError")
            self._set_connection_text("Offline")
        self.reconnector.start()

    def _reconnected(self) -> None:
        self.offline = False
        self.notify("Reconnected")
        self._set_connection_text()
        self.refresh_jobs()
        self.job_view.reload()
        self.gallery.refresh()

    def _set_connection_text(self, text: str | None = None) -> None:
        self.connection.setText(text or f"{self.user.email} · {self.client.base_url}")

    # -- jobs list ------------------------------------------------------------------------
    def call(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
             job_id: int | None = None) -> None:
        """A server call for this window; failures go to report(). A job's actions stay
        disabled while a call about it is out, so a double click sends one request."""
        if job_id is not None:
            self._busy_jobs.add(job_id)
            self._sync_actions()

        def done(result: Any) -> None:
            self._release(job_id)
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            self._release(job_id)
            self.report(exc)

        self.runner.run(fn, done, failed, owner=self)

    def _release(self, job_id: int | None) -> None:
        if job_id is not None:
            self._busy_jobs.discard(job_id)
            self._sync_actions()

    def refresh_jobs(self) -> None:
        if not self.signed_in:
            return
        client, sent = self.client, time.monotonic()
        self.call(client.all_jobs, lambda jobs: self._jobs_loaded(jobs, sent))

    def _fresher(self, job: Job, sent: float) -> Job:
        """The listed job, unless a progress event newer than the request came meanwhile:
        a list fetched just before a job finished must not turn it back to running."""
        if self._heard.get(job.id, float("-inf")) > sent:
            return self.jobs.model.job(job.id) or job
        return job

    def _jobs_loaded(self, jobs: list[Job], sent: float) -> None:
        if self.offline:
            self._reconnected_quietly()
        jobs = [self._fresher(job, sent) for job in jobs]
        self.jobs.model.set_jobs(jobs)
        self._show_paused(self.paused_jobs().prune(jobs))
        self.jobs.set_loaded()
        if any(job.status == "running" for job in jobs):
            if not self._jobs_timer.isActive():
                self._jobs_timer.start()
        else:
            self._jobs_timer.stop()
        if self.jobs.current_job() is None and jobs:
            self.jobs.select(self.jobs.proxy.index(0, 0).data(roles.OBJECT).id)
        self._sync_actions()

    def _reconnected_quietly(self) -> None:
        """A call succeeded before the reconnector noticed: we are back online."""
        self.reconnector.stop()
        self._reconnected()

    def _refresh_job(self, job_id: int) -> None:
        client, sent = self.client, time.monotonic()
        self.call(lambda: client.job(job_id), lambda job: self._job_loaded(job, sent))

    def _job_loaded(self, job: Job, sent: float) -> None:
        job = self._fresher(job, sent)
        self.jobs.model.upsert(job)
        current = self.jobs.current_job()
        if current is not None and current.id == job.id:
            self._selected_job_changed(job)
        if job.status == "running" and not self._jobs_timer.isActive():
            self._jobs_timer.start()

    def open_job(self, job_id: int) -> None:
        """Show a job by id (Go to job…): someone else's gives the server's 403 detail."""
        def loaded(job: Job) -> None:
            self.jobs.model.upsert(job)
            self.jobs.select(job.id)
            self.tabs.setCurrentWidget(self.job_view)

        client = self.client
        self.call(lambda: client.job(job_id), loaded)

    def _ask_job_id(self) -> None:
        job_id, ok = QInputDialog.getInt(self, "PixCrawler — Go to job", "Job number:", 1, 1)
        if ok:
            self.open_job(job_id)

    # -- selection ------------------------------------------------------------------------
    def _job_selected(self, job: Job | None) -> None:
        self._sync_actions()
        self.job_view.show_job(job)
        self.job_view.set_paused(self.paused_jobs().since(job.id)
                                 if job is not None and self.jobs.model.is_paused(job.id)
                                 else None)
        self.gallery.show_job(job)

    def _selected_job_changed(self, job: Job) -> None:
        self._sync_actions()
        self.job_view.update_job(job)
        self.gallery.show_job(job)

    def _sync_actions(self) -> None:
        job = self.jobs.current_job()
        if job is not None and job.id in self._busy_jobs:
            job = None
        paused = job is not None and self.jobs.model.is_paused(job.id)
        self.actions.update(job, signed_in=self.signed_in, paused=paused)
        self.actions["new"].setEnabled(self.signed_in)
        self.actions["refresh"].setEnabled(self.signed_in)
        self.goto_action.setEnabled(self.signed_in)

    def _on_progress(self, progress: Progress) -> None:
        self._heard[progress.job_id] = time.monotonic()
        before = self.jobs.model.job(progress.job_id)
        self.jobs.model.apply_progress(progress)
        if before is None or before.downloaded_images != progress.downloaded_images:
            self.gallery.request_refresh()
        if progress.status in FINISHED and before is not None and before.status not in FINISHED:
            self._refresh_job(progress.job_id)  # cancelled_chunks etc. are not in progress

    def _validation_finished(self, job_id: int) -> None:
        summary = self.job_view.summary
        if summary is not None and summary.job_id == job_id:
            self.notify(f"Validation finished ({summary.level}): {summary.valid} valid, "
                        f"{summary.invalid} invalid, {summary.duplicate} duplicates")
        if self.gallery.job is not None and self.gallery.job.id == job_id:
            self.gallery.reload()

    # -- actions --------------------------------------------------------------------------
    def _on_action(self, key: str, argument: object) -> None:
        if key == "new":
            self.new_job()
            return
        if key == "refresh":
            self.refresh_jobs()
            self.job_view.reload()
            self.gallery.reload()
            return
        job = self.jobs.current_job()
        if job is None:
            return
        client, job_id = self.client, job.id
        paused = self.jobs.model.is_paused(job_id)
        if key == "start" and paused:  # on the server it is cancelled: a retry resumes it
            self.call(lambda: client.retry(job_id), lambda r: self._resumed(job_id, r), job_id)
        elif key == "start":
            self.call(lambda: client.start(job_id), lambda r: self._acted(job_id, r), job_id)
        elif key == "cancel" and paused:
            self._unpause(job_id)
            self.notify(f"“{job.name}” stays cancelled; Retry still resumes it")
        elif key == "cancel":
            self.call(lambda: client.cancel(job_id), lambda r: self._acted(job_id, r), job_id)
        elif key == "retry":
            self.call(lambda: client.retry(job_id), lambda r: self._acted(job_id, r), job_id)
        elif key == "validate":
            level = str(argument or "medium")
            self.call(lambda: client.validate(job_id, level),
                      lambda r: self._validation_started(job_id, r.message), job_id)
        elif key == "export":
            self.export_job(job)
        elif key == "delete":
            self._confirm_delete(job)

    def _acted(self, job_id: int, result: StartResult | CancelResult) -> None:
        """Take the status the server just answered with, follow the job live again (a
        retried job was finished a moment ago), and fetch the rest of it."""
        self.notify(result.message)
        job = self.jobs.model.job(job_id)
        if job is not None:
            self._heard[job_id] = time.monotonic()  # newer than any list still on its way
            self.jobs.model.upsert(with_status(job, result.status))
        current = self.jobs.current_job()
        if current is not None and current.id == job_id:
            self.job_view.reload()
        self._refresh_job(job_id)

    def _resumed(self, job_id: int, result: StartResult) -> None:
        self._unpause(job_id)
        self._acted(job_id, result)

    def _validation_started(self, job_id: int, message: str) -> None:
        self.notify(message)
        if self.job_view.job is not None and self.job_view.job.id == job_id:
            self.job_view.expect_validation()

    def new_job(self) -> None:
        dialog = NewJobDialog(self.client, self.runner, self.settings, self)
        dialog.accepted.connect(lambda: self._created(dialog))
        self.dialog = dialog
        dialog.open()

    def _created(self, dialog: NewJobDialog) -> None:
        job = dialog.job
        if job is None:
            return
        self.jobs.model.upsert(job)
        self.jobs.select(job.id)
        error = dialog.start_error
        if error is not None:
            if isinstance(error, ApiError) and not isinstance(error, AuthError):
                self._show_message(f"Created job “{job.name}”, but it did not start: "
                                   f"{describe(error)}", "statusError")
            else:
                self.report(error)
            return
        if dialog.started is not None:
            self._acted(job.id, dialog.started)
            created = f"Created and started job “{job.name}” with {job.total_chunks} chunks"
        else:
            created = f"Created job “{job.name}” with {job.total_chunks} chunks"
        self.notify(created)
        client, job_id = self.client, job.id
        self.runner.run(lambda: least_time_sentence(client.chunks(job_id), client.engines()),
                        lambda quota: quota and self.notify(f"{created}. {quota}"),
                        lambda _exc: None, owner=self)

    def export_job(self, job: Job) -> None:
        """The Export dataset dialog; a folder is offered only for a server on this computer,
        the only kind whose disk is the user's."""
        dialog = ExportDialog(self.client, self.runner, job,
                              folder_allowed=is_local_server(self.client.base_url), parent=self)
        dialog.exported.connect(self.notify)
        self.dialog = dialog
        dialog.open()

    def _confirm_delete(self, job: Job) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "PixCrawler — Delete job",
                          f"Delete “{job.name}” and its {job.downloaded_images} images?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        client, job_id, name = self.client, job.id, job.name

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.call(lambda: client.delete(job_id),
                          lambda _r: self._deleted(job_id, name), job_id)

        box.finished.connect(answered)
        self.dialog = box
        box.open()

    def _deleted(self, job_id: int, name: str) -> None:
        self.jobs.model.remove(job_id)
        self.paused_jobs().discard(job_id)
        self.notify(f"Deleted job “{name}”")

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        dialog.accepted.connect(self._settings_changed)
        self.dialog = dialog
        dialog.open()

    def _settings_changed(self) -> None:
        interval = self.settings.poll_interval
        self.job_view.set_poll_interval(interval)
        self._jobs_timer.setInterval(max(200, int(interval * 1000)))
        if self.theme is not None:
            self.theme.set_choice(self.settings.theme)

    def about_text(self) -> str:
        """The About box: what a bug report needs (versions) and where the data is."""
        from pixcrawler_desktop.version import about

        meta, facts = resources.metadata(), about()
        data_dir = str(self.local_server.data_dir) if self.local_server is not None \
            else facts["data_dir"]
        rows = [("Version", facts["version"]),
                ("Qt", f"{facts['qt']} (PySide6 {facts['pyside']})"),
                ("Python", facts["python"]), ("Data folder", data_dir),
                ("Server", self.client.base_url)]
        table = "".join(f"<tr><td>{html.escape(k)}:&nbsp;</td><td>{html.escape(v)}</td></tr>"
                        for k, v in rows)
        return (f"<b>{html.escape(meta['application'])} {html.escape(facts['version'])}</b>"
                f"<br>{html.escape(meta['description'])}<br><br><table>{table}</table>")

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.NoIcon, "About PixCrawler", self.about_text(),
                          QMessageBox.StandardButton.Close, self)
        box.setObjectName("about")
        box.setIconPixmap(resources.pixmap("app", 64))
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dialog = box
        box.open()

    # -- closing --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop timers, streams and pending calls of this window (the pools stay up)."""
        self._quit_decided = True  # nothing left to ask: the window is going
        self._jobs_timer.stop()
        self.reconnector.stop()
        self.job_view.stop()
        self.gallery.stop()
        self.runner.cancel_owned_by(self)
        if isinstance(self.dialog, ExportDialog) and self.dialog.running:
            self.dialog.reject()  # a download in flight stops and removes its partial file
        if self.local_panel is not None:
            self.local_panel.close()

    def running_jobs(self) -> list[Job]:
        return [job for job in self.jobs.model.jobs() if job.status == "running"]

    def _quit_stops_jobs(self) -> bool:
        """Quitting stops running jobs only when this app runs their server (a lab's server,
        or a backend another window started, goes on without us)."""
        local = self.local_server
        return (self.signed_in and local is not None and local.owned
                and bool(self.running_jobs()))

    def close_without_asking(self) -> None:
        """Close for a reason that stops no job (signing out, the app already quitting)."""
        self._quit_decided = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quit_decided and self._quit_stops_jobs():
            event.ignore()
            self.ask_quit()
            return
        self.shutdown()
        super().closeEvent(event)

    def pause_and_close(self) -> bool:
        """Quit with no one to ask (a signal): the running jobs of this app's server are
        paused, as "Pause until next time" would, then the window closes. False when there is
        nothing to pause."""
        if self._quit_decided or not self._quit_stops_jobs():
            return False
        self._quit_decided = True  # a question on screen is answered by this
        if isinstance(self.dialog, QMessageBox) and self.dialog.isVisible():
            self.dialog.done(0)
        self._stop_jobs_and_quit(self.running_jobs(), pause=True)
        return True

    def ask_quit(self) -> None:
        """Cancel the running jobs, leave them paused for next time, or stay."""
        running = self.running_jobs()
        box, buttons = quit_question(self, running)
        self.dialog = box

        def answered(_result: int) -> None:
            clicked = box.clickedButton()
            choice = next((k for k, b in buttons.items() if b is clicked), None)
            if choice in (CANCEL, PAUSE):
                self._stop_jobs_and_quit(running, pause=choice == PAUSE)

        box.finished.connect(answered)
        box.open()

    def _stop_jobs_and_quit(self, running: list[Job], *, pause: bool) -> None:
        """Cancel the jobs on the server (a pause is remembered first), then close: the
        controller then stops the local server. A failed cancel does not keep the app open:
        the server stops anyway, and its jobs resume at the next start."""
        self._jobs_timer.stop()  # a list fetched before the cancel would undo the pause mark
        self.signed_in = False  # no other call starts from here on (refresh_jobs checks it)
        self.runner.cancel_owned_by(self)
        if pause:
            self.paused_jobs().add(job.id for job in running)
        self.setEnabled(False)
        self._show_message("Pausing…" if pause else "Cancelling…", "statusOk")
        client, ids = self.client, [job.id for job in running]

        def cancel_all() -> None:
            for job_id in ids:
                try:
                    client.cancel(job_id)
                except ApiError:  # finished meanwhile (400): nothing to stop
                    log.info("job %s was not cancelled at quit", job_id, exc_info=True)

        def done(_result: object = None) -> None:
            self._quit_decided = True
            self.close()

        def failed(exc: BaseException) -> None:
            log.warning("could not stop the jobs at quit: %s", exc)
            done()

        self.runner.run(cancel_all, done, failed, owner=self)
