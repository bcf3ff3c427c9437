"""Small building blocks shared by the views."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QStackedWidget, QVBoxLayout, QWidget

from pixcrawler_desktop.ui.forms import role_label


class Counter(QFrame):
    """A card with a big number and a caption (chunks done, images, …)."""

    def __init__(self, caption: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setProperty("role", "card")
        self.value = role_label("–", "counterValue", wrap=False)
        self.caption = role_label(caption, "counterName", wrap=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set(self, value: object, tooltip: str = "") -> None:
        self.value.setText(str(value))
        self.setToolTip(tooltip)

    def text(self) -> str:
        return self.value.text()


class Placeholder(QStackedWidget):
    """Shows `content`, or a centred hint when there is nothing to show (no empty areas)."""

    def __init__(self, content: QWidget, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(hint)
        self.hint.setProperty("role", "subtle")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.addWidget(self.hint)
        self.addWidget(content)
        self.content = content

    def show_content(self, visible: bool, hint: str | None = None) -> None:
        if hint is not None:
            self.hint.setText(hint)
        self.setCurrentWidget(self.content if visible else self.hint)
