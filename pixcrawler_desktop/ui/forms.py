"""Form helpers: an error label under each input, filled from local checks or from the
server's 422 `field_errors`, so a refused value is pointed at where it was typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from pixcrawler_desktop.client.errors import ApiError


def role_label(text: str = "", role: str = "", *, wrap: bool = True,
               name: str = "") -> QLabel:
    """A label styled by the stylesheet's `role` property (error, notice, subtle, …)."""
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label


def set_invalid(widget: QWidget, invalid: bool) -> None:
    """Flip the `invalid` property the stylesheet draws a red border for."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Field:
    """An input plus the error label below it."""

    def __init__(self, name: str, widget: QWidget) -> None:
        self.name = name
        self.widget = widget
        self.error = role_label(role="error", name=f"{name}_error")
        self.error.hide()
        self.container = QWidget()
        layout = QVBoxLayout(self.container)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(self.error)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        set_invalid(self.widget, bool(message))


class FieldErrors:
    """The fields of one form by their API body names, plus a label for everything else."""

    def __init__(self, fields: list[Field], general: QLabel,
                 aliases: dict[str, str] | None = None) -> None:
        self.fields = {f.name: f for f in fields}
        self.general = general
        self.aliases = aliases or {}
        general.hide()

    def clear(self) -> None:
        for field in self.fields.values():
            field.set_error("")
        self.set_general("")

    def set(self, name: str, message: str) -> None:
        self.fields[self.aliases.get(name, name)].set_error(message)

    def set_general(self, message: str) -> None:
        self.general.setText(message)
        self.general.setVisible(bool(message))

    def messages(self) -> dict[str, str]:
        return {name: f.error.text() for name, f in self.fields.items() if f.error.text()}

    def show_api_error(self, exc: ApiError, fallback: str) -> None:
        """Put each of the server's field errors beside its input; the rest goes below."""
        unplaced = []
        for name, message in exc.field_errors.items():
            target = self.aliases.get(name, name)
            if target in self.fields:
                self.fields[target].set_error(message)
            else:
                unplaced.append(f"{name}: {message}")
        if not exc.field_errors:
            self.set_general(fallback)
        elif unplaced:
            self.set_general("; ".join(unplaced))
