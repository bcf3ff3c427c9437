"""The app's life: sign in, the main window, signing in again, signing out, quitting.

Sign-in is a dialog of its own at start and after signing out. When the server ends a
session later (a refused refresh), the dialog opens over the main window, which keeps
everything it shows; signing in again resumes it where it was.

The controller also holds "This computer"'s backend for the whole run: signing out leaves it
running (signing in again is then instant), a restart from the backend panel moves the window
to the new address, and quitting waits until the processes it started have ended.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from pixcrawler_desktop.ui.contact import (
    ContactDialog,
    contact_env,
    contact_in_environment,
    give_contact,
)
from pixcrawler_desktop.ui.localserver import LocalServer, StoppingNote
from pixcrawler_desktop.ui.settings import AppSettings
from pixcrawler_desktop.ui.signin import ClientFactory, SignInDialog, make_client
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.theme import Theme

if TYPE_CHECKING:  # the main window and the client load after sign-in, not at launch
    from pixcrawler_desktop.client.api import PixCrawlerClient
    from pixcrawler_desktop.client.models import User
    from pixcrawler_desktop.client.tokens import TokenStore
    from pixcrawler_desktop.ui.mainwindow import MainWindow
    from pixcrawler_desktop.ui.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 3000


class AppController(QObject):
    window_shown = Signal(object)   # MainWindow
    sign_in_shown = Signal(object)  # SignInDialog

    def __init__(self, settings: AppSettings, store: TokenStore, *,
                 client_factory: ClientFactory = make_client, theme: Theme | None = None,
                 cache: ThumbnailCache | None = None, local: LocalServer | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.client_factory = client_factory
        self.theme = theme
        self.cache = cache
        self.runner = TaskRunner(4, self)
        self.thumb_runner = TaskRunner(4, self)
        self.window: MainWindow | None = None
        self.dialog: SignInDialog | None = None
        self.client: PixCrawlerClient | None = None
        self.local = local if local is not None else LocalServer(
            concurrency=settings.local_concurrency, env=contact_env(settings.contact),
            parent=self)
        self.local.event.connect(self._local_event)
        self._keyring_said = False
        self._closed = False
        self.stopping_note: StoppingNote | None = None  # shown while quitting stops the server

    # -- signing in -----------------------------------------------------------------------
    def start(self, *, resume: bool = True) -> SignInDialog:
        """Show the sign-in dialog; with `resume`, try the stored token right away."""
        dialog = self._sign_in_dialog()
        dialog.show()
        if resume:
            dialog.try_resume()
        return dialog

    def _sign_in_dialog(self, message: str = "", parent: MainWindow | None = None
                        ) -> SignInDialog:
        dialog = SignInDialog(self.settings, self.store, self.runner,
                              client_factory=self.client_factory, message=message,
                              keyring_notice=not self._keyring_said, local=self.local,
                              parent=parent)
        dialog.notice_shown.connect(self._notice_shown)
        dialog.accepted.connect(lambda: self._signed_in(dialog))
        self.dialog = dialog
        self.sign_in_shown.emit(dialog)
        return dialog

    def _notice_shown(self) -> None:
        self._keyring_said = True

    def _signed_in(self, dialog: SignInDialog) -> None:
        from pixcrawler_desktop.ui.mainwindow import MainWindow

        client, user = dialog.client, dialog.user
        assert client is not None and user is not None
        old, self.client = self.client, client
        if self.window is None:
            self.window = MainWindow(client, user, self.settings, self.runner,
                                     self.thumb_runner, self.theme, self.cache)
            self.window.session_expired.connect(self._session_expired)
            self.window.sign_out_requested.connect(self.sign_out)
            self.window.local_restart_requested.connect(self.restart_local)
            self.window.set_local(self.local if dialog.local_session else None)
            self.window.show()
        else:
            self.window.set_session(client, user)
            self.window.set_local(self.local if dialog.local_session else None)
            self.window.notify(f"Signed in again as {user.email}")
        if old is not None and old is not client:
            old.close()
        if not self.store.available and not self._keyring_said:
            self._keyring_said = True  # the keyring failed only now, while saving the token
            self.window.notify(self.store.reason or "")
        if (dialog.local_session and not self.settings.contact_asked
                and not contact_in_environment()):
            self._ask_contact(self.window)
        self.window_shown.emit(self.window)

    def _ask_contact(self, window: MainWindow) -> None:
        """Once, on the first run on this computer: who may sites contact about our crawls.
        Not modal: the window is usable meanwhile."""
        ask = ContactDialog(window)
        ask.accepted.connect(lambda: self._contact_given(ask.contact()))
        ask.finished.connect(lambda _result: self._contact_asked())
        window.dialog = ask
        ask.show()

    def _contact_asked(self) -> None:
        self.settings.contact_asked = True
        self.settings.sync()

    def _contact_given(self, contact: str) -> None:
        """Keep it and give it to this computer's server: restarted now if it runs no job,
        so its crawls say it from the start; else from its next start."""
        self.settings.contact = contact
        self.settings.sync()
        give_contact(self.local, contact)
        window = self.window
        if window is None or window.local_server is None or not self.local.owned:
            return
        if any(job.status == "running" for job in window.jobs.model.jobs()):
            window.notify(f"Sites will see {contact} from the next start of the local server")
        else:
            self.restart_local(self.settings.local_concurrency)

    def _session_expired(self, reason: str) -> None:
        """Sign in again over the window, which keeps its content meanwhile."""
        if self.window is None or (self.dialog is not None and self.dialog.isVisible()):
            return
        dialog = self._sign_in_dialog(
            f"Your session has ended ({reason}). Sign in again to continue.", self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()

    def sign_out(self) -> None:
        """End the session on the server (POST /auth/logout, in the background), forget the
        stored token and go back to the sign-in dialog."""
        client, window = self.client, self.window
        self.client, self.window = None, None
        dialog = self.start(resume=False)
        if window is not None:
            window.shutdown()
            window.close_without_asking()  # the backend stays up: its jobs go on
            window.deleteLater()
        if client is not None:
            def forget() -> None:
                # The server call and the keyring may block: not on the UI thread.
                client.logout(forget=True)
                client.close()
            self.runner.run(forget)
        dialog.raise_()

    # -- this computer's backend ---------------------------------------------------------
    def _local_event(self, message: str) -> None:
        """The backend's messages (a worker restarted by its watchdog) in the status bar."""
        if self.window is not None and self.window.local_server is not None:
            self.window.notify(f"Local server: {message}")

    def restart_local(self, concurrency: int) -> None:
        """Restart this computer's backend with `concurrency` worker threads; its address
        changes, so the window moves to a new session there (same account, same view)."""
        local, factory, store = self.local, self.client_factory, self.store
        give_contact(local, self.settings.contact)  # as Settings has it now
        self.settings.local_concurrency = concurrency
        self.settings.sync()
        self.runner.run(lambda: local.sign_in(factory, store, restart=True,
                                              concurrency=concurrency),
                        self._local_restarted, self._local_restart_failed)

    def _local_restarted(self, pair: tuple[PixCrawlerClient, User]) -> None:
        client, user = pair
        window = self.window
        if window is None or window.local_server is None:
            client.close()  # signed out meanwhile
            return
        old, self.client = self.client, client
        window.set_session(client, user, moved=True)
        window.local_restart_done(None)
        if old is not None and old is not client:
            old.close()

    def _local_restart_failed(self, exc: BaseException) -> None:
        from pixcrawler_desktop.local import BackendError
        from pixcrawler_desktop.ui.errors import describe

        if self.window is not None:
            self.window.local_restart_done(str(exc) if isinstance(exc, BackendError)
                                           else describe(exc))

    # -- quitting -------------------------------------------------------------------------
    def quit_by_signal(self) -> bool:
        """SIGTERM, SIGHUP or Ctrl-C in the terminal: no one can be asked, so running jobs of
        this app's server are paused (the next launch says so, Start resumes them) and the
        app quits once their cancel is answered. False: nothing to pause, quit at once (a
        second signal also quits at once)."""
        return self.window is not None and self.window.pause_and_close()

    def shutdown(self) -> None:
        """Stop streams and timers, let calls in flight finish (up to a limit), close. When
        this app runs the local server, a note says it is being stopped until it is gone."""
        if self._closed:
            return
        self._closed = True
        if self.window is not None:
            self.window.shutdown()
        if self.local.owned:
            self.stopping_note = StoppingNote()
            self.stopping_note.show()
        if self.dialog is not None:
            self.runner.cancel_owned_by(self.dialog)
        self.thumb_runner.shutdown(SHUTDOWN_WAIT_MS // 2)
        if not self.runner.shutdown(SHUTDOWN_WAIT_MS):
            log.warning("quitting with background calls still running")
        if self.client is not None:
            self.client.close()  # also ends event streams still reading
        self.local.stop_and_wait()  # the processes this app started end with it
        if self.stopping_note is not None:
            self.stopping_note.close()
            self.stopping_note.deleteLater()
