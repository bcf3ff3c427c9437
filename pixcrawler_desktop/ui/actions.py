"""The job actions (New, Start, Cancel, Retry, Validate, Export, Delete, Refresh) as QActions.

One set of QAction objects serves the toolbar, the menu bar, the table's context menu and
the keyboard shortcuts, so enabling an action in one place enables it everywhere. Whether an
action is enabled comes from the client's `can_*` rules for the selected job: the buttons
offer only what the server would accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from pixcrawler_desktop.client.models import (
    VALIDATION_LEVELS,
    Job,
    can_cancel,
    can_delete,
    can_export,
    can_retry,
    can_start,
    can_validate,
)
from pixcrawler_desktop.ui.theme import themed_icon

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Spec:
    key: str
    text: str
    icon: str
    shortcut: str | QKeySequence.StandardKey
    tip: str
    rule: Callable[[Job], bool] | None  # None: needs no selected job


SPECS = (
    Spec("new", "&New job…", "new", Key.New, "Create a crawl job", None),
    Spec("start", "&Start", "start", "Ctrl+Return", "Start the selected pending job", can_start),
    Spec("cancel", "&Cancel", "cancel", "Ctrl+.", "Cancel the selected job", can_cancel),
    Spec("retry", "&Retry", "retry", "Ctrl+Shift+R",
         "Run the failed and cancelled chunks again", can_retry),
    Spec("validate", "&Validate", "validate", "Ctrl+Shift+V",
         "Check the job's images (medium level)", can_validate),
    Spec("export", "E&xport dataset…", "export", "Ctrl+E",
         "Save the job's images as a dataset: a zip file, or a folder", can_export),
    Spec("delete", "&Delete job…", "delete", Key.Delete,
         "Delete the selected job and all its images (asks first)", can_delete),
    Spec("refresh", "Re&fresh", "refresh", Key.Refresh, "Reload the jobs from the server", None),
)
# A paused job is cancelled on the server: Start resumes it, Retry would only say the same.
PAUSED_RULES: dict[str, Callable[[Job], bool]] = {
    "start": lambda job: job.status == "cancelled",
    "cancel": lambda job: job.status == "cancelled",
    "retry": lambda _job: False,
}
LEVEL_TIPS = {
    "fast": "Format, structure, dimensions and size limits",
    "medium": "Fast checks plus full decode, exact duplicates, dark/light/grayscale images",
    "slow": "Medium checks plus near-duplicates and blur",
}


class JobActions(QObject):
    """`triggered(key, argument)`: argument is the validation level for "validate"."""

    triggered = Signal(str, object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.actions: dict[str, QAction] = {}
        self.specs = {spec.key: spec for spec in SPECS}
        for spec in SPECS:
            action = QAction(spec.text, parent)
            action.setObjectName(f"action_{spec.key}")
            action.setShortcut(QKeySequence(spec.shortcut))
            # Delete job's key works only where jobs are (the jobs list adds the action to
            # its table): in the gallery the same key rejects the selected images.
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut if spec.key == "delete"
                                      else Qt.ShortcutContext.WindowShortcut)
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{spec.tip} ({shortcut})" if shortcut else spec.tip)
            action.setStatusTip(spec.tip)
            argument = "medium" if spec.key == "validate" else None
            action.triggered.connect(
                lambda _checked=False, k=spec.key, a=argument: self.triggered.emit(k, a))
            parent.addAction(action)
            self.actions[spec.key] = action
        self.levels: dict[str, QAction] = {}
        self.validate_menu = QMenu("Validate", parent)
        for number, level in enumerate(VALIDATION_LEVELS, start=1):
            action = QAction(f"{level.capitalize()} checks", parent)
            action.setObjectName(f"action_validate_{level}")
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.setStatusTip(LEVEL_TIPS[level])
            action.setToolTip(LEVEL_TIPS[level])
            action.triggered.connect(
                lambda _checked=False, lv=level: self.triggered.emit("validate", lv))
            parent.addAction(action)
            self.validate_menu.addAction(action)
            self.levels[level] = action
        self.validate_menu.setToolTipsVisible(True)
        self.actions["validate"].setMenu(self.validate_menu)
        self.retheme()
        self.update(None, signed_in=False)

    def __getitem__(self, key: str) -> QAction:
        return self.actions[key]

    def retheme(self) -> None:
        for key, action in self.actions.items():
            action.setIcon(themed_icon(self.specs[key].icon))

    def update(self, job: Job | None, *, signed_in: bool = True, paused: bool = False) -> None:
        """Enable what the server would accept for `job`. A job `paused` at quit (cancelled
        on the server, see ui.pause) is started again by Start (a retry of its open chunks);
        Cancel then only forgets that it was paused."""
        for key, action in self.actions.items():
            rule = self.specs[key].rule
            if paused and job is not None and key in PAUSED_RULES:
                rule = PAUSED_RULES[key]
            action.setEnabled(signed_in and (rule is None or (job is not None and rule(job))))
        self._tips(job, paused)
        enabled = self.actions["validate"].isEnabled()
        for action in self.levels.values():
            action.setEnabled(enabled)

    def _tips(self, job: Job | None, paused: bool) -> None:
        """Tooltips that say what the action does to this job, where that differs."""
        tips = {key: spec.tip for key, spec in self.specs.items()}
        if job is not None and job.status == "running":
            tips["export"] = "Save the images downloaded so far: the job is still running"
        if paused:
            tips["start"] = "Go on with the paused job: its unfinished chunks run again"
            tips["cancel"] = "Leave the job cancelled instead of paused"
        for key, action in self.actions.items():
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tips[key]} ({shortcut})" if shortcut else tips[key])
            action.setStatusTip(tips[key])

    def enabled(self) -> set[str]:
        return {key for key, action in self.actions.items() if action.isEnabled()}

    def fill_menu(self, menu: QMenu, *, with_new: bool = True) -> None:
        keys = ["new"] if with_new else []
        for key in [*keys, "start", "cancel", "retry"]:
            menu.addAction(self.actions[key])
        menu.addMenu(self.validate_menu).setIcon(themed_icon("validate"))
        menu.addAction(self.actions["export"])
        menu.addSeparator()
        menu.addAction(self.actions["delete"])
        menu.addAction(self.actions["refresh"])

    def style_validate_button(self, button: QToolButton | None) -> None:
        """On the toolbar, Validate is a split button: click for medium, arrow for a level."""
        if button is not None:
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
