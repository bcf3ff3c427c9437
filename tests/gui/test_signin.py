"""Signing in through the dialog against a real API: mistakes, accounts, stored sessions."""

from __future__ import annotations

from keyring.backends import fail

from pixcrawler_desktop.client.tokens import KeyringTokenStore
from pixcrawler_desktop.ui.tokenstore import LazyTokenStore
from tests.gui.helpers import LEFT, WAIT_MS, fill_sign_in, sign_in, wait_window


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
    assert error.text().startswith("Cannot reach the server at http://127.0.0.1:")
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
