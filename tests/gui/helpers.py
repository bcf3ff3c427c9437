"""Driving the app like a user: typing into the dialogs, clicking toolbar buttons."""

from __future__ import annotations

import httpx
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtWidgets import QApplication, QCheckBox, QWidget

from pixcrawler_desktop.ui.controller import AppController
from pixcrawler_desktop.ui.mainwindow import MainWindow
from pixcrawler_desktop.ui.signin import SignInDialog
from tests.support.stack import Stack, wait_for

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
WAIT_MS = 30_000
CRAWL_MS = 120_000


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Replace a line edit's text by typing, as a user who selects all and types over it."""
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def type_lines(qtbot, widget: QWidget, text: str) -> None:
    """Type multi-line text, pressing Return between lines (keyClicks takes no newlines)."""
    widget.setFocus()
    for number, line in enumerate(text.split("\n")):
        if number:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def set_checked(qtbot, box: QCheckBox, checked: bool) -> None:
    if box.isChecked() != checked:
        qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))
    assert box.isChecked() == checked


def fill_sign_in(qtbot, dialog: SignInDialog, server: str, email: str, password: str, *,
                 keep: bool = False) -> None:
    type_into(qtbot, dialog.server_box.lineEdit(), server)
    type_into(qtbot, dialog.email_edit, email)
    type_into(qtbot, dialog.password_edit, password)
    set_checked(qtbot, dialog.keep_check, keep)


def sign_in(qtbot, controller: AppController, server: str, email: str, password: str, *,
            keep: bool = False, create: bool = False) -> MainWindow:
    """Type into the sign-in dialog, click the button, wait for the main window."""
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()
    fill_sign_in(qtbot, dialog, server, email, password, keep=keep)
    qtbot.mouseClick(dialog.create_button if create else dialog.sign_in_button, LEFT)
    return wait_window(qtbot, controller)


def wait_window(qtbot, controller: AppController) -> MainWindow:
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.isVisible(),
                    timeout=WAIT_MS)
    window = controller.window
    assert window is not None
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    return window


def click_action(qtbot, window: MainWindow, key: str) -> None:
    """Click the action's toolbar button (it must be enabled, as for a user)."""
    button = window.toolbar.widgetForAction(window.actions[key])
    assert button is not None and button.isEnabled(), f"{key} is not enabled"
    qtbot.mouseClick(button, LEFT, pos=QPoint(10, button.height() // 2))


def press(qtbot, window: MainWindow, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier
          ) -> None:
    """A keyboard shortcut, sent to the table as if it had the focus (window shortcuts need
    the window to be active, which a closed dialog may have left to nobody)."""
    if not window.isActiveWindow():
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    window.jobs.table.setFocus()
    qtbot.keyClick(window.jobs.table, key, modifier)


def shown_job(window: MainWindow):
    return window.job_view.job


def wait_status(qtbot, window: MainWindow, *fragments: str, timeout: int = WAIT_MS) -> str:
    """Wait until the status bar message contains every fragment; returns it."""
    qtbot.waitUntil(lambda: all(f in window.status_text() for f in fragments), timeout=timeout)
    return window.status_text()


class UrlCatcher(QObject):
    """Stands in for the file manager: QDesktopServices hands it the file URLs it opens."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def restart_api(stack: Stack) -> None:
    """Start the stack's API again on the same port (so a client pointed at it reconnects)."""
    port = int(stack.api_url.rsplit(":", 1)[1])
    stack.api = stack._spawn("api", ["--port", str(port), "--log-level", "warning"], "api")

    def up() -> bool:
        try:
            return httpx.get(f"{stack.api_url}/openapi.json", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 60, "the API to answer again")


def stop_api(stack: Stack) -> None:
    assert stack.api is not None
    stack._stop(stack.api)


def process_events() -> None:
    QApplication.processEvents()
