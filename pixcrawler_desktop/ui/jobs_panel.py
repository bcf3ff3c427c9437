"""The jobs list: search by name, filter by status, and the sortable table; before the first
job, a short note on what a job is and a New job button, so a new user knows what to do."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.models import JOB_STATUSES, Job
from pixcrawler_desktop.ui import jobs_model, roles
from pixcrawler_desktop.ui.actions import JobActions
from pixcrawler_desktop.ui.delegates import ProgressBarDelegate
from pixcrawler_desktop.ui.forms import role_label
from pixcrawler_desktop.ui.jobs_model import JobsFilterProxy, JobsTableModel
from pixcrawler_desktop.ui.theme import themed_icon


class JobsPanel(QWidget):
    selected = Signal(object)   # Job or None: the selection moved
    changed = Signal(object)    # Job: the selected job's data changed in place
    opened = Signal(object)     # Job (double click / Enter)

    def __init__(self, actions: JobActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions = actions
        self.model = JobsTableModel(self)
        self.proxy = JobsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.loaded = False  # the first list has come: only then is "no jobs" true
        self._build()

    def _build(self) -> None:
        self.search = QLineEdit(objectName="job_search")
        self.search.setPlaceholderText("Search jobs by name")
        self.search.setClearButtonEnabled(True)
        self.search_action = self.search.addAction(themed_icon("search"),
                                                   QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self.proxy.set_search)
        self.status_combo = QComboBox(objectName="status_filter")
        self.status_combo.addItem("All statuses", None)
        for status in JOB_STATUSES:
            self.status_combo.addItem(status.capitalize(), status)
        self.status_combo.addItem("Paused", "paused")
        self.status_combo.currentIndexChanged.connect(
            lambda _: self.proxy.set_status(self.status_combo.currentData()))
        self.count_label = role_label("", "subtle", wrap=False, name="jobs_count")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.count_label, 1)

        self.table = QTableView(objectName="jobs_table")
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(jobs_model.PROGRESS, ProgressBarDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(jobs_model.CREATED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(jobs_model.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((jobs_model.STATUS, 90), (jobs_model.PROGRESS, 140),
                              (jobs_model.CHUNKS, 80), (jobs_model.IMAGES, 80),
                              (jobs_model.CREATED, 130), (jobs_model.UPDATED, 130)):
            header.resizeSection(column, width)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self._opened())
        self.table.addAction(self.actions["delete"])  # its Delete key, only here
        # The source's signals too: the proxy drops a removed row while the source is only
        # about to remove it, so counting on the proxy's signal alone said "2 of 3 jobs".
        for signal in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                       self.proxy.layoutChanged, self.model.dataChanged, self.model.rowsRemoved,
                       self.model.rowsInserted, self.model.modelReset):
            signal.connect(self._update_count)
        self.model.dataChanged.connect(self._data_changed)

        self.empty = QWidget(objectName="jobs_empty")
        title = role_label("No jobs yet", "heading", wrap=False, name="jobs_empty_title")
        text = role_label(
            "A job searches the web for your keywords and downloads their images, one folder "
            "per keyword. Then you check them, review them and export a dataset.", "subtle",
            name="jobs_empty_text")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_button = QPushButton(themed_icon("new"), "New job…", objectName="empty_new")
        self.empty_button.setDefault(True)
        self.empty_button.clicked.connect(self.actions["new"].trigger)
        self.empty_button.setEnabled(self.actions["new"].isEnabled())
        self.actions["new"].enabledChanged.connect(self.empty_button.setEnabled)
        column = QVBoxLayout(self.empty)
        column.addStretch(1)
        column.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(text)
        column.addSpacing(6)
        column.addWidget(self.empty_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(1)
        self.stack = QStackedWidget(objectName="jobs_stack")
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self._update_count()

    def retheme(self) -> None:
        self.search_action.setIcon(themed_icon("search"))
        self.empty_button.setIcon(themed_icon("new"))

    def set_loaded(self) -> None:
        self.loaded = True
        self._update_count()

    def is_empty(self) -> bool:
        """Whether the first-run note shows instead of the table."""
        return self.stack.currentWidget() is self.empty

    # -- selection ------------------------------------------------------------------------
    def current_job(self) -> Job | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(roles.OBJECT) if rows else None

    def select(self, job_id: int) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():  # hidden by the filter: show everything again
            self.search.clear()
            self.status_combo.setCurrentIndex(0)
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self.selected.emit(self.current_job())

    def _data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex,
                      _roles: object = ()) -> None:
        job = self.current_job()
        row = self.model.row_of(job.id) if job is not None else None
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self.changed.emit(job)

    def _opened(self) -> None:
        job = self.current_job()
        if job is not None:
            self.opened.emit(job)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            self.table.selectRow(index.row())
        menu = QMenu(self)
        self.actions.fill_menu(menu, with_new=not index.isValid())
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _update_count(self, *_args: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        empty = self.loaded and total == 0
        self.stack.setCurrentWidget(self.empty if empty else self.table)
        running = sum(1 for job in self.model.jobs() if job.status == "running")
        noun = "job" if total == 1 else "jobs"
        text = f"{total} {noun}" if shown == total else f"{shown} of {total} {noun}"
        self.count_label.setText(text + (f", {running} running" if running else ""))
