"""The engines of the New job dialog: whatever the server offers, one per row with a note.

The list comes from the server (GET /engines), so engines added there appear without a new
app. An engine the server cannot use (an API key is missing) is greyed out with a short hint
beside it and the server's full reason in its tooltip; a chosen engine that cannot apply one
of the requested filters says so beside its name before the job runs, rather than only in the
chunk warnings afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from pixcrawler_desktop.client.models import Engine, Filters, filters_not_applied
from pixcrawler_desktop.ui.filters_box import FILTER_LABELS
from pixcrawler_desktop.ui.forms import role_label

DEFAULT_ENGINES = ("bing", "duckduckgo")  # as the CLI: free, no key, general web search
KINDS = {"scraped": "search site", "api": "API"}


def engine_tooltip(engine: Engine) -> str:
    lines = [f"{engine.label or engine.name} ({KINDS.get(engine.kind, engine.kind)})"]
    if not engine.available:
        lines.append(f"Not available: {engine.reason or 'the server cannot use it'}")
    applies = [FILTER_LABELS.get(name, name) for name in engine.filters]
    lines.append(
        "Filters by " + ", ".join(applies)
        if applies
        else "Applies no filters besides the minimum size"
    )
    return "\n".join(lines)


class EnginePicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engines: dict[str, Engine] = {}
        self.checks: dict[str, QCheckBox] = {}
        self.notes: dict[str, QLabel] = {}
        self.loaded = False
        self._filters = Filters()
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(4)
        self._grid.setColumnStretch(1, 1)
        self.status = role_label("Loading engines…", "subtle", wrap=False, name="engines_status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addLayout(self._grid)

    def set_engines(self, engines: list[Engine], remembered: list[str] | None = None) -> None:
        """Fill the list; the engines of the last job (those still usable), else the default
        engines, else the first usable one start checked."""
        usable = [e.name for e in engines if e.available]
        wanted = ([n for n in remembered or () if n in usable]
                  or [n for n in DEFAULT_ENGINES if n in usable] or usable[:1])
        for position, engine in enumerate(engines):
            check = QCheckBox(engine.label or engine.name, objectName=f"engine_{engine.name}")
            check.setToolTip(engine_tooltip(engine))
            check.setEnabled(engine.available)
            check.setChecked(engine.name in wanted)
            check.toggled.connect(self._toggled)
            check.setMinimumHeight(check.sizeHint().height())
            note = role_label("", "caution", wrap=False, name=f"engine_note_{engine.name}")
            note.setToolTip(check.toolTip())
            self._grid.addWidget(check, position, 0)
            self._grid.addWidget(note, position, 1)
            check.show()  # now, not queued: the minimum height below counts it
            self.engines[engine.name], self.checks[engine.name] = engine, check
            self.notes[engine.name] = note
        self.loaded = True
        self.status.setVisible(not engines)
        self.status.setText("This server offers no engines.")
        self._update_notes()
        # A hard minimum: the dialog's form layout squeezed the list below its size hint to
        # give the keywords box room, and the last engine was cut off.
        self.layout().activate()
        self.setMinimumHeight(self.layout().minimumSize().height())

    def set_filters(self, filters: Filters) -> None:
        self._filters = filters
        self._update_notes()

    def set_unavailable(self, name: str, reason: str) -> None:
        """The server refused the engine after all (its key was removed meanwhile)."""
        engine = self.engines.get(name)
        if engine is None:
            return
        self.engines[name] = engine.model_copy(update={"available": False, "reason": reason})
        check = self.checks[name]
        check.setChecked(False)
        check.setEnabled(False)
        check.setToolTip(engine_tooltip(self.engines[name]))
        self.notes[name].setToolTip(check.toolTip())
        self._update_notes()

    def selected(self) -> list[str]:
        return [
            name for name, check in self.checks.items() if check.isChecked() and check.isEnabled()
        ]

    def note(self, name: str) -> str:
        return self.notes[name].text()

    def _toggled(self, _checked: bool) -> None:
        self._update_notes()
        self.changed.emit()

    def _update_notes(self) -> None:
        chosen = set(self.selected())
        for name, engine in self.engines.items():
            text, role = self._note(engine, name in chosen)
            label = self.notes[name]
            label.setText(text)
            label.setVisible(bool(text))
            if label.property("role") != role:
                label.setProperty("role", role)
                label.style().unpolish(label)
                label.style().polish(label)

    def _note(self, engine: Engine, chosen: bool) -> tuple[str, str]:
        """The note's text and style role: why it cannot be used, or what it cannot filter."""
        if not engine.available:  # "needs an API key: set …": the variable is in the tooltip
            hint = (engine.reason or "not available on this server").split(":", 1)[0]
            return hint, "subtle"
        missing = filters_not_applied(engine, self._filters) if chosen else []
        text = "cannot filter by " + ", ".join(FILTER_LABELS.get(f, f) for f in missing)
        return (text if missing else ""), "caution"
