"""The gallery's list of images and its keyword/outcome filter.

Thumbnails are not stored in the model: `data(DecorationRole)` asks the loader, which
answers from its cache or starts a background fetch and reports back by image id. Since a
view asks only for the items it paints, thumbnails load lazily, visible ones first.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QPixmap

from pixcrawler_desktop.client.models import Image
from pixcrawler_desktop.ui import roles

Index = QModelIndex | QPersistentModelIndex


class Thumbnails(Protocol):
    def get(self, image: Image) -> QPixmap | None: ...
    def placeholder(self) -> QPixmap: ...


def image_tooltip(image: Image) -> str:
    size = f"{image.width}×{image.height}" if image.width and image.height else "size unknown"
    lines = [image.title or image.source_url,
             f"{image.keyword} · {image.engine} #{image.rank} · {image.format.upper()} "
             f"{size} · {image.bytes / 1024:.0f} KB",
             f"Licence: {image.license or image.license_url or 'not stated'}"
             + (f" · by {image.creator}" if image.creator else ""),
             f"Validation: {image.validation_status}"
             + (f" ({image.validation_level})" if image.validation_level else "")]
    if image.validation_issues:
        lines.append("Issues: " + ", ".join(image.validation_issues))
    reason = duplicate_reason(image.validation_metrics)
    if reason:
        lines.append(reason)
    return "\n".join(lines)


MEANS_LABELS = {"same_pixels": "same pixels", "dct_hash": "perceptual hash",
                "mirror": "mirrored", "borders_trimmed": "borders trimmed",
                "three_hashes_agree": "three hashes agree", "centre_crop": "centres agree"}


def duplicate_reason(metrics: dict) -> str:
    """Why validation called an image a duplicate, from its metrics ("" if it is not one).
    Rows from before issue 17 have only ``duplicate_of``."""
    keeper = metrics.get("duplicate_of")
    if keeper is None:
        return ""
    text = f"Duplicate of image {keeper}"
    means = [MEANS_LABELS.get(m, str(m)) for m in metrics.get("duplicate_means") or []]
    distance = metrics.get("duplicate_distance")
    details = ([f"distance {distance} of 64"] if distance is not None else []) + means
    return text + (f" ({', '.join(details)})" if details else "")


REVIEW_MARKS = {"unreviewed": "", "accepted": "✓ ", "rejected": "✗ "}


class GalleryModel(QAbstractListModel):
    def __init__(self, thumbnails: Thumbnails | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._images: list[Image] = []
        self._rows: dict[int, int] = {}
        self._keepers: frozenset[int] = frozenset()  # marked "kept" while a group is shown

    def mark_keepers(self, ids: frozenset[int]) -> None:
        self._keepers = ids
        if self._images:
            self.dataChanged.emit(self.index(0), self.index(len(self._images) - 1),
                                  [Qt.ItemDataRole.DisplayRole])

    def set_thumbnails(self, thumbnails: Thumbnails | None) -> None:
        self._thumbnails = thumbnails

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._images)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._images):
            return None
        image = self._images[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            kept = "kept · " if self._keepers and image.id in self._keepers else ""
            return f"{REVIEW_MARKS[image.review]}{kept}{image.keyword} #{image.rank}"
        if role == Qt.ItemDataRole.DecorationRole:
            if self._thumbnails is None:
                return None
            return self._thumbnails.get(image) or self._thumbnails.placeholder()
        if role == Qt.ItemDataRole.ToolTipRole:
            return image_tooltip(image)
        if role == roles.OBJECT:
            return image
        if role == roles.OUTCOME:
            return image.validation_status
        if role == roles.KEYWORD:
            return image.keyword
        return None

    def merge(self, images: list[Image]) -> int:
        """Update known images in place, append new ones; returns how many were new."""
        fresh = []
        for image in images:
            row = self._rows.get(image.id)
            if row is None:
                fresh.append(image)
            elif self._images[row] != image:
                self._images[row] = image
                index = self.index(row)
                self.dataChanged.emit(index, index)
        if fresh:
            first = len(self._images)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for offset, image in enumerate(fresh):
                self._images.append(image)
                self._rows[image.id] = first + offset
            self.endInsertRows()
        return len(fresh)

    def thumbnail_ready(self, image_id: int) -> None:
        row = self._rows.get(image_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def image(self, row: int) -> Image | None:
        return self._images[row] if 0 <= row < len(self._images) else None

    def images(self) -> list[Image]:
        return list(self._images)

    def clear(self) -> None:
        self.beginResetModel()
        self._images.clear()
        self._rows.clear()
        self.endResetModel()


class GalleryFilter(QSortFilterProxyModel):
    """Filters by keyword, validation outcome and review state (None means any)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keyword: str | None = None
        self._outcome: str | None = None
        self._review: str | None = None
        self._ids: frozenset[int] | None = None

    def set_keyword(self, keyword: str | None) -> None:
        self.beginFilterChange()
        self._keyword = keyword or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_outcome(self, outcome: str | None) -> None:
        self.beginFilterChange()
        self._outcome = outcome or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_ids(self, ids: frozenset[int] | None) -> None:
        """Only these images (a duplicate group), or all again with None."""
        self.beginFilterChange()
        self._ids = ids
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    @property
    def ids(self) -> frozenset[int] | None:
        return self._ids

    def set_review(self, review: str | None) -> None:
        self.beginFilterChange()
        self._review = review or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        image = self.sourceModel().index(source_row, 0, source_parent).data(roles.OBJECT)
        if image is None:
            return False
        if self._ids is not None:
            return image.id in self._ids  # a group shows whole, whatever the other filters
        if self._keyword is not None and image.keyword != self._keyword:
            return False
        if self._review is not None and image.review != self._review:
            return False
        return self._outcome is None or image.validation_status == self._outcome
