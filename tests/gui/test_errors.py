"""What the user sees when the server says no, or says nothing at all."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from tests.e2e.helpers import wait_finished
from tests.gui.helpers import (
    WAIT_MS,
    click_action,
    press,
    restart_api,
    sign_in,
    stop_api,
    wait_status,
)


def make_job(user, name: str = "errand") -> dict:
    r = user.client.post("/jobs", json={"name": name, "keywords": ["otter"],
                                        "engines": ["bing"], "max_images": 4})
    assert r.status_code == 201, r.text
    return r.json()


def test_rate_limited_start_says_how_long_to_wait(qtbot, server, users, make_controller):
    user = users(server)
    job = make_job(user)
    for _ in range(10):  # use up the 10 starts a minute (counted before any other check)
        assert user.client.post("/jobs/999999999/start").status_code == 404
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.jobs.current_job() is not None, timeout=WAIT_MS)
    assert window.jobs.current_job().id == job["id"]
    click_action(qtbot, window, "start")
    text = wait_status(qtbot, window, "Rate limit exceeded", "Try again in")
    assert "seconds" in text and "Traceback" not in text
    assert window.jobs.model.job(job["id"]).status == "pending"
    assert "start" in window.actions.enabled()  # it can be tried again later


def test_someone_elses_job_is_refused_with_the_servers_words(qtbot, server, users,
                                                            make_controller):
    owner, other = users(server), users(server)
    theirs = make_job(owner, "not yours")
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, other.email, other.password)
    window.open_job(theirs["id"])
    wait_status(qtbot, window, "Not allowed: Access denied to this resource")
    assert window.jobs.model.job(theirs["id"]) is None
    window.open_job(987654321)
    wait_status(qtbot, window, "Not found: Crawl job not found")


def test_refused_refresh_returns_to_sign_in_and_keeps_the_screen(qtbot, server, users,
                                                                 make_controller):
    user = users(server)
    job = make_job(user, "kept on screen")
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.job_view.job is not None, timeout=WAIT_MS)
    first_dialog = controller.dialog

    window.client.access_token = "expired"  # the server refuses both tokens from now on
    window.client.refresh_token = "revoked"
    press(qtbot, window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: controller.dialog is not first_dialog
                    and controller.dialog.isVisible(), timeout=WAIT_MS)
    dialog = controller.dialog
    assert dialog.parent() is window and dialog.message_label.isVisibleTo(dialog)
    assert dialog.message_label.text().startswith("Your session has ended")
    assert window.isVisible() and window.jobs.model.job(job["id"]) is not None
    assert window.job_view.job.id == job["id"]
    assert window.actions.enabled() == set()

    old_client = window.client
    dialog.password_edit.setFocus()
    qtbot.keyClicks(dialog.password_edit, user.password)
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.client is not old_client, timeout=WAIT_MS)
    wait_status(qtbot, window, f"Signed in again as {user.email}")
    assert window.job_view.job.id == job["id"]
    qtbot.waitUntil(lambda: "start" in window.actions.enabled(), timeout=WAIT_MS)


def test_server_down_then_back_reconnects(qtbot, server, users, make_controller):
    user = users(server)
    make_job(user, "survives a restart")
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, server.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.jobs.model.rowCount() == 1, timeout=WAIT_MS)
    stop_api(server)
    try:
        click_action(qtbot, window, "refresh")
        wait_status(qtbot, window, f"No PixCrawler server at {server.api_url}: is it running?",
                    "Reconnecting")
        assert window.connection.text() == "Offline" or \
            window.connection.text().startswith("Offline, retrying")
        qtbot.waitUntil(lambda: window.reconnector.attempts >= 1, timeout=WAIT_MS)
    finally:
        restart_api(server)
    wait_status(qtbot, window, "Reconnected", timeout=60_000)
    assert not window.offline
    assert window.connection.text() == f"{user.email} · {server.api_url}"
    assert window.jobs.model.rowCount() == 1


def test_quitting_with_a_crawl_in_flight_is_clean(qtbot, live, fakeweb, users, make_controller):
    fakeweb.config.latency = 0.5
    user = users(live)
    job = make_job(user, "interrupted")
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.job_view.job is not None, timeout=WAIT_MS)
    click_action(qtbot, window, "start")
    qtbot.waitUntil(lambda: window.job_view.watcher.mode == "live"
                    and window.job_view.job.status == "running", timeout=WAIT_MS)
    window.close()
    controller.shutdown()
    assert controller.runner.pool.activeThreadCount() == 0
    assert controller.runner.pending == 0

    def streams() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == f"events-job-{job['id']}"]

    qtbot.waitUntil(lambda: not streams(), timeout=WAIT_MS)  # ended by closing the client
    fakeweb.config.latency = 0.0
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"  # unaffected
