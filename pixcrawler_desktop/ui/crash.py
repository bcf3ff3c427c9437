"""A last-resort hook for the unexpected: log the traceback, show a short message.

Anything that escapes a slot lands here instead of printing a traceback users cannot act
on; the log file keeps what a bug report needs. Kept free of the API client so that it can
be installed before anything heavy is imported.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("pixcrawler_desktop")


def log_path() -> Path:
    return Path(platformdirs.user_log_dir("PixCrawler", appauthor=False)) / "desktop.log"


def setup_logging(path: Path | None = None) -> Path:
    """Log to a rotating file (and stderr), so the excepthook has somewhere to write."""
    path = path or log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if not any(isinstance(h, RotatingFileHandler) for h in root.handlers):
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


class CrashReporter:
    """A sys.excepthook: log the traceback, show a message box, keep the app running.

    `show` is replaceable so tests can look at the message without a modal box.
    """

    def __init__(self, log_file: Path, show: Callable[[str], None] | None = None) -> None:
        self.log_file = log_file
        self.show = show or self._message_box
        self.last_message = ""
        self._box: QMessageBox | None = None

    def install(self) -> None:
        sys.excepthook = self

    def __call__(self, kind: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.error("unhandled exception\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        what = str(exc) or type(exc).__name__
        self.last_message = (f"Something went wrong: {what}\n\n"
                             f"The details were written to {self.log_file}.")
        self.show(self.last_message)

    def _message_box(self, text: str) -> None:
        """Non-blocking (open, not exec): the hook may run inside any slot."""
        if QApplication.instance() is None:
            print(text, file=sys.stderr)
            return
        parent: QWidget | None = QApplication.activeWindow()
        self._box = QMessageBox(QMessageBox.Icon.Critical, "PixCrawler — Error", text,
                                QMessageBox.StandardButton.Ok, parent)
        self._box.open()
