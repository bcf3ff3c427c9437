"""The app as a daily tool (issue 18): actions enabled only when they can work, Delete in the
gallery rejects images and never the job, the jobs counter right after a delete, the New job
dialog's memory and "Create and start", per-job gallery filters and an empty result that says
why, the first window's empty state, and a job view whose words match the chunks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from pixcrawler_desktop.client.models import DEFAULT_MAX_IMAGES
from pixcrawler_desktop.ui import roles
from pixcrawler_desktop.ui.actions import JobActions
from pixcrawler_desktop.ui.export_dialog import ExportDialog
from pixcrawler_desktop.ui.jobs_panel import JobsPanel
from pixcrawler_desktop.ui.newjob import NewJobDialog
from pixcrawler_desktop.ui.settings_dialog import SettingsDialog
from tests.gui import factories
from tests.gui.helpers import (
    CRAWL_MS,
    CTRL,
    LEFT,
    WAIT_MS,
    press,
    sign_in,
    type_into,
    type_lines,
    wait_status,
)

ALWAYS = {"new", "refresh"}


def job_in(status: str, **kwargs):
    return factories.job(7, "Kestrels", status, **kwargs)


@pytest.mark.parametrize(("job", "paused", "expected"), [
    (None, False, set()),
    (job_in("pending"), False, {"start", "cancel", "delete"}),
    (job_in("running", downloaded=5, active=2), False, {"cancel", "export"}),
    (job_in("completed", downloaded=20, completed=2), False, {"validate", "export", "delete"}),
    (job_in("completed", downloaded=10, completed=1, failed=1), False,
     {"retry", "validate", "export", "delete"}),
    (job_in("failed", failed=2), False, {"retry", "delete"}),
    (job_in("cancelled", downloaded=3, completed=1, cancelled=1), False,
     {"retry", "validate", "export", "delete"}),
    (job_in("cancelled", downloaded=3, cancelled=2), True,
     {"start", "cancel", "validate", "export", "delete"}),  # paused at quit: Start goes on
], ids=["none", "pending", "running", "completed", "completed-with-failures", "failed",
        "cancelled", "paused"])
def test_every_action_follows_the_job_status(qtbot, job, paused, expected):
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = JobActions(parent)
    actions.update(job, paused=paused)
    assert actions.enabled() == ALWAYS | expected
    assert all(level.isEnabled() == ("validate" in expected) for level in actions.levels.values())
    actions.update(job, signed_in=False, paused=paused)
    assert actions.enabled() == set()
    if job is not None and job.status == "running":
        actions.update(job)
        assert "downloaded so far" in actions["export"].toolTip()
    # Deleting a job is its own command: its key works only where the jobs list adds it.
    assert actions["delete"].text() == "&Delete job…"
    assert actions["delete"].shortcutContext() == Qt.ShortcutContext.WidgetShortcut


def test_the_jobs_counter_and_the_first_run_note(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    panel = JobsPanel(JobActions(parent), parent)
    assert not panel.is_empty()  # nothing is said before the first list came
    panel.set_loaded()
    assert panel.is_empty() and panel.count_label.text() == "0 jobs"
    assert panel.empty_button.text() == "New job…"
    panel.model.set_jobs([factories.job(i, f"job {i}", "completed") for i in (1, 2, 3)])
    assert not panel.is_empty() and panel.count_label.text() == "3 jobs"
    panel.model.remove(2)  # what a delete does
    assert panel.proxy.rowCount() == 2 and panel.count_label.text() == "2 jobs"
    panel.model.set_jobs([factories.job(i, f"job {i}", "completed") for i in (1, 3)])  # F5
    assert panel.count_label.text() == "2 jobs"
    type_into(qtbot, panel.search, "job 3")
    assert panel.count_label.text() == "1 of 2 jobs"
    panel.model.remove(1)
    assert panel.count_label.text() == "1 job"
    panel.model.remove(3)
    assert panel.is_empty()


def test_forget_server_follows_the_selection(qtbot, settings):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert not dialog.forget_button.isEnabled()  # nothing listed: nothing to forget
    assert not dialog.forget_button.isVisibleTo(dialog) and dialog.servers_hint.isVisibleTo(dialog)
    settings.remember_server("http://lab.example.org:8000")
    settings.remember_server("http://other.example.org:8000")
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.forget_button.isVisibleTo(dialog) and not dialog.forget_button.isEnabled()
    dialog.servers.setCurrentRow(0)
    assert dialog.forget_button.isEnabled()
    qtbot.mouseClick(dialog.forget_button, LEFT)
    assert dialog.servers.count() == 1
    assert dialog.forget_button.isEnabled() == bool(dialog.servers.selectedItems())


def test_the_job_view_says_what_the_chunks_do(qtbot, live, fakeweb, users, make_controller):
    """A job not yet started has nothing queued (it said "6 queued or running"); a running
    one counts running and queued chunks as the chunks report them."""
    fakeweb.config.latency = 0.3
    user = users(live)
    job = user.client.post("/jobs", json={"name": "six chunks", "keywords": ["ibis", "stork",
                                                                             "crane"],
                                          "engines": ["bing", "duckduckgo"],
                                          "max_images": 12}).json()
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    view = window.job_view
    qtbot.waitUntil(lambda: view.job is not None and view.job.id == job["id"]
                    and len(view.chunk_model.chunks()) == 6, timeout=WAIT_MS)
    assert view.counters["running"].text() == view.counters["queued"].text() == "0"
    assert view.state_line.isVisibleTo(window)
    assert view.state_line.text() == "Not started: its 6 chunks wait for Start (Ctrl+Return)."
    tip = window.jobs.proxy.index(0, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert "6 not started" in tip and "queued" not in tip

    qtbot.waitUntil(lambda: "start" in window.actions.enabled(), timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_Return, CTRL)

    def counted() -> bool:
        chunks = view.chunk_model.chunks()
        running = sum(c.status == "running" for c in chunks)
        queued = sum(c.status == "pending" for c in chunks)
        return (view.job.status == "running" and running > 0
                and view.counters["running"].text() == str(running)
                and view.counters["queued"].text() == str(queued))

    qtbot.waitUntil(counted, timeout=CRAWL_MS)
    assert not view.state_line.isVisibleTo(window)

    # -- Export of a running job says plainly what it takes -----------------------------------
    qtbot.waitUntil(lambda: view.job.downloaded_images > 0
                    and "export" in window.actions.enabled(), timeout=CRAWL_MS)
    assert "downloaded so far" in window.actions["export"].toolTip()
    window.export_job(view.job)
    export = window.dialog
    assert isinstance(export, ExportDialog) and export.running_note.isVisibleTo(export)
    assert export.running_note.text().startswith("This job is still running: the export "
                                                 "takes the ")
    assert export.all_radio.text().endswith("images downloaded so far")
    export.reject()
    fakeweb.config.latency = 0.0
    qtbot.waitUntil(lambda: view.job.status == "completed", timeout=CRAWL_MS)
    assert view.counters["running"].text() == view.counters["queued"].text() == "0"


def crawled_job(user, name: str, keyword: str, images: int) -> dict:
    job = user.client.post("/jobs", json={"name": name, "keywords": [keyword],
                                          "engines": ["bing"], "max_images": images}).json()
    assert user.client.post(f"/jobs/{job['id']}/start").status_code == 200
    return job


def server_reviews(user, job_id: int) -> dict[int, str]:
    body = user.client.get(f"/jobs/{job_id}/images", params={"page_size": 500}).json()
    return {i["id"]: i["review"] for i in body["items"]}


def open_gallery(qtbot, window, job_id: int, images: int):
    assert window.jobs.select(job_id)
    window.tabs.setCurrentWidget(window.gallery)
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.job is not None and gallery.job.id == job_id
                    and len(gallery.model.images()) == images, timeout=CRAWL_MS)
    return gallery


def click_tile(qtbot, gallery, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    center = gallery.view.visualRect(gallery.proxy.index(row, 0)).center()
    qtbot.mouseClick(gallery.view.viewport(), LEFT, modifier, pos=center)


def test_delete_in_the_gallery_rejects_the_selected_images(qtbot, live, users, make_controller,
                                                         settings):
    user = users(live)
    keep = crawled_job(user, "Kestrels", "kestrel", 6)
    other = user.client.post("/jobs", json={"name": "Ospreys", "keywords": ["osprey"],
                                            "engines": ["bing"], "max_images": 4}).json()
    settings.local_data_dir = live.data_dir  # "Show in folder" finds the files
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.jobs.model.job(keep["id"]) is not None
                    and window.jobs.model.job(keep["id"]).status == "completed",
                    timeout=CRAWL_MS)
    assert window.jobs.count_label.text() == "2 jobs"
    gallery = open_gallery(qtbot, window, keep["id"], 6)
    ids = [gallery.proxy.index(r, 0).data(roles.OBJECT).id for r in range(6)]

    # -- two images selected, Delete with the grid focused: both rejected, the job kept -----
    click_tile(qtbot, gallery, 1)
    click_tile(qtbot, gallery, 3, CTRL)
    assert [i.id for i in gallery.selected_images()] == [ids[1], ids[3]]
    gallery.view.setFocus()
    qtbot.keyClick(gallery.view, Qt.Key.Key_Delete)
    assert not isinstance(window.dialog, QMessageBox)  # no "Delete job?" question
    wait_status(qtbot, window, "Rejected 2 images: exports leave them out")
    want = {i: "rejected" if i in (ids[1], ids[3]) else "unreviewed" for i in ids}
    qtbot.waitUntil(lambda: server_reviews(user, keep["id"]) == want, timeout=WAIT_MS)
    assert user.client.get(f"/jobs/{keep['id']}").status_code == 200
    assert window.jobs.model.job(keep["id"]) is not None
    qtbot.keyClick(gallery.view, Qt.Key.Key_Z, CTRL)  # taken back, as one decision
    qtbot.waitUntil(lambda: set(server_reviews(user, keep["id"]).values()) == {"unreviewed"},
                    timeout=WAIT_MS)

    # -- "Show in folder": the context menu and the button agree ----------------------------
    click_tile(qtbot, gallery, 0)
    qtbot.waitUntil(gallery.folder_button.isEnabled, timeout=WAIT_MS)
    pos = gallery.view.visualRect(gallery.proxy.index(2, 0)).center()
    gallery.view.setCurrentIndex(gallery.proxy.index(2, 0))  # what a right click does
    gallery.view.customContextMenuRequested.emit(pos)
    menu = gallery.menu
    entries = {a.text(): a for a in menu.actions() if a.text()}
    qtbot.waitUntil(lambda: gallery.folder_button.isEnabled()
                    and entries["Show in folder"].isEnabled(), timeout=WAIT_MS)
    assert entries["Reject 1 image"].isEnabled()
    menu.close()

    # -- Delete in the jobs list is "Delete job…", asks, and the counter follows --------------
    assert window.jobs.select(other["id"])
    qtbot.waitUntil(lambda: "delete" in window.actions.enabled(), timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_Delete)
    box = window.dialog
    assert isinstance(box, QMessageBox) and "Delete “Ospreys”" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), LEFT)
    wait_status(qtbot, window, "Deleted job “Ospreys”")
    assert window.jobs.count_label.text() == "1 job"
    assert window.jobs.proxy.rowCount() == 1
    window.actions["refresh"].trigger()  # F5
    assert window.runner.pending > 0
    qtbot.waitUntil(lambda: window.runner.pending == 0, timeout=WAIT_MS)
    assert window.jobs.count_label.text() == "1 job"


def test_gallery_filters_are_per_job_and_an_empty_result_says_why(qtbot, live, users,
                                                                  make_controller):
    user = users(live)
    many = crawled_job(user, "Many kestrels", "kestrel", 40)
    few = crawled_job(user, "Few herons", "grey heron", 4)
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    window.resize(900, 640)
    qtbot.waitUntil(lambda: all(window.jobs.model.job(j["id"]) is not None
                                and window.jobs.model.job(j["id"]).status == "completed"
                                for j in (many, few)), timeout=CRAWL_MS)
    gallery = open_gallery(qtbot, window, many["id"], 40)

    # -- a filter that hides everything says so, by name, with a way out --------------------
    gallery.outcome_combo.setCurrentIndex(gallery.outcome_combo.findData("valid"))
    assert gallery.proxy.rowCount() == 0
    assert gallery.list_area.currentWidget() is gallery.no_match
    assert gallery.no_match_label.text() == (
        "No images match the filter outcome “Valid”. The job has 40 images.")
    assert gallery.clear_button.isVisibleTo(window)
    QApplication.processEvents()

    # -- the next job starts unfiltered; coming back restores the filter --------------------
    gallery = open_gallery(qtbot, window, few["id"], 4)
    assert gallery.filters() == (None, None, None) and gallery.proxy.rowCount() == 4
    gallery = open_gallery(qtbot, window, many["id"], 40)
    assert gallery.filters() == (None, "valid", None)
    assert gallery.list_area.currentWidget() is gallery.no_match
    qtbot.mouseClick(gallery.clear_button, LEFT)
    assert gallery.filters() == (None, None, None) and gallery.proxy.rowCount() == 40
    assert gallery.list_area.currentWidget() is gallery.view

    # -- and so does the scroll position ------------------------------------------------------
    bar = gallery.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=WAIT_MS)
    bar.setValue(bar.maximum())
    where = bar.value()
    assert where > 0
    gallery = open_gallery(qtbot, window, few["id"], 4)
    assert gallery.view.verticalScrollBar().value() == 0
    gallery = open_gallery(qtbot, window, many["id"], 40)
    qtbot.waitUntil(lambda: gallery.view.verticalScrollBar().value() == where, timeout=WAIT_MS)

    # -- the next run of the app finds both as they were left ---------------------------------
    gallery.outcome_combo.setCurrentIndex(gallery.outcome_combo.findData("pending"))
    gallery = open_gallery(qtbot, window, few["id"], 4)  # leaving the job keeps its state
    window.close()
    later = make_controller()
    later.start(resume=False)
    window = sign_in(qtbot, later, live.api_url, user.email, user.password)
    window.resize(900, 640)
    qtbot.waitUntil(lambda: window.jobs.model.job(many["id"]) is not None, timeout=WAIT_MS)
    gallery = open_gallery(qtbot, window, many["id"], 40)
    assert gallery.filters() == (None, "pending", None)


def test_new_job_dialog_refuses_out_of_range_remembers_and_creates_and_starts(
        qtbot, live, users, make_controller, settings):
    user = users(live)
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)

    # -- the first window says what to do, with a button for it -------------------------------
    qtbot.waitUntil(window.jobs.is_empty, timeout=WAIT_MS)
    assert window.jobs.empty_button.isVisibleTo(window)
    qtbot.mouseClick(window.jobs.empty_button, LEFT)
    qtbot.waitUntil(lambda: isinstance(window.dialog, NewJobDialog)
                    and window.dialog.isVisible(), timeout=WAIT_MS)
    dialog = window.dialog
    qtbot.waitUntil(lambda: dialog.engine_picker.loaded, timeout=WAIT_MS)
    assert dialog.images_spin.value() == DEFAULT_MAX_IMAGES == 100  # the CLI's default too
    assert dialog.start_button.isDefault() and dialog.start_button.text() == "Create and start"

    # -- every engine fits in the dialog (the last one was cut off) --------------------------
    qtbot.waitUntil(lambda: all(c.isVisible() for c in dialog.engine_checks.values()),
                    timeout=WAIT_MS)
    area = dialog.engine_picker.parentWidget()
    for check in dialog.engine_checks.values():
        corner = check.mapTo(area, QPoint(0, check.height()))
        assert corner.y() <= area.height(), f"{check.text()} is cut off"

    # -- out of range: refused where it is typed, saying why, never replaced ------------------
    type_into(qtbot, dialog.name_edit, "Daily kestrels")
    type_lines(qtbot, dialog.keywords_edit, "kestrel")
    type_into(qtbot, dialog.images_spin.lineEdit(), "0")
    error = dialog.errors.fields["max_images"].error
    assert error.text() == "At least 1 image per keyword; 0 would crawl nothing."
    dialog.name_edit.setFocus()  # leaving the box keeps what was typed
    assert dialog.images_spin.value() == 0 and error.isVisibleTo(dialog)
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # the default button: refused
    assert dialog.isVisible() and window.jobs.model.rowCount(QModelIndex()) == 0
    type_into(qtbot, dialog.images_spin.lineEdit(), "12000")
    assert error.text() == "At most 10,000 images per keyword; 12,000 is too many."
    type_into(qtbot, dialog.images_spin.lineEdit(), "5")
    assert not error.isVisibleTo(dialog)

    # -- choices, then Return: created and started in one step ------------------------------
    duck = dialog.engine_checks["duckduckgo"]
    qtbot.mouseClick(duck, LEFT, pos=duck.rect().center())
    assert dialog.engines() == ["bing"]
    dialog.validate_combo.setCurrentIndex(dialog.validate_combo.findData("fast"))
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    job = dialog.job
    assert job is not None and dialog.started is not None
    wait_status(qtbot, window, "Created and started job “Daily kestrels” with 1 chunks")
    created = user.client.get(f"/jobs/{job.id}").json()
    assert created["status"] in ("running", "completed")
    assert created["fill"] is True and dialog.fill_check.isChecked()  # top-up is on by default
    qtbot.waitUntil(lambda: window.jobs.model.job(job.id).status == "completed",
                    timeout=CRAWL_MS)
    assert window.jobs.model.job(job.id).downloaded_images == 5
    assert not window.jobs.is_empty()

    # -- the next dialog offers the same choices ----------------------------------------------
    window.new_job()
    again = window.dialog
    assert again is not dialog
    qtbot.waitUntil(lambda: again.engine_picker.loaded, timeout=WAIT_MS)
    assert again.engines() == ["bing"]
    assert again.validate_combo.currentData() == "fast"
    assert again.images_spin.value() == 5
    assert (settings.new_job_engines, settings.new_job_level, settings.new_job_count) == (
        ["bing"], "fast", 5)
    again.reject()
