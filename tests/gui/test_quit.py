"""Quitting while "This computer" runs a job: the app asks (cancel it, pause it for next time,
or stay), the local server is gone within 2 s of the choice with a note on screen meanwhile,
and at the next launch a paused job says so and waits for Start."""

from __future__ import annotations

import sqlite3
import time

import psutil
import pytest
from PySide6.QtWidgets import QMessageBox

from pixcrawler_desktop.local.state import read_state
from pixcrawler_desktop.ui.localserver import LocalServer, StoppingNote
from tests.gui.helpers import CRAWL_MS, LEFT, WAIT_MS, click_action, type_into, type_lines
from tests.gui.test_local import START_MS, signed_in_window

pytestmark = pytest.mark.slow
STOP_S = 2.0  # the limit, from the user's choice to the last process gone


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def create_and_start(qtbot, window, name: str, keyword: str, images: int):
    window.new_job()
    dialog = window.dialog
    qtbot.waitUntil(lambda: dialog.engine_picker.loaded, timeout=WAIT_MS)
    type_into(qtbot, dialog.name_edit, name)
    type_lines(qtbot, dialog.keywords_edit, keyword)
    type_into(qtbot, dialog.images_spin.lineEdit(), str(images))
    qtbot.mouseClick(dialog.start_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    job = dialog.job
    qtbot.waitUntil(lambda: window.jobs.model.job(job.id).status == "running"
                    and window.jobs.model.job(job.id).downloaded_images > 0, timeout=CRAWL_MS)
    return job


def ask_to_quit(qtbot, window) -> tuple[QMessageBox, dict[str, object]]:
    window.close()
    box = window.dialog
    qtbot.waitUntil(lambda: isinstance(box, QMessageBox) and box.isVisible(), timeout=WAIT_MS)
    assert window.isVisible()  # nothing happens before the answer
    buttons = {b.objectName(): b for b in box.buttons()}
    assert set(buttons) == {"quit_pause", "quit_cancel", "quit_stay"}
    return box, buttons


def quit_with(qtbot, controller, window, choice: str, job_id: int) -> float:
    """Answer the question with `choice`, then quit as the app does; seconds from the click
    until every process of the local server has ended. The job is cancelled on the server
    by then (paused or not)."""
    local = controller.local
    pids = set(local.backend.state.pids)
    _box, buttons = ask_to_quit(qtbot, window)
    clicked = time.monotonic()
    qtbot.mouseClick(buttons[f"quit_{choice}"], LEFT)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    closed = time.monotonic()
    controller.shutdown()  # what QApplication.aboutToQuit runs once the window closed
    took = time.monotonic() - clicked
    print(f"quit ({choice}): the local server was gone {took:.2f} s after the click "
          f"(the jobs were stopped and the window closed after {closed - clicked:.2f} s)")
    assert window.jobs.model.job(job_id) is not None
    assert cancelled_on_disk(local.data_dir, job_id)
    assert isinstance(controller.stopping_note, StoppingNote)
    assert StoppingNote.TEXT == "Stopping the local server…"
    assert not [pid for pid in pids if alive(pid)], "the local server outlived the quit"
    assert read_state(local.data_dir) is None
    return took


def cancelled_on_disk(data_dir, job_id: int) -> bool:
    """The job's status in the stopped server's database (read as any SQLite file)."""
    database = data_dir / "pixcrawler.db"
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        (status,) = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return status == "cancelled"


def test_quit_asks_and_a_paused_job_waits_for_start(qtbot, local_server, fakeweb,
                                                    make_controller, settings, tmp_path):
    fakeweb.config.latency = 0.4
    controller = make_controller(local=local_server)
    dialog = controller.start(resume=True)
    qtbot.mouseClick(dialog.sign_in_button, LEFT)  # "Start" ("This computer")
    window = signed_in_window(qtbot, controller)
    qtbot.waitUntil(window.jobs.is_empty, timeout=WAIT_MS)  # the first window's note
    job = create_and_start(qtbot, window, "Arctic foxes", "arctic fox", 30)

    # -- Stay: nothing changes ---------------------------------------------------------------
    box, buttons = ask_to_quit(qtbot, window)
    assert box.defaultButton() is buttons["quit_pause"]
    qtbot.mouseClick(buttons["quit_stay"], LEFT)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=WAIT_MS)
    assert window.isVisible() and window.jobs.model.job(job.id).status == "running"

    # -- Pause: cancelled on the server, remembered as paused, the server gone in 2 s -------
    took = quit_with(qtbot, controller, window, "pause", job.id)
    assert took <= STOP_S, f"quitting took {took:.2f} s"
    data_dir = local_server.data_dir
    assert set(settings.paused_jobs(f"local {data_dir}")) == {job.id}

    # -- the next launch: the job says it is paused, and waits for Start ---------------------
    fakeweb.config.latency = 0.0
    second = make_controller(local=LocalServer(concurrency=2, env=local_server.env))
    second.start(resume=True)  # "This computer" was the last choice: it starts on its own
    window = signed_in_window(qtbot, second)
    qtbot.waitUntil(lambda: window.jobs.model.job(job.id) is not None, timeout=START_MS)
    assert window.jobs.select(job.id)
    view = window.job_view
    qtbot.waitUntil(lambda: view.status_label.text() == "paused", timeout=WAIT_MS)
    assert view.state_line.text().startswith("Paused when PixCrawler quit (")
    assert window.jobs.proxy.index(0, 1).data() == "paused"
    assert window.client.job(job.id).status == "cancelled"  # no chunk went on by itself
    qtbot.waitUntil(lambda: window.actions.enabled() >= {"start", "cancel"}, timeout=WAIT_MS)
    assert "retry" not in window.actions.enabled()
    downloaded = window.client.job(job.id).downloaded_images
    assert 0 < downloaded < 30

    click_action(qtbot, window, "start")  # goes on from where it stopped
    qtbot.waitUntil(lambda: window.jobs.model.job(job.id).status == "completed",
                    timeout=CRAWL_MS)
    assert window.client.job(job.id).downloaded_images == 30
    assert view.status_label.text() == "completed"
    assert settings.paused_jobs(f"local {data_dir}") == {}

    # -- Cancel: the job ends cancelled, not paused -----------------------------------------
    fakeweb.config.latency = 0.4
    other = create_and_start(qtbot, window, "Snowy owls", "snowy owl", 30)
    took = quit_with(qtbot, second, window, "cancel", other.id)
    assert took <= STOP_S, f"quitting took {took:.2f} s"
    assert settings.paused_jobs(f"local {data_dir}") == {}


def test_a_signal_pauses_running_jobs_since_no_one_can_be_asked(
        qtbot, local_server, fakeweb, make_controller, settings):
    """SIGTERM, SIGHUP or Ctrl-C in run.sh's terminal call `quit_by_signal` (app.py): the
    running job is paused as "Pause until next time" would, and the window closes."""
    fakeweb.config.latency = 0.4
    controller = make_controller(local=local_server)
    dialog = controller.start(resume=True)
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    window = signed_in_window(qtbot, controller)
    job = create_and_start(qtbot, window, "Signalled foxes", "red fox", 30)
    ask_to_quit(qtbot, window)  # a question on screen is answered by the signal too

    assert controller.quit_by_signal() is True
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert controller.quit_by_signal() is False  # a second signal quits at once
    controller.shutdown()
    assert cancelled_on_disk(local_server.data_dir, job.id)
    assert set(settings.paused_jobs(f"local {local_server.data_dir}")) == {job.id}
