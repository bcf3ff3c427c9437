"""Light and dark appearance: follows the system colour scheme unless the user overrides it.

The palette is built here rather than left to the platform theme, because Fusion on Linux
and on Windows before 11 ignores the system's dark mode; the stylesheet only adds accents.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from pixcrawler_desktop.ui import resources

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

_COLORS = {
    "light": {
        Role.Window: "#f5f6f8", Role.WindowText: "#111827", Role.Base: "#ffffff",
        Role.AlternateBase: "#f9fafb", Role.Text: "#111827", Role.Button: "#f3f4f6",
        Role.ButtonText: "#111827", Role.Highlight: "#2563eb", Role.HighlightedText: "#ffffff",
        Role.ToolTipBase: "#111827", Role.ToolTipText: "#f9fafb", Role.PlaceholderText: "#9ca3af",
        Role.Link: "#1d4ed8", Role.Mid: "#d1d5db", Role.Dark: "#9ca3af", Role.Light: "#ffffff",
        Role.Midlight: "#e5e7eb", Role.Shadow: "#6b7280", Role.BrightText: "#dc2626",
    },
    "dark": {
        Role.Window: "#18202c", Role.WindowText: "#e5e7eb", Role.Base: "#0f1620",
        Role.AlternateBase: "#151d29", Role.Text: "#e5e7eb", Role.Button: "#253041",
        Role.ButtonText: "#e5e7eb", Role.Highlight: "#3b82f6", Role.HighlightedText: "#ffffff",
        Role.ToolTipBase: "#f9fafb", Role.ToolTipText: "#111827", Role.PlaceholderText: "#6b7280",
        Role.Link: "#93c5fd", Role.Mid: "#374151", Role.Dark: "#0b1017", Role.Light: "#4b5563",
        Role.Midlight: "#323e50", Role.Shadow: "#000000", Role.BrightText: "#f87171",
    },
}
_DISABLED_TEXT = {"light": "#9ca3af", "dark": "#6b7280"}
# the edge of check boxes and radio buttons: Fusion draws it a shade darker than the window,
# which on a dark window is black on near-black (unchecked boxes all but vanished)
_INDICATOR_EDGE = {"light": None, "dark": "#9ca3af"}
_INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
               QStyle.PrimitiveElement.PE_IndicatorRadioButton,
               QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)


class IndicatorStyle(QProxyStyle):
    """Fusion, with a visible edge round check boxes and radio buttons when `edge` is set."""

    def __init__(self) -> None:
        super().__init__("Fusion")
        self.edge: QColor | None = None

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if self.edge is None or element not in _INDICATORS:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        edge = QColor(self.edge)
        if not option.state & QStyle.StateFlag.State_Enabled:
            edge.setAlpha(110)
        painter.setPen(QPen(edge, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 2, 2)
        painter.restore()


def palette(scheme: str) -> QPalette:
    result = QPalette()
    for role, color in _COLORS[scheme].items():
        result.setColor(role, QColor(color))
    for role in (Role.WindowText, Role.Text, Role.ButtonText):
        result.setColor(Group.Disabled, role, QColor(_DISABLED_TEXT[scheme]))
    return result


def system_scheme() -> str:
    """"dark" if the platform says so, else "light" (also when it says nothing)."""
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


class Theme(QObject):
    """Applies the chosen scheme to the application and tells widgets when it changes."""

    changed = Signal(str)

    def __init__(self, app: QApplication, choice: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._choice = choice
        self.scheme = ""
        self.style = IndicatorStyle()
        app.setStyle(self.style)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply()

    @property
    def choice(self) -> str:
        return self._choice

    def set_choice(self, choice: str) -> None:
        self._choice = choice
        self.apply()

    def apply(self) -> None:
        scheme = system_scheme() if self._choice == "system" else self._choice
        if scheme == self.scheme:
            return
        self.scheme = scheme
        edge = _INDICATOR_EDGE[scheme]
        self.style.edge = QColor(edge) if edge else None
        self._app.setPalette(palette(scheme))
        self._app.setStyleSheet(resources.stylesheet(scheme))
        self.changed.emit(scheme)

    def icon_color(self) -> str:
        return _COLORS[self.scheme or "light"][Role.Text]

    def _system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self._choice == "system":
            self.apply()


def themed_icon(name: str):
    """An icon in the current palette's text colour (works without a Theme object too)."""
    app = QApplication.instance()
    color = app.palette().color(Role.Text).name() if app is not None else "#1f2937"
    return resources.icon(name, color)
