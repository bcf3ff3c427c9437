"""The backend panel (Server ▸ Local server…): how this computer's API and worker are doing.

It shows both processes' state (asked every STATUS_MS in the background: for a backend another
window started, that means looking the processes up), their logs, the data folder, and the
worker concurrency; it restarts the worker or the whole backend. A whole restart changes the
server's address, so that one is the controller's job (it moves the window's session); the
panel asks for it with `restart_requested` and hears back through `restart_done()`.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.forms import role_label
from pixcrawler_desktop.ui.localserver import LocalServer
from pixcrawler_desktop.ui.settings import MAX_CONCURRENCY, AppSettings
from pixcrawler_desktop.ui.tasks import TaskRunner

STATUS_MS = 1500
LOG_LINES = 2000  # a log view keeps this many lines: enough to read, cheap to redraw
ROLES = ("api", "worker")
NOT_OURS = "Another PixCrawler window started this server; restart it from there."


def _set_role(label: QLabel, role: str) -> None:
    label.setProperty("role", role)
    label.style().unpolish(label)
    label.style().polish(label)


class LocalServerPanel(QDialog):
    restart_requested = Signal(int)  # the worker concurrency to restart with

    def __init__(self, local: LocalServer, runner: TaskRunner, settings: AppSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.local = local
        self.runner = runner
        self.settings = settings
        self.restarting: tuple[str, ...] = ()  # the processes a restart is under way for
        self.owned = True
        self._asking = False  # a status request is out: never queue a second one
        self.setWindowTitle("PixCrawler — Local server")
        self.setWindowIcon(resources.app_icon())
        self.resize(760, 560)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(STATUS_MS)
        self._timer.timeout.connect(self.refresh_status)

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.state_labels = {role: QLabel("…", objectName=f"{role}_state") for role in ROLES}
        self.url_label = QLabel("…", objectName="url")
        self.folder_label = role_label(str(self.local.data_dir), name="data_dir", wrap=True)
        self.folder_button = QPushButton("Open folder", objectName="open_folder")
        self.folder_button.clicked.connect(self.open_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)

        self.concurrency = QSpinBox(objectName="concurrency")
        self.concurrency.setRange(1, MAX_CONCURRENCY)
        self.concurrency.setValue(self.local.concurrency)
        self.concurrency.setToolTip("Downloads the worker runs at once")
        self.apply_button = QPushButton("Apply", objectName="apply_concurrency")
        self.apply_button.setToolTip("Restart the server with this concurrency")
        self.apply_button.clicked.connect(self.apply_concurrency)
        concurrency_row = QHBoxLayout()
        concurrency_row.addWidget(self.concurrency)
        concurrency_row.addWidget(self.apply_button)
        concurrency_row.addWidget(role_label("applying restarts the server", "subtle"), 1)

        form = QFormLayout()
        form.addRow("API", self.state_labels["api"])
        form.addRow("Worker", self.state_labels["worker"])
        form.addRow("Address", self.url_label)
        form.addRow("Data folder", folder_row)
        form.addRow("Worker concurrency", concurrency_row)

        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.logs: dict[str, QPlainTextEdit] = {}
        self.log_tabs = QTabWidget(objectName="logs")
        for role, title in zip(ROLES, ("API log", "Worker log"), strict=True):
            view = QPlainTextEdit(objectName=f"{role}_log")
            view.setReadOnly(True)
            view.setFont(fixed)
            view.setMaximumBlockCount(LOG_LINES)
            view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.logs[role] = view
            self.log_tabs.addTab(view, title)

        self.refresh_button = QPushButton("Refresh logs", objectName="refresh_logs")
        self.refresh_button.clicked.connect(self.refresh_logs)
        self.restart_worker_button = QPushButton("Restart worker", objectName="restart_worker")
        self.restart_worker_button.clicked.connect(self.restart_worker)
        self.restart_button = QPushButton("Restart server", objectName="restart_server")
        self.restart_button.setToolTip("Stop the API and the worker and start them again")
        self.restart_button.clicked.connect(
            lambda: self._request_restart(self.local.concurrency))
        self.message = role_label("", "subtle", name="panel_message")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.restart_worker_button)
        buttons.addWidget(self.restart_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(role_label("The PixCrawler server on this computer", "title"))
        layout.addLayout(form)
        layout.addWidget(self.log_tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    # -- refreshing -----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._timer.start()
        self.refresh_status()
        self.refresh_logs()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def refresh_status(self) -> None:
        """Ask the backend for its state off the UI thread (it may look processes up)."""
        if self._asking:
            return
        self._asking = True
        self.runner.run(self.local.status, self._show_status, self._status_failed, owner=self)

    def _status_failed(self, exc: BaseException) -> None:
        self._asking = False
        self.message.setText(f"Could not read the server's state: {exc}")

    def _show_status(self, status: dict | None) -> None:
        self._asking = False
        if status is None:
            status = {"api": "stopped", "worker": "stopped", "url": None, "owned": False}
        for role in ROLES:
            self._show_state(role, "restarting" if role in self.restarting else status[role])
        self.url_label.setText(status["url"] or "—")
        self.owned = bool(status["owned"])
        self._enable()

    def _show_state(self, role: str, state: str) -> None:
        label = self.state_labels[role]
        label.setText(state.capitalize())
        _set_role(label, {"running": "", "restarting": "subtle"}.get(state, "error"))

    def refresh_logs(self) -> None:
        local = self.local
        self.runner.run(lambda: {role: local.log_tail(role) for role in ROLES},
                        self._show_logs, owner=self)

    def _show_logs(self, tails: dict[str, str]) -> None:
        for role, text in tails.items():
            view = self.logs[role]
            view.setPlainText(text or f"(nothing logged by the {role} yet)")
            view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())

    def _enable(self) -> None:
        allowed = self.owned and not self.restarting
        for button in (self.restart_worker_button, self.restart_button, self.apply_button):
            button.setEnabled(allowed)
            button.setToolTip("" if self.owned else NOT_OURS)

    # -- actions --------------------------------------------------------------------------
    def open_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.local.data_dir)))

    def restart_worker(self) -> None:
        self._set_busy(("worker",), "Restarting the worker…")
        self.runner.run(self.local.restart_worker, lambda _r: self._worker_restarted(),
                        self._worker_failed, owner=self)

    def _worker_restarted(self) -> None:
        self._set_busy((), "Worker restarted")
        self.refresh_logs()

    def _worker_failed(self, exc: BaseException) -> None:
        self._set_busy((), f"The worker did not restart: {exc}")

    def apply_concurrency(self) -> None:
        value = self.concurrency.value()
        self.settings.local_concurrency = value
        self.settings.sync()
        self._request_restart(value)

    def _request_restart(self, concurrency: int) -> None:
        self._set_busy(ROLES, "Restarting the server…")
        self.restart_requested.emit(concurrency)

    def restart_done(self, error: str | None) -> None:
        """The whole restart ended (the window has moved to the new address meanwhile)."""
        self._set_busy((), f"The server did not restart: {error}" if error
                       else "Server restarted")
        self.concurrency.setValue(self.local.concurrency)
        self.refresh_logs()

    def _set_busy(self, restarting: tuple[str, ...], text: str) -> None:
        """Show at once which processes are restarting; the next status tells the outcome."""
        self.restarting = restarting
        for role in restarting:
            self._show_state(role, "restarting")
        self.message.setText(text)
        self._enable()
        self.refresh_status()
