"""Custom item-data roles and display helpers shared by the Qt models and delegates."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

USER = Qt.ItemDataRole.UserRole
SORT = USER + 1        # raw value to sort by (numbers, datetimes as timestamps)
OBJECT = USER + 2      # the client model object behind the row or cell
PROGRESS = USER + 3    # 0..100
STATUS = USER + 4      # job or chunk status string
OUTCOME = USER + 5     # image validation status
KEYWORD = USER + 6     # image keyword
WARNINGS = USER + 7    # a chunk's warnings (list of str)
CELL_STATE = USER + 8  # a chunk cell's state as shown: a status, "waiting" or "paused"

STATUS_COLORS = {
    "pending": "#9ca3af",
    "running": "#3b82f6",
    "completed": "#16a34a",
    "failed": "#dc2626",
    "cancelled": "#d97706",
    "paused": "#7c3aed",  # cancelled at quit to go on later (ui.pause): not a server status
    "waiting": "#0d9488",  # a chunk held back by its engine's search quota (a cell state)
}
# The chunk grid's states in the order of its legend, with the words it uses for them.
CHUNK_STATES = {
    "pending": "queued", "waiting": "waiting for quota", "running": "running",
    "completed": "completed", "failed": "failed", "cancelled": "cancelled",
    "paused": "paused",
}

OUTCOMES = ("valid", "invalid", "duplicate", "pending")
CAUTION_COLOR = "#d97706"


def status_color(status: str) -> QColor:
    return QColor(STATUS_COLORS.get(status, "#9ca3af"))


def local_time(value: datetime | None) -> str:
    """A server timestamp (UTC) in the user's time zone, to the minute."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def timestamp(value: datetime | None) -> float:
    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def time_left(when: datetime | None, now: datetime | None = None) -> str:
    """"in 40 s", "in 3 min", "in 2 h 5 min": an estimate is read as a duration, not a clock."""
    if when is None:
        return "–"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((when - (now or datetime.now(UTC))).total_seconds())
    if seconds < 1:
        return "any moment"
    if seconds < 90:
        return f"in {seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"in {minutes} min"
    return f"in {minutes // 60} h {minutes % 60} min"
