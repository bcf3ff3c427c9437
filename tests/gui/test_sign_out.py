"""The app's Sign out ends the session on the server, not only in the app: a copy of its
refresh token (another device, a leaked keyring entry) no longer works."""

from __future__ import annotations

import httpx

from tests.gui.helpers import WAIT_MS, sign_in


def test_sign_out_revokes_the_session_on_the_server(qtbot, server, users, make_controller,
                                                    token_store):
    user = users(server)
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password, keep=True)
    copy = token_store.get(server.api_url, user.email)
    assert copy

    window.sign_out_action.trigger()
    qtbot.waitUntil(lambda: controller.runner.pending == 0, timeout=WAIT_MS)
    assert token_store.get(server.api_url, user.email) is None
    refreshed = httpx.post(f"{server.api_url}/api/v1/auth/refresh",
                           json={"refresh_token": copy}, timeout=30)
    assert refreshed.status_code == 401
