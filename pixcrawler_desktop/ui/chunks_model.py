"""The chunk grid: keywords down, engines across, one cell per keyword × engine chunk.

The grid's shape comes from the job (its keywords and engines, in the order the user gave
them) so it appears at once; chunk details fill the cells as they arrive and only changed
cells are repainted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from pixcrawler_desktop.client.models import Chunk
from pixcrawler_desktop.client.quota import chunk_wait
from pixcrawler_desktop.client.shortfall import chunk_sentence, taken_over
from pixcrawler_desktop.ui import roles

Index = QModelIndex | QPersistentModelIndex


def chunk_progress(chunk: Chunk) -> int:
    """0..100 as the server counts it: finished chunks whole, others by downloaded/target."""
    if chunk.status in ("completed", "failed"):
        return 100
    if chunk.target <= 0:
        return 0
    return min(100, chunk.downloaded * 100 // chunk.target)


def chunk_tooltip(chunk: Chunk) -> str:
    lines = [
        f"{chunk.keyword} × {chunk.engine}: {roles.CHUNK_STATES.get(chunk.status, chunk.status)}",
        chunk_sentence(chunk),  # where the images went, and whose share it took over
        f"{chunk.duplicates_skipped} duplicates skipped, "
        f"{chunk.failed_downloads} downloads failed",
    ]
    if wait := chunk_wait(chunk):
        lines.append(wait[0].upper() + wait[1:])
    if chunk.last_error:
        lines.append(f"Last error: {chunk.last_error}")
    if chunk.warnings:
        lines += ["Warnings:", *(f"• {w}" for w in chunk.warnings)]
    return "\n".join(lines)


def cell_state(chunk: Chunk, paused: bool = False) -> str:
    """What a cell shows: the chunk's status, except "waiting" while its engine's search
    quota holds it back, and "paused" for a cancelled chunk of a job paused at quit (the app
    pauses by cancelling, see ui.pause)."""
    if chunk_wait(chunk) is not None:
        return "waiting"
    if paused and chunk.status == "cancelled":
        return "paused"
    return chunk.status


class ChunkGridModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keywords: list[str] = []
        self._engines: list[str] = []
        self._cells: dict[tuple[int, int], Chunk] = {}
        self._paused = False

    def set_paused(self, paused: bool) -> None:
        """The job was paused at quit: its cancelled chunks show as paused."""
        if paused != self._paused:
            self._paused = paused
            if self._cells:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(self.rowCount() - 1, self.columnCount() - 1))

    def set_shape(self, keywords: list[str], engines: list[str]) -> None:
        """A new job: new rows and columns, no chunk data yet."""
        if keywords == self._keywords and engines == self._engines:
            return
        self.beginResetModel()
        self._keywords, self._engines = list(keywords), list(engines)
        self._cells.clear()
        self.endResetModel()

    def set_chunks(self, chunks: list[Chunk]) -> None:
        """Fill cells; a chunk whose keyword or engine is not in the grid is ignored (the
        server normalises keywords and engines, the shape is re-derived from chunks then)."""
        rows = {k: i for i, k in enumerate(self._keywords)}
        cols = {e: i for i, e in enumerate(self._engines)}
        if any(c.keyword not in rows or c.engine not in cols for c in chunks):
            self.set_shape(list(dict.fromkeys(c.keyword for c in chunks)),
                           list(dict.fromkeys(c.engine for c in chunks)))
            rows = {k: i for i, k in enumerate(self._keywords)}
            cols = {e: i for i, e in enumerate(self._engines)}
        for chunk in chunks:
            cell = (rows[chunk.keyword], cols[chunk.engine])
            if self._cells.get(cell) != chunk:
                self._cells[cell] = chunk
                index = self.index(*cell)
                self.dataChanged.emit(index, index)

    def refresh_waits(self) -> bool:
        """Repaint the cells of chunks that wait for a search quota (their countdown);
        returns whether any still waits."""
        waiting = False
        for cell, chunk in self._cells.items():
            if chunk.waiting_until is not None:
                index = self.index(*cell)
                self.dataChanged.emit(index, index)
                waiting = waiting or chunk_wait(chunk) is not None
        return waiting

    def chunk(self, row: int, column: int) -> Chunk | None:
        return self._cells.get((row, column))

    def chunks(self) -> list[Chunk]:
        return list(self._cells.values())

    def clear(self) -> None:
        self.beginResetModel()
        self._keywords, self._engines = [], []
        self._cells.clear()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._keywords)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._engines)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        names = self._engines if orientation == Qt.Orientation.Horizontal else self._keywords
        return names[section] if 0 <= section < len(names) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._keywords)
                                       and 0 <= index.column() < len(self._engines)):
            return None
        chunk = self._cells.get((index.row(), index.column()))
        if role == Qt.ItemDataRole.DisplayRole:
            if chunk is None:
                return "…"
            wait = chunk_wait(chunk)
            taken = taken_over(chunk)  # "+5": it fills in for a keyword's other engine
            return (f"{chunk.downloaded}/{chunk.target}" + (f" +{taken}" if taken else "")
                    + (f" · {wait}" if wait else ""))
        if chunk is None:
            return None
        if role == roles.PROGRESS:
            return chunk_progress(chunk)
        if role == roles.STATUS:
            return chunk.status
        if role == roles.CELL_STATE:
            return cell_state(chunk, self._paused)
        if role == roles.OBJECT:
            return chunk
        if role == roles.WARNINGS:
            return chunk.warnings
        if role == Qt.ItemDataRole.ToolTipRole:
            return chunk_tooltip(chunk)
        return None
