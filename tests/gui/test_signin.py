"""Signing in through the dialog against a real API: mistakes, accounts, stored sessions."""

from __future__ import annotations

from keyring.backends import fail
from PySide6.QtWidgets import QLabel

from pixcrawler_desktop.client.tokens import KeyringTokenStore
from pixcrawler_desktop.ui.localserver import LocalServer
from pixcrawler_desktop.ui.signin import SignInDialog
from pixcrawler_desktop.ui.tokenstore import LazyTokenStore
from tests.gui.helpers import LEFT, WAIT_MS, fill_sign_in, sign_in, type_into, wait_window


def test_wrong_password_is_shown_beside_the_password(qtbot, server, users, make_controller,
                                                      artifacts):
    user = users(server)
    controller = make_controller()
    dialog = controller.start(resume=False)
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle().startswith("PixCrawler")
    fill_sign_in(qtbot, dialog, server.api_url, user.email, "not my password")
    dialog.grab().save(str(artifacts / "signin.png"))
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    error = dialog.errors.fields["password"].error
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog), timeout=WAIT_MS)
    assert error.text() == "Incorrect email or password"
    assert dialog.isVisible() and controller.window is None
    assert dialog.sign_in_button.isEnabled()  # ready for another try


def test_unreachable_server_then_the_real_one(qtbot, server, users, fakeweb, make_controller):
    user = users(server)
    controller = make_controller()
    dialog = controller.start(resume=False)
    dead = fakeweb.dead_url().split("/", 3)[:3]  # scheme://host:port of a closed port
    fill_sign_in(qtbot, dialog, "/".join(dead), user.email, user.password)
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    error = dialog.errors.fields["server"].error
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog), timeout=WAIT_MS)
    assert error.text() == f"No PixCrawler server at {'/'.join(dead)}: is it running?"
    window = sign_in(qtbot, controller, server.api_url + "/api/v1/", user.email, user.password)
    assert not error.isVisibleTo(dialog)
    assert window.windowTitle() == f"PixCrawler — {user.email} on {server.api_url}"
    assert controller.settings.servers[0] == server.api_url


def test_create_account_checks_the_password_then_registers(qtbot, server, make_controller):
    controller = make_controller()
    dialog = controller.start(resume=False)
    fill_sign_in(qtbot, dialog, server.api_url, "newcomer@example.com", "short")
    qtbot.mouseClick(dialog.create_button, LEFT)
    assert dialog.errors.messages() == {"password": "Use at least 8 characters."}
    window = sign_in(qtbot, controller, server.api_url, "Newcomer@example.com",
                     "long enough password", create=True)
    assert window.user.email == "newcomer@example.com"
    controller.window.close()

    again = make_controller()
    dialog = again.start(resume=False)
    fill_sign_in(qtbot, dialog, server.api_url, "newcomer@example.com", "long enough password")
    qtbot.mouseClick(dialog.create_button, LEFT)
    error = dialog.errors.fields["email"].error
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog), timeout=WAIT_MS)
    assert error.text() == "Email already registered"


def test_keep_signed_in_resumes_and_sign_out_forgets(qtbot, server, users, make_controller,
                                                     token_store):
    user = users(server)
    first = make_controller()
    first.start(resume=True)
    sign_in(qtbot, first, server.api_url, user.email, user.password, keep=True)
    assert token_store.get(server.api_url, user.email)
    first.shutdown()
    first.window.close()

    second = make_controller()  # a new launch: no password typed
    second.start(resume=True)
    window = wait_window(qtbot, second)
    assert window.user.email == user.email
    assert second.dialog.password_edit.text() == ""

    window.sign_out_action.trigger()
    qtbot.waitUntil(lambda: token_store.get(server.api_url, user.email) is None,
                    timeout=WAIT_MS)
    assert second.window is None and second.dialog.isVisible()

    third = make_controller()
    dialog = third.start(resume=True)
    with qtbot.waitSignal(dialog.resume_done, timeout=WAIT_MS) as outcome:
        pass
    assert outcome.args == [False]
    assert dialog.isVisible() and not dialog.form_error.isVisibleTo(dialog)
    assert dialog.email_edit.text() == user.email and dialog.keep_check.isChecked()


def test_without_a_keyring_the_app_says_so_once(qtbot, server, users, make_controller):
    store = LazyTokenStore(lambda: KeyringTokenStore(backend=fail.Keyring()))
    user = users(server)
    controller = make_controller(store=store)
    dialog = controller.start(resume=False)
    qtbot.waitUntil(lambda: dialog.notice_label.isVisibleTo(dialog), timeout=WAIT_MS)
    assert "only until it quits" in dialog.notice_label.text()
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password, keep=True)
    assert store.get(server.api_url, user.email)  # kept in memory for this session

    window.sign_out_action.trigger()
    qtbot.waitUntil(lambda: controller.dialog is not dialog and controller.dialog.isVisible(),
                    timeout=WAIT_MS)
    again = controller.dialog
    with qtbot.assertNotEmitted(again.notice_shown, wait=0):
        qtbot.waitUntil(lambda: controller.runner.pending == 0, timeout=WAIT_MS)
    assert not again.notice_label.isVisibleTo(again)


def _clipped(dialog: SignInDialog) -> list[str]:
    """The visible wrapped labels shorter than their text needs at their width."""
    clipped = []
    for label in dialog.findChildren(QLabel):
        if label.wordWrap() and label.text() and label.isVisibleTo(dialog):
            needed = label.heightForWidth(label.width())
            if label.height() < needed:
                clipped.append(f"{label.objectName() or label.text()[:20]}: "
                               f"{label.height()} < {needed}")
    return clipped


def _settled(qtbot, dialog: SignInDialog) -> None:
    """Wait for the dialog to have room for every wrapped line (it gets it from the layout
    requests a shown row or a new text posts)."""
    try:
        qtbot.waitUntil(lambda: not _clipped(dialog), timeout=5000)
    except qtbot.TimeoutError:
        raise AssertionError(f"clipped labels: {_clipped(dialog)}") from None


def test_the_dialog_fits_its_wrapped_text_as_rows_come_and_go(qtbot, make_controller,
                                                               tmp_path):
    """The hint of "This computer" stays whole when the keyring notice appears after the
    dialog opened, and so does every label when switching servers or showing errors."""
    store = LazyTokenStore(lambda: KeyringTokenStore(backend=fail.Keyring()))
    controller = make_controller(store=store, local=LocalServer(tmp_path / "local-data"))
    dialog = controller.start(resume=False)
    qtbot.waitExposed(dialog)
    assert dialog.is_local()
    qtbot.waitUntil(lambda: dialog.notice_label.isVisibleTo(dialog), timeout=WAIT_MS)
    assert dialog.local_hint.isVisibleTo(dialog)
    _settled(qtbot, dialog)
    local_height = dialog.height()

    type_into(qtbot, dialog.server_box.lineEdit(), "https://pixcrawler.example.org")
    assert dialog.email_edit.isVisibleTo(dialog) and not dialog.local_hint.isVisibleTo(dialog)
    _settled(qtbot, dialog)
    qtbot.mouseClick(dialog.sign_in_button, LEFT)  # nothing typed: refused before sending
    assert set(dialog.errors.messages()) == {"email", "password"}
    _settled(qtbot, dialog)

    dialog.server_box.setCurrentIndex(0)  # back to "This computer"
    assert dialog.local_hint.isVisibleTo(dialog) and not dialog.email_edit.isVisibleTo(dialog)
    _settled(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.height() == local_height, timeout=5000)  # no gap left

    dialog.errors.set("server", "The server on this computer did not start: the API did "
                                "not answer within 30 seconds (see the log in the data "
                                "folder).")
    _settled(qtbot, dialog)
    assert dialog.height() > local_height
