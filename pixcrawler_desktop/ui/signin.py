"""The sign-in dialog: server, email, password, "create account", "keep me signed in".

It signs in itself (in the background) and closes only with a working session, so every
failure is shown next to the input it concerns: an unreachable server under the address,
a wrong password under the password. With "keep me signed in" it first tries the stored
refresh token and skips the password altogether.

"This computer" (the first choice, and the default on first launch) needs no address and no
password: the dialog starts the backend here and signs in with its automatic local account.
Chosen last time, it is started again on the next launch without a click.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.forms import Field, FieldErrors, role_label
from pixcrawler_desktop.ui.localserver import LocalServer
from pixcrawler_desktop.ui.settings import (
    DEFAULT_SERVER,
    LOCAL,
    AppSettings,
    is_local,
    normalize_server,
)
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.tokenstore import resolve

if TYPE_CHECKING:  # the client (httpx, pydantic) loads on the first sign-in, not at launch
    from pixcrawler_desktop.client.api import PixCrawlerClient
    from pixcrawler_desktop.client.models import User
    from pixcrawler_desktop.client.tokens import TokenStore

ClientFactory = Callable[[str, "TokenStore"], "PixCrawlerClient"]
MIN_PASSWORD = 8  # the server's rule for new accounts, checked here to answer at once
# when the dialog's height is fitted to its content again: rows shown or hidden, text set,
# the dialog shown or made wider or narrower
_REFIT = (QEvent.Type.LayoutRequest, QEvent.Type.Show, QEvent.Type.Resize)


def make_client(server: str, store: TokenStore) -> PixCrawlerClient:
    from pixcrawler_desktop.client.api import PixCrawlerClient

    return PixCrawlerClient(server, token_store=store)


def _signed_in(client: PixCrawlerClient, work: Callable[[], User | None]) -> User | None:
    """Run `work`; close the client if it fails so no connection pool is left behind."""
    try:
        user = work()
    except BaseException:
        client.close()
        raise
    if user is None:
        client.close()
    return user


class SignInDialog(QDialog):
    """Accepted with `client` and `user` set; `resume_done` fires after an automatic attempt,
    `notice_shown` when the "no keyring" notice appears."""

    resume_done = Signal(bool)
    notice_shown = Signal()

    def __init__(self, settings: AppSettings, store: TokenStore, runner: TaskRunner, *,
                 client_factory: ClientFactory = make_client, message: str = "",
                 keyring_notice: bool = True, local: LocalServer,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.runner = runner
        self.client_factory = client_factory
        self.local = local  # the app's, not the dialog's: it outlives signing out
        self.client: PixCrawlerClient | None = None
        self.user: User | None = None
        self.local_session = False  # whether the accepted session is "This computer"
        self.setWindowTitle("PixCrawler — Sign in")
        self.setWindowIcon(resources.app_icon())
        self.setMinimumWidth(460)
        self._build(message)
        self._load_remembered()
        local.event.connect(self._local_event)
        self._listening = True
        self.finished.connect(self._stop_listening)
        if keyring_notice:  # finding the keyring may block: learn about it in the background
            runner.run(lambda: resolve(store), self._keyring_known, owner=self)

    # -- layout ---------------------------------------------------------------------------
    def _build(self, message: str) -> None:
        logo = QLabel()
        logo.setPixmap(resources.pixmap("app", 48))
        title = role_label("PixCrawler", "title", wrap=False)
        subtitle = role_label("Sign in to a PixCrawler server to build image datasets.",
                              "subtle")
        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(title)
        heading.addWidget(subtitle)
        top = QHBoxLayout()
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        top.addSpacing(8)
        top.addLayout(heading, 1)

        self.server_box = QComboBox(objectName="server")
        self.server_box.setEditable(True)
        self.server_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.server_box.lineEdit().setPlaceholderText(DEFAULT_SERVER)
        self.server_box.currentTextChanged.connect(self._server_changed)
        self.email_edit = QLineEdit(objectName="email")
        self.email_edit.setPlaceholderText("you@example.org")
        self.password_edit = QLineEdit(objectName="password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(lambda: self.submit(create=False))
        self.keep_check = QCheckBox("Keep me signed in", objectName="keep")
        self.local_hint = role_label("PixCrawler runs its server on this computer, in the "
                                     "background, and signs you in with a local account: "
                                     "no password needed.", "subtle", name="local_hint")

        fields = [Field("server", self.server_box), Field("email", self.email_edit),
                  Field("password", self.password_edit)]
        self.form_error = role_label(role="error", name="form_error")
        self.errors = FieldErrors(fields, self.form_error)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, field in zip(("Server", "Email", "Password"), fields, strict=True):
            form.addRow(label, field.container)
        form.addRow("", self.keep_check)
        # an (empty) label of its own: a field without one is given its size hint's height
        # whatever its width, so the wrapped hint would get a blank line or lose one
        form.addRow(QLabel(), self.local_hint)
        self.form = form

        self.message_label = role_label(message, "notice", name="message")
        self.message_label.setVisible(bool(message))
        self.notice_label = role_label("", "notice", name="keyring_notice")
        self.notice_label.hide()
        self.status_label = role_label("", "subtle", name="status")
        self.status_label.hide()

        self.create_button = QPushButton("Create account", objectName="create")
        self.create_button.setToolTip("Register a new account on this server, then sign in")
        self.create_button.clicked.connect(lambda: self.submit(create=True))
        self.sign_in_button = QPushButton("Sign in", objectName="sign_in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(lambda: self.submit(create=False))
        # shown after a failure that trying again may fix (no server answered, the local
        # server did not start); it repeats that same attempt
        self.retry_button = QPushButton("Retry", objectName="retry")
        self.retry_button.setToolTip("Try the same server again")
        self.retry_button.clicked.connect(self._retry)
        self.retry_button.hide()
        self._again: Callable[[], object] | None = None
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.sign_in_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        layout.addLayout(form)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.form_error)
        layout.addLayout(buttons)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in _REFIT:
            self._fit_height()  # the layout has taken the change (or the new width) by now
        return handled

    def _fit_height(self) -> None:
        """Hold the height at what the content needs at the current width.

        Qt sizes a window by its layout's minimum size, which ignores height-for-width: a
        wrapped label shown later (the keyring notice, an error, the hint of "This
        computer") would be cut to the lines it had room for. So the height follows the
        content, growing and shrinking as rows come and go, and only the width is left to
        the user (a narrower dialog is taller)."""
        if not self.isVisible():
            return  # show() sizes the dialog with height-for-width first, then comes here
        height = self.layout().totalHeightForWidth(self.width())
        if self.minimumHeight() != height or self.maximumHeight() != height:
            self.setFixedHeight(height)

    def _keyring_known(self, store: TokenStore) -> None:
        if not store.available:
            self.notice_label.setText(store.reason or "")
            self.notice_label.show()
            self.notice_shown.emit()

    def _load_remembered(self) -> None:
        self.server_box.addItem(resources.app_icon(), LOCAL)
        self.server_box.setItemData(0, "Run the server on this computer",
                                    Qt.ItemDataRole.ToolTipRole)
        self.server_box.addItems(self.settings.servers)
        self.server_box.setCurrentText(self.settings.last_server)
        self._server_changed(self.server_box.currentText())

    def is_local(self) -> bool:
        """Whether "This computer" is the chosen server."""
        return is_local(self.server_box.currentText())

    def _server_changed(self, text: str) -> None:
        """Show what the chosen server needs: an account for an address, nothing for
        "This computer". An error about the previous choice goes: it no longer applies."""
        self._clear_errors()
        local = is_local(text)
        for widget in (self.email_edit, self.password_edit):
            self.form.setRowVisible(widget.parentWidget(), not local)
        self.form.setRowVisible(self.keep_check, not local)
        self.form.setRowVisible(self.local_hint, local)
        self.create_button.setVisible(not local)
        self.sign_in_button.setText("Start" if local else "Sign in")
        self.sign_in_button.setToolTip("Start the server on this computer and sign in"
                                       if local else "")
        server = normalize_server(text)
        if local or not server:
            return
        email = self.settings.last_email(server)
        if email:
            self.email_edit.setText(email)
        self.keep_check.setChecked(self.settings.keep_signed_in(server))

    def server_text(self) -> str:
        return normalize_server(self.server_box.currentText())

    # -- signing in -----------------------------------------------------------------------
    def try_resume(self) -> bool:
        """Sign in with the stored token if the user asked to stay signed in, or start
        "This computer" if it was chosen last time; returns whether an attempt started (its
        outcome: `resume_done`, and accept() on success)."""
        if self.is_local():
            if not self.settings.local_chosen:
                return False  # the first-run default: wait for a click on Start
            self._start_local(resuming=True)
            return True
        server, email = self.server_text(), self.email_edit.text().strip()
        if not (server and email and self.settings.keep_signed_in(server)):
            return False
        client = self.client_factory(server, self.store)
        store = self.store
        self._again = self.try_resume
        self._busy(True, f"Signing in as {email}…")

        def work() -> tuple[bool, User | None]:
            """(whether a token was stored, the user if it was accepted); the keyring lookup
            is here because it may block on the system's secret service."""
            if store.get(client.base_url, email.lower()) is None:
                client.close()
                return False, None
            return True, _signed_in(client, lambda: client.resume(email))

        self.runner.run(work, lambda result: self._resumed(client, *result),
                        self._resume_failed, owner=self)
        return True

    def _resumed(self, client: PixCrawlerClient, stored: bool, user: User | None) -> None:
        self._busy(False)
        if user is None:
            if stored:
                self.errors.set_general("Your saved sign-in has expired or was revoked. "
                                        "Enter your password to continue.")
            self.password_edit.setFocus()
            self.resume_done.emit(False)
            return
        self._finish(client, user)
        self.resume_done.emit(True)

    def _resume_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._show_error(exc)
        self.resume_done.emit(False)

    def submit(self, *, create: bool) -> None:
        if not self.sign_in_button.isEnabled():
            return  # a request is already out
        self._clear_errors()
        self._again = lambda: self.submit(create=create)
        if self.is_local():
            self._start_local()
            return
        server = self.server_text()
        email = self.email_edit.text().strip()
        password = self.password_edit.text()
        if not self._check(server, email, password, create):
            return
        keep = self.keep_check.isChecked()
        client = self.client_factory(server, self.store)

        def work() -> User:
            if create:
                client.register(email, password)
            return client.login(email, password, remember=keep)

        self._busy(True, "Creating your account…" if create else "Signing in…")
        self.runner.run(lambda: _signed_in(client, work),
                        lambda user: self._finish(client, user),
                        self._failed, owner=self)

    def _start_local(self, *, resuming: bool = False) -> None:
        """Start (or join) the backend on this computer off the UI thread, then sign in."""
        self._clear_errors()
        self._again = self._start_local
        self._busy(True, "Starting the local server…")
        local, factory, store = self.local, self.client_factory, self.store

        def started(pair: tuple[PixCrawlerClient, User]) -> None:
            self._finish(*pair, local=True)
            if resuming:
                self.resume_done.emit(True)

        def failed(exc: BaseException) -> None:
            self._local_failed(exc)
            if resuming:
                self.resume_done.emit(False)

        self.runner.run(lambda: local.sign_in(factory, store), started, failed, owner=self)

    def _stop_listening(self) -> None:
        """The server outlives the dialog: stop hearing its messages once the dialog is done."""
        if self._listening:
            self._listening = False
            self.local.event.disconnect(self._local_event)

    def _local_event(self, message: str) -> None:
        """The backend's progress while starting (e.g. ending a stale process), as status."""
        if not self.sign_in_button.isEnabled():
            self.status_label.setText(message[:1].upper() + message[1:] + "…")

    def _local_failed(self, exc: BaseException) -> None:
        from pixcrawler_desktop.local import BackendError
        from pixcrawler_desktop.ui.errors import describe

        self._busy(False)
        if isinstance(exc, BackendError):
            self.errors.set("server", f"The server on this computer did not start: {exc}")
        else:
            self.errors.set("server", f"Could not sign in to the server on this computer: "
                                      f"{describe(exc)}")
        self.retry_button.show()

    def _check(self, server: str, email: str, password: str, create: bool) -> bool:
        ok = True
        if not server:
            self.errors.set("server", "Enter the address of a PixCrawler server.")
            ok = False
        if "@" not in email:
            self.errors.set("email", "Enter the email address of your account.")
            ok = False
        if not password:
            self.errors.set("password", "Enter your password.")
            ok = False
        elif create and len(password) < MIN_PASSWORD:
            self.errors.set("password", f"Use at least {MIN_PASSWORD} characters.")
            ok = False
        return ok

    def _finish(self, client: PixCrawlerClient, user: User, *, local: bool = False) -> None:
        self._busy(False)
        if local:
            self.settings.remember_local()
        else:
            server = client.base_url
            self.settings.remember_server(server)
            self.settings.set_last_email(server, user.email)
            self.settings.set_keep_signed_in(server, self.keep_check.isChecked())
        self.settings.sync()
        self.client, self.user, self.local_session = client, user, local
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        from pixcrawler_desktop.client.errors import ApiError, AuthError, ConnectionLost
        from pixcrawler_desktop.ui.errors import describe, technical, unreachable

        if isinstance(exc, ConnectionLost):
            self.errors.set("server", unreachable(exc, self.server_text()))
            self.errors.fields["server"].error.setToolTip(technical(exc))
            self.retry_button.show()
        elif isinstance(exc, AuthError):
            self.errors.set("password", exc.detail)
            self.password_edit.selectAll()
            self.password_edit.setFocus()
        elif isinstance(exc, ApiError) and exc.status == 409:
            self.errors.set("email", exc.detail)
        elif isinstance(exc, ApiError):
            self.errors.show_api_error(exc, describe(exc))
        else:
            self.errors.set_general(describe(exc))

    def _clear_errors(self) -> None:
        self.errors.clear()
        self.errors.fields["server"].error.setToolTip("")
        self.retry_button.hide()

    def _retry(self) -> None:
        """The attempt that failed, once more (Retry)."""
        if self._again is not None and self.sign_in_button.isEnabled():
            self._again()

    def _busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.server_box, self.email_edit, self.password_edit, self.keep_check,
                       self.create_button, self.sign_in_button, self.retry_button):
            widget.setEnabled(not busy)
        self.status_label.setText(text)
        self.status_label.setVisible(busy and bool(text))

    def reject(self) -> None:
        self.runner.cancel_owned_by(self)
        super().reject()
