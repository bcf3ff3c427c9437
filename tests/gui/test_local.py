"""'This computer': the app runs its own backend (API + worker child processes) from the
sign-in dialog, crawls on it, shows and restarts it in the backend panel, lets a second
instance join it, and leaves no process behind when it quits."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from pixcrawler_desktop.local.account import LOCAL_EMAIL
from pixcrawler_desktop.local.state import read_state
from pixcrawler_desktop.ui.contact import ContactDialog
from pixcrawler_desktop.ui.localpanel import LocalServerPanel
from pixcrawler_desktop.ui.localserver import LocalServer
from pixcrawler_desktop.ui.settings import LOCAL, AppSettings
from tests.gui.helpers import CRAWL_MS, LEFT, WAIT_MS, UrlCatcher, click_action, wait_status
from tests.gui.test_jobs import new_job
from worker import identity

pytestmark = pytest.mark.slow
START_MS = 120_000  # two child processes importing the server, then Celery's handshake


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def backend_pids(local: LocalServer) -> set[int]:
    state = local.backend.state
    return set(state.pids)


def signed_in_window(qtbot, controller):
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.isVisible(),
                    timeout=START_MS)
    window = controller.window
    qtbot.waitExposed(window)
    return window


def crawl(qtbot, window, name: str, keyword: str, images: int):
    job = new_job(qtbot, window, name, keyword, images).job
    qtbot.waitUntil(lambda: window.job_view.job is not None
                    and window.job_view.job.id == job.id, timeout=WAIT_MS)
    click_action(qtbot, window, "start")
    qtbot.waitUntil(lambda: window.jobs.model.job(job.id).status == "completed",
                    timeout=CRAWL_MS)
    return window.jobs.model.job(job.id)


def test_this_computer_runs_crawls_restarts_and_quits_clean(
        qtbot, local_server, fakeweb, make_controller, settings, tmp_path, artifacts):
    data_dir = (tmp_path / "local-data").resolve()  # PIXCRAWLER_DATA_DIR (the fixture's)
    settings.local_data_dir = tmp_path / "some-other-server"  # not what "This computer" uses
    fakeweb.config.latency = 0.0
    controller = make_controller(local=local_server)

    # -- first launch: "This computer" is chosen already and needs nothing typed ----------
    dialog = controller.start(resume=True)
    qtbot.waitExposed(dialog)
    assert dialog.server_box.currentText() == LOCAL and dialog.is_local()
    assert local_server.backend is None  # the first-run default waits for a click
    for hidden in (dialog.email_edit, dialog.password_edit, dialog.keep_check,
                   dialog.create_button):
        assert not hidden.isVisibleTo(dialog)
    assert dialog.local_hint.isVisibleTo(dialog) and dialog.sign_in_button.text() == "Start"
    QApplication.processEvents()
    dialog.grab().save(str(artifacts / "signin-local.png"))
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    assert dialog.status_label.text() == "Starting the local server…"
    assert not dialog.sign_in_button.isEnabled() and not dialog.server_box.isEnabled()

    window = signed_in_window(qtbot, controller)
    assert window.user.email == LOCAL_EMAIL and local_server.owned
    assert local_server.data_dir == data_dir
    assert window.client.base_url == local_server.backend.api_url
    assert settings.local_chosen and settings.servers == []  # its port is not an address
    status = local_server.status()
    assert (status["api"], status["worker"], status["concurrency"]) == ("running", "running", 2)
    assert window.local_action.isEnabled()

    # -- a crawl on it, and "Show in folder" finds the files without any setting -----------
    job = crawl(qtbot, window, "Local foxes", "arctic fox", 6)
    assert job.downloaded_images == 6
    window.tabs.setCurrentWidget(window.gallery)
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.proxy.rowCount() == 6, timeout=WAIT_MS)
    gallery.view.setCurrentIndex(gallery.proxy.index(0, 0))
    qtbot.waitUntil(gallery.folder_button.isEnabled, timeout=WAIT_MS)
    assert gallery._local_path.is_relative_to(data_dir) and gallery._local_path.is_file()

    # -- the backend panel: both running, logs, the data folder ----------------------------
    window.local_action.trigger()
    panel = window.local_panel
    assert isinstance(panel, LocalServerPanel)
    qtbot.waitExposed(panel)
    labels = panel.state_labels
    qtbot.waitUntil(lambda: labels["api"].text() == labels["worker"].text() == "Running",
                    timeout=WAIT_MS)
    assert panel.url_label.text() == local_server.backend.api_url
    assert panel.folder_label.text() == str(data_dir)
    qtbot.waitUntil(lambda: "celery" in panel.logs["worker"].toPlainText().lower(),
                    timeout=WAIT_MS)
    assert panel.logs["api"].toPlainText().strip()
    assert panel.logs["api"].isReadOnly() and panel.logs["worker"].isReadOnly()
    assert all(b.isEnabled() for b in (panel.restart_worker_button, panel.restart_button,
                                       panel.apply_button))
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    try:
        qtbot.mouseClick(panel.folder_button, LEFT)
        qtbot.waitUntil(lambda: bool(catcher.urls), timeout=WAIT_MS)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert Path(catcher.urls[0].toLocalFile()) == data_dir
    panel.log_tabs.setCurrentIndex(1)
    QApplication.processEvents()
    panel.grab().save(str(artifacts / "local-server-panel.png"))
    seen = backend_pids(local_server)

    # -- restart the worker from the panel -------------------------------------------------
    old_workers = local_server.backend.state.worker_pids
    qtbot.mouseClick(panel.restart_worker_button, LEFT)
    qtbot.waitUntil(lambda: panel.message.text() == "Worker restarted", timeout=START_MS)
    new_workers = local_server.backend.state.worker_pids
    assert not set(new_workers) & set(old_workers)
    assert not any(map(alive, old_workers)) and all(map(alive, new_workers))
    assert read_state(data_dir).worker_pids == new_workers
    qtbot.waitUntil(lambda: labels["worker"].text() == "Running", timeout=WAIT_MS)
    seen |= backend_pids(local_server)

    # -- a new concurrency restarts the whole backend; the window follows it --------------
    old_api = local_server.backend.state.api_pid
    panel.concurrency.setValue(3)
    qtbot.mouseClick(panel.apply_button, LEFT)
    assert labels["api"].text() == "Restarting" and not panel.restart_button.isEnabled()
    qtbot.waitUntil(lambda: panel.message.text() == "Server restarted", timeout=START_MS)
    assert settings.local_concurrency == 3 and local_server.status()["concurrency"] == 3
    assert not alive(old_api) and local_server.owned
    assert window.client.base_url == local_server.backend.api_url == controller.client.base_url
    wait_status(qtbot, window, "Local server restarted")
    qtbot.waitUntil(lambda: labels["api"].text() == labels["worker"].text() == "Running",
                    timeout=WAIT_MS)
    seen |= backend_pids(local_server)
    again = crawl(qtbot, window, "Local owls", "snowy owl", 4)
    assert again.downloaded_images == 4
    assert window.jobs.model.job(job.id).status == "completed"  # kept across the restart

    # -- a second app instance joins the running backend instead of starting another -------
    other_local = LocalServer(concurrency=1, env=local_server.env)
    second = make_controller(local=other_local)
    second.start(resume=True)  # "This computer" was the last choice: it starts on its own
    other = signed_in_window(qtbot, second)
    assert other.client.base_url == window.client.base_url and not other_local.owned
    other.local_action.trigger()
    qtbot.waitUntil(lambda: other.local_panel is not None
                    and other.local_panel.url_label.text() == window.client.base_url,
                    timeout=WAIT_MS)
    assert not other.local_panel.restart_button.isEnabled()  # not its processes to restart
    other.close()
    second.shutdown()
    assert all(alive(pid) for pid in backend_pids(local_server))  # the joiner left them be

    # -- quitting stops both processes ------------------------------------------------------
    window.close()
    controller.shutdown()  # what QApplication.aboutToQuit runs
    left = [pid for pid in seen if alive(pid)]
    assert not left, f"quitting left backend processes behind: {left}"
    assert read_state(data_dir) is None


def test_the_first_run_asks_for_a_contact_once_and_the_crawls_carry_it(
        qtbot, local_server, fakeweb, make_controller, settings):
    settings.contact_asked = False  # a first run
    fakeweb.config.latency = 0.0
    controller = make_controller(local=local_server)
    dialog = controller.start(resume=True)
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    window = signed_in_window(qtbot, controller)

    qtbot.waitUntil(lambda: isinstance(window.dialog, ContactDialog)
                    and window.dialog.isVisible(), timeout=WAIT_MS)
    ask = window.dialog
    assert not ask.isModal() and not ask.save_button.isEnabled()
    ask.edit.setText("just me")
    assert ask.error.text() == "Not an email address or an http(s) URL: 'just me'."
    assert not ask.save_button.isEnabled()
    ask.edit.setText("lab@example.org")
    assert not ask.error.isVisible() and ask.save_button.isEnabled()
    pids = backend_pids(local_server)
    qtbot.mouseClick(ask.save_button, LEFT)
    qtbot.waitUntil(lambda: not ask.isVisible(), timeout=WAIT_MS)
    assert settings.contact == "lab@example.org" and settings.contact_asked
    # no job was running: the server was restarted with it at once
    wait_status(qtbot, window, "Local server restarted", timeout=START_MS)
    assert not pids & backend_pids(local_server)
    assert local_server.backend.extra_env["PIXCRAWLER_CONTACT"] == "lab@example.org"

    fakeweb.reset()
    crawl(qtbot, window, "Contact foxes", "red fox", 3)
    assert fakeweb.agents("/img/") == {
        f"PixCrawler/{identity.version()} (lab@example.org; +{identity.PROJECT_URL})"}

    # kept for the next launch, which does not ask again
    kept = AppSettings(QSettings(settings.store.fileName(), QSettings.Format.IniFormat))
    assert (kept.contact, kept.contact_asked) == ("lab@example.org", True)
