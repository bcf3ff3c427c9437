"""`pixcrawler-desktop`: build the QApplication, sign in, open the main window.

Qt is imported only here and in `ui/`, so the CLI and the server roles of
`python -m pixcrawler_desktop` never load it. Here it is imported inside the functions, after
`main` has answered `--version` and checked on Linux that Qt's xcb plugin can load its
libraries (`xcb_check`): importing Qt already needs some of them, and a missing one would
otherwise end in Qt's own cryptic abort. The first window needs only Qt and a few small
modules; the API client, the keyring and the main window load after it is on screen.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pixcrawler_desktop import xcb_check
from pixcrawler_desktop.version import version_line

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from pixcrawler_desktop.ui.controller import AppController

PROGRAM = "pixcrawler-desktop"

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    from pixcrawler_desktop.ui.settings import THEMES

    parser = argparse.ArgumentParser(prog=PROGRAM,
                                     description="PixCrawler Desktop: build image datasets.")
    parser.add_argument("--version", action="version", version=version_line(PROGRAM))
    parser.add_argument("--server", help="server address to offer at sign-in")
    parser.add_argument("--theme", choices=THEMES, help="override the saved theme for this run")
    parser.add_argument("--no-resume", action="store_true",
                        help="ask for the password even if a sign-in is stored")
    return parser.parse_known_args(list(argv))  # the rest is for Qt (-platform, -style, …)


def create_application(qt_args: Sequence[str]) -> QApplication:
    from PySide6.QtWidgets import QApplication

    from pixcrawler_desktop.ui import resources
    from pixcrawler_desktop.ui.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setDesktopFileName(resources.metadata()["desktop_file"])
    app.setWindowIcon(resources.app_icon())
    return app


_keep: list[object] = []  # the wakeup sockets live as long as the app


def quit_on_signals(app: QApplication, controller: AppController) -> None:
    """Ctrl-C in a terminal (run.sh), its closing (SIGHUP) or a SIGTERM quits like File ▸ Quit,
    so the backend's processes are stopped too; running jobs are paused first, since no one
    can be asked (a second signal quits at once). Python runs signal handlers only when it
    gets control, which Qt's event loop does not give it: the wakeup socket wakes the loop."""
    from PySide6.QtCore import QSocketNotifier

    receive, send = socket.socketpair()
    receive.setblocking(False)
    send.setblocking(False)
    try:
        signal.set_wakeup_fd(send.fileno())
    except ValueError:  # not the main thread (embedded in a test runner): leave it be
        receive.close()
        send.close()
        return
    notifier = QSocketNotifier(receive.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:  # Python's signal handler runs as this returns to the loop
        with contextlib.suppress(OSError):
            receive.recv(64)

    notifier.activated.connect(drain)
    _keep.extend((receive, send, notifier))
    def on_signal(*_: object) -> None:
        if not controller.quit_by_signal():
            app.quit()

    for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None:  # Windows has no SIGHUP
            signal.signal(number, on_signal)


def build(argv: Sequence[str] | None = None) -> tuple[QApplication, AppController]:
    """Everything up to the first window, without entering the event loop (for the bench)."""
    from pixcrawler_desktop.ui.controller import AppController
    from pixcrawler_desktop.ui.crash import CrashReporter, setup_logging
    from pixcrawler_desktop.ui.settings import AppSettings
    from pixcrawler_desktop.ui.theme import Theme
    from pixcrawler_desktop.ui.tokenstore import LazyTokenStore

    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    reporter = CrashReporter(setup_logging())
    app = create_application(qt_args)
    reporter.install()
    settings = AppSettings()
    if args.server:
        settings.remember_server(args.server)
    theme = Theme(app, args.theme or settings.theme)
    controller = AppController(settings, LazyTokenStore(), theme=theme, parent=app)
    app.aboutToQuit.connect(controller.shutdown)
    quit_on_signals(app, controller)
    controller.start(resume=not args.no_resume)
    return app, controller


def main(argv: Sequence[str] | None = None) -> int:
    """`--version` without loading Qt; then, on Linux, Qt's xcb libraries, which a missing one
    turns into the command that installs it (exit xcb_check.MISSING_LIBRARIES)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv:
        print(version_line(PROGRAM))
        return 0
    if problem := xcb_check.check(argv):
        print(problem, file=sys.stderr)
        return xcb_check.MISSING_LIBRARIES
    app, _controller = build(argv)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
