"""Painting for cells that are more than text: progress bars, chunk cells, image badges."""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from pixcrawler_desktop.ui import resources, roles

Index = QModelIndex | QPersistentModelIndex


class ProgressBarDelegate(QStyledItemDelegate):
    """A progress bar from the PROGRESS role, tinted by the row's status.

    Painted by hand rather than by the style: a style sheet's QProgressBar rules do not
    apply to a bar drawn for a table cell, and the result looked broken.
    """

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        value = index.data(roles.PROGRESS)
        if value is None:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.color(QPalette.ColorRole.Highlight))
        paint_bar(painter, option, option.rect.adjusted(6, 6, -6, -6), int(value),
                  roles.status_color(index.data(roles.STATUS) or "running"), f"{int(value)}%")

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(120, max(24, super().sizeHint(option, index).height()))


def paint_bar(painter: QPainter, option: QStyleOptionViewItem, rect: QRect, percent: int,
              color: QColor, text: str,
              align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter, track: int = 38) -> None:
    """A rounded track (opacity `track` of 255) filled to `percent` in `color`, with `text`
    on it."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    track_color = QColor(color)
    track_color.setAlpha(track)
    track = track_color
    painter.setBrush(track)
    painter.drawRoundedRect(rect, 4, 4)
    if percent > 0:
        fill = QColor(color)
        fill.setAlpha(150)
        painter.setBrush(fill)
        width = max(8, rect.width() * min(percent, 100) // 100)
        painter.drawRoundedRect(QRect(rect.left(), rect.top(), width, rect.height()), 4, 4)
    painter.setPen(option.palette.color(QPalette.ColorRole.Text))
    painter.drawText(rect.adjusted(6, 0, -6, 0), align, text)
    painter.restore()


def paint_outline(painter: QPainter, option: QStyleOptionViewItem, rect: QRect, color: QColor,
                  text: str) -> None:
    """A dashed, unfilled cell: something that has not begun (a queued chunk)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(color, 1, Qt.PenStyle.DashLine))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
    painter.setPen(option.palette.color(QPalette.ColorRole.Text))
    painter.drawText(rect.adjusted(6, 0, -6, 0),
                     Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
    painter.restore()


def legend_html(states: dict[str, str] | None = None) -> str:
    """The chunk grid's legend: a swatch in each state's colour and its word."""
    states = states or roles.CHUNK_STATES
    return "&nbsp;&nbsp; ".join(
        f'<span style="color:{roles.STATUS_COLORS[state]}">■</span>&nbsp;{word}'
        for state, word in states.items())


def paint_caution(painter: QPainter, rect: QRect) -> None:
    """A small amber warning triangle with "!" at the right end of `rect`, drawn rather than
    taken from a font, which may have no such glyph."""
    side = min(14, rect.height() - 4)
    left, top = rect.right() - side - 4, rect.center().y() - side // 2
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(roles.CAUTION_COLOR))
    painter.drawPolygon(QPolygonF([QPointF(left + side / 2, top), QPointF(left + side, top + side),
                                   QPointF(left, top + side)]))
    painter.setPen(QColor("white"))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(max(8, side - 4))
    painter.setFont(font)
    painter.drawText(QRect(left, top + 2, side, side - 1), Qt.AlignmentFlag.AlignCenter, "!")
    painter.restore()


class ChunkCellDelegate(QStyledItemDelegate):
    """A chunk cell: tinted by status, filled to its progress, "downloaded/target" on top, and
    a warning sign when the server left warnings on the chunk (details in the tooltip)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        state = index.data(roles.CELL_STATE) or "pending"
        rect = option.rect.adjusted(2, 2, -2, -2)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        if state in ("failed", "cancelled", "paused"):
            text = f"{text}  {state}"
        color = roles.status_color(state)
        if state != "pending":  # a queued chunk is an empty outline; any other is tinted
            paint_bar(painter, option, rect, int(index.data(roles.PROGRESS) or 0), color, text,
                      Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, track=70)
        else:
            paint_outline(painter, option, rect, color, text)
        if index.data(roles.WARNINGS):
            paint_caution(painter, rect)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(option.palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, 4, 4)
            painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(140, 26)


BADGE_SIZE = 20
CAPTION_HEIGHT = 20


class ThumbnailDelegate(QStyledItemDelegate):
    """A gallery tile: the thumbnail, a caption, a badge for the validation outcome.

    Painted by hand with three data() calls per tile: the gallery repaints tiles whenever a
    thumbnail arrives or the view scrolls, and the style's generic item painting (a dozen
    data() calls and an icon rescale per tile) cost up to 50 ms per frame.
    """

    def __init__(self, picture: QSize, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.picture = picture

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        palette = option.palette
        tile = option.rect.adjusted(3, 3, -3, -3)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(48)
            painter.setPen(highlight)
            painter.setBrush(fill)
            painter.drawRoundedRect(tile, 6, 6)
        area = QRect(0, 0, self.picture.width(), self.picture.height())
        area.moveCenter(QPoint(tile.center().x(), tile.top() + 4 + area.height() // 2))
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        shown = area
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.size()
            if size.width() > area.width() or size.height() > area.height():
                size.scale(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            shown = QRect(QPoint(0, 0), size)
            shown.moveCenter(area.center())
            painter.drawPixmap(shown, pixmap)
        caption = QRect(tile.left() + 4, area.bottom() + 4, tile.width() - 8, CAPTION_HEIGHT)
        text = option.fontMetrics.elidedText(str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
                                             Qt.TextElideMode.ElideRight, caption.width())
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        outcome = index.data(roles.OUTCOME)
        if outcome in roles.OUTCOMES:
            painter.drawPixmap(shown.right() - BADGE_SIZE + 5, shown.top() - 5,
                               resources.pixmap(f"badge-{outcome}", BADGE_SIZE))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.picture.width() + 20, self.picture.height() + CAPTION_HEIGHT + 16)
