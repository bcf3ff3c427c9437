"""Review from the keyboard in the gallery, against a real server: decisions show at once,
reach the server in order, can be undone, filter the grid, and are there after a restart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pixcrawler_desktop.ui import roles
from tests.gui.helpers import CRAWL_MS, LEFT, WAIT_MS, sign_in

pytestmark = pytest.mark.slow


def server_reviews(user, job_id: int) -> dict[int, str]:
    body = user.client.get(f"/jobs/{job_id}/images", params={"page_size": 500}).json()
    return {i["id"]: i["review"] for i in body["items"]}


def open_gallery(qtbot, window, job_id: int, images: int):
    qtbot.waitUntil(lambda: window.jobs.current_job() is not None, timeout=WAIT_MS)
    assert window.jobs.select(job_id)
    window.tabs.setCurrentWidget(window.gallery)
    gallery = window.gallery
    qtbot.waitUntil(lambda: len(gallery.model.images()) == images, timeout=CRAWL_MS)
    return gallery


def test_review_from_the_keyboard(qtbot, live, users, make_controller, artifacts):
    user = users(live)
    job = user.client.post("/jobs", json={"name": "review me", "keywords": ["kestrel"],
                                          "engines": ["bing"], "max_images": 6}).json()
    assert user.client.post(f"/jobs/{job['id']}/start").status_code == 200
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.jobs.model.job(job["id"]) is not None
                    and window.jobs.model.job(job["id"]).status == "completed",
                    timeout=CRAWL_MS)
    gallery = open_gallery(qtbot, window, job["id"], 6)
    assert gallery.review_label.text() == "0 of 6 reviewed"

    qtbot.mouseClick(gallery.review_button, LEFT)
    assert gallery.review_button.isChecked()
    ids = [gallery.model.image(r).id for r in range(6)]
    assert gallery.current_image().id == ids[0]
    view = gallery.view
    for key in (Qt.Key.Key_A, Qt.Key.Key_X, Qt.Key.Key_P, Qt.Key.Key_U, Qt.Key.Key_X):
        qtbot.keyClick(view, key)
    # accept 0, reject 1, accept 2, undo (back on 2), reject 2: the next image is 3
    assert gallery.current_image().id == ids[3]
    assert gallery.review_label.text() == "3 of 6 reviewed"
    want = {ids[0]: "accepted", ids[1]: "rejected", ids[2]: "rejected",
            **dict.fromkeys(ids[3:], "unreviewed")}
    qtbot.waitUntil(lambda: server_reviews(user, job["id"]) == want, timeout=WAIT_MS)
    assert gallery.proxy.index(0, 0).data().startswith("✓ ")
    assert gallery.proxy.index(1, 0).data().startswith("✗ ")

    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert gallery.current_image().id == ids[2]
    qtbot.keyClicks(view, "?")
    assert gallery.keys_sheet is not None and gallery.keys_sheet.isVisible()
    assert "X\treject, then the next image" in gallery.keys_sheet.text()
    gallery.keys_sheet.close()

    gallery.review_combo.setCurrentIndex(gallery.review_combo.findData("rejected"))
    assert gallery.proxy.rowCount() == 2
    QApplication.processEvents()
    window.grab().save(str(artifacts / "gallery-review.png"))
    gallery.review_combo.setCurrentIndex(gallery.review_combo.findData("unreviewed"))
    assert gallery.proxy.rowCount() == 3
    gallery.view.setCurrentIndex(gallery.proxy.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_A)  # leaves the filtered grid; the next one comes
    assert gallery.proxy.rowCount() == 2
    assert gallery.current_image().id == ids[4]
    want[ids[3]] = "accepted"
    qtbot.waitUntil(lambda: server_reviews(user, job["id"]) == want, timeout=WAIT_MS)

    # -- after a restart, the decisions are there --------------------------------------------
    window.close()
    again = make_controller()
    again.start(resume=False)
    window = sign_in(qtbot, again, live.api_url, user.email, user.password)
    gallery = open_gallery(qtbot, window, job["id"], 6)
    qtbot.waitUntil(lambda: gallery.review_label.text() == "4 of 6 reviewed", timeout=WAIT_MS)
    assert {i.id: i.review for i in gallery.model.images()} == want


def test_a_duplicate_group_side_by_side_keep_one(qtbot, live, users, make_controller):
    from sqlalchemy import update

    from worker.db.models import Image
    from worker.db.session import session_scope

    user = users(live)
    job = user.client.post("/jobs", json={"name": "groups", "keywords": ["plover"],
                                          "engines": ["bing"], "max_images": 6}).json()
    assert user.client.post(f"/jobs/{job['id']}/start").status_code == 200
    qtbot.waitUntil(lambda: user.client.get(f"/jobs/{job['id']}").json()["status"]
                    == "completed", timeout=CRAWL_MS)
    ids = sorted(server_reviews(user, job["id"]))
    with session_scope(live.settings()) as db:  # what a slow validation would have found
        db.execute(update(Image).where(Image.id.in_(ids[1:3])).values(
            validation_status="duplicate", validation_issues=["near_duplicate"],
            validation_metrics={"duplicate_of": ids[0]}))
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    gallery = open_gallery(qtbot, window, job["id"], 6)
    qtbot.mouseClick(gallery.review_button, LEFT)
    row = next(r for r in range(6) if gallery.proxy.index(r, 0).data(roles.OBJECT).id == ids[2])
    gallery.view.setCurrentIndex(gallery.proxy.index(row, 0))

    qtbot.keyClick(gallery.view, Qt.Key.Key_G)
    shown = [gallery.proxy.index(r, 0).data(roles.OBJECT).id
             for r in range(gallery.proxy.rowCount())]
    assert shown[0] == ids[0] and sorted(shown) == ids[:3]
    assert gallery.proxy.index(0, 0).data().startswith("kept · ")
    assert gallery.current_image().id == ids[2]

    qtbot.keyClick(gallery.view, Qt.Key.Key_K)
    want = {ids[0]: "rejected", ids[1]: "rejected", ids[2]: "accepted",
            **dict.fromkeys(ids[3:], "unreviewed")}
    qtbot.waitUntil(lambda: server_reviews(user, job["id"]) == want, timeout=WAIT_MS)
    qtbot.keyClick(gallery.view, Qt.Key.Key_U)  # the whole group decision goes back
    qtbot.waitUntil(lambda: set(server_reviews(user, job["id"]).values()) == {"unreviewed"},
                    timeout=WAIT_MS)
    qtbot.keyClick(gallery.view, Qt.Key.Key_G)
    assert gallery.proxy.rowCount() == 6
    assert not gallery.proxy.index(0, 0).data().startswith("kept")
