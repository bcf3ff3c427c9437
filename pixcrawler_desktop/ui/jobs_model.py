"""The jobs table: one row per job, kept in place as fresh lists and progress events arrive.

Rows are merged by job id instead of reset, so the selection, the scroll position and the
sort order survive every refresh (a model reset would drop them several times a second
while a job streams progress).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from pixcrawler_desktop.client.models import Job, Progress
from pixcrawler_desktop.ui import roles

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Name", "Status", "Progress", "Chunks", "Images", "Created", "Updated")
NAME, STATUS, PROGRESS, CHUNKS, IMAGES, CREATED, UPDATED = range(len(COLUMNS))


def fold_progress(job: Job, progress: Progress) -> Job:
    """The job as a progress event says it is now.

    Progress has no cancelled-chunk count; after a cancel every chunk that had not finished
    is cancelled (that is what cancel does on the server), so it follows from the others
    and Retry can be offered without waiting for the job to be fetched again.
    """
    update = {
        "status": progress.status, "progress": progress.progress,
        "total_chunks": progress.total_chunks, "active_chunks": progress.active_chunks,
        "completed_chunks": progress.completed_chunks, "failed_chunks": progress.failed_chunks,
        "downloaded_images": progress.downloaded_images, "updated_at": progress.updated_at,
    }
    if progress.started_at is not None:
        update["started_at"] = progress.started_at
    return with_status(job.model_copy(update=update), progress.status)


def with_status(job: Job, status: str) -> Job:
    """The job in `status`, as the server just said (after Start, Cancel or Retry)."""
    update: dict[str, object] = {"status": status}
    if status == "cancelled":
        update["active_chunks"] = 0
        update["cancelled_chunks"] = max(0, job.total_chunks - job.completed_chunks
                                         - job.failed_chunks)
    return job.model_copy(update=update)


def chunks_done(job: Job) -> int:
    """Finished chunks, counted the way progress counts them (completed or failed)."""
    return job.completed_chunks + job.failed_chunks


class JobsTableModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[int, int] = {}
        self._paused: set[int] = set()  # shown as "paused" while cancelled (ui.pause)

    def shown_status(self, job: Job) -> str:
        """The status the user sees: the server's, or "paused" for a job paused at quit."""
        return "paused" if job.id in self._paused and job.status == "cancelled" else job.status

    def set_paused(self, job_ids: set[int]) -> None:
        changed = self._paused ^ set(job_ids)
        self._paused = set(job_ids)
        for job_id in changed:
            row = self._rows.get(job_id)
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def is_paused(self, job_id: int) -> bool:
        job = self.job(job_id)
        return job is not None and self.shown_status(job) == "paused"

    # -- Qt interface ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(COLUMNS)):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job, column = self._jobs[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.shown_status(job) if column == STATUS else self._display(job, column)
        if role == roles.SORT:
            return self._sort_key(job, column)
        if role == roles.OBJECT:
            return job
        if role == roles.PROGRESS:
            return job.progress
        if role == roles.STATUS:
            return self.shown_status(job)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == STATUS and self.shown_status(job) == "paused":
                return "Paused when PixCrawler quit: Start goes on from where it stopped"
            return self._tooltip(job, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            return roles.status_color(self.shown_status(job))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (CHUNKS, IMAGES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(job: Job, column: int) -> Any:
        return {
            NAME: job.name,
            STATUS: job.status,
            PROGRESS: f"{job.progress}%",
            CHUNKS: f"{chunks_done(job)}/{job.total_chunks}",
            IMAGES: str(job.downloaded_images),
            CREATED: roles.local_time(job.created_at),
            UPDATED: roles.local_time(job.updated_at),
        }.get(column)

    @staticmethod
    def _sort_key(job: Job, column: int) -> Any:
        return {
            NAME: job.name.casefold(),
            STATUS: job.status,
            PROGRESS: job.progress,
            CHUNKS: chunks_done(job),
            IMAGES: job.downloaded_images,
            CREATED: roles.timestamp(job.created_at),
            UPDATED: roles.timestamp(job.updated_at),
        }.get(column)

    @staticmethod
    def _tooltip(job: Job, column: int) -> str | None:
        if column == CHUNKS:
            open_chunks = (f"{job.active_chunks} not started" if job.status == "pending"
                           else f"{job.active_chunks} queued or running")
            return (f"{job.completed_chunks} completed, {job.failed_chunks} failed, "
                    f"{job.cancelled_chunks} cancelled, {open_chunks} of {job.total_chunks}")
        if column == NAME:
            return (f"Job {job.id}: {len(job.keywords)} keywords × "
                    f"{', '.join(job.engines)}, {job.max_images} images per keyword")
        return None

    # -- updates --------------------------------------------------------------------------
    def set_jobs(self, jobs: list[Job]) -> None:
        """Merge a full list: drop rows that are gone, update changed ones, append new ones."""
        wanted = {job.id for job in jobs}
        for row in reversed(range(len(self._jobs))):
            if self._jobs[row].id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._jobs[row]
                self.endRemoveRows()
        self._reindex()
        fresh = []
        for job in jobs:
            if job.id in self._rows:
                self._replace(self._rows[job.id], job)
            else:
                fresh.append(job)
        if fresh:
            first = len(self._jobs)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._jobs.extend(fresh)
            self._reindex()
            self.endInsertRows()

    def upsert(self, job: Job) -> None:
        if job.id in self._rows:
            self._replace(self._rows[job.id], job)
            return
        row = len(self._jobs)
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.append(job)
        self._rows[job.id] = row
        self.endInsertRows()

    def remove(self, job_id: int) -> None:
        row = self._rows.get(job_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._jobs[row]
        self._reindex()
        self.endRemoveRows()

    def apply_progress(self, progress: Progress) -> Job | None:
        """Fold a progress event into its row; returns the updated job (None if not listed)."""
        row = self._rows.get(progress.job_id)
        if row is None:
            return None
        job = fold_progress(self._jobs[row], progress)
        self._replace(row, job)
        return job

    def job(self, job_id: int) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else self._jobs[row]

    def row_of(self, job_id: int) -> int | None:
        return self._rows.get(job_id)

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def clear(self) -> None:
        self.beginResetModel()
        self._jobs.clear()
        self._rows.clear()
        self.endResetModel()

    def _replace(self, row: int, job: Job) -> None:
        if self._jobs[row] == job:
            return
        self._jobs[row] = job
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _reindex(self) -> None:
        self._rows = {job.id: row for row, job in enumerate(self._jobs)}


class JobsFilterProxy(QSortFilterProxyModel):
    """Sorts by raw values and filters by status and by a case-insensitive name search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status: str | None = None
        self._search = ""
        self.setSortRole(roles.SORT)
        self.setDynamicSortFilter(True)

    def set_status(self, status: str | None) -> None:
        self.beginFilterChange()
        self._status = status or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._search = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        job = self.sourceModel().index(source_row, NAME, source_parent).data(roles.OBJECT)
        if job is None:
            return False
        model = self.sourceModel()
        status = model.shown_status(job) if isinstance(model, JobsTableModel) else job.status
        if self._status is not None and status != self._status:
            return False
        return not self._search or self._search in job.name.casefold()
