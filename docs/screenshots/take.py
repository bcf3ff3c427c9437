"""Take the README's screenshots of the desktop app, offscreen, with QWidget.grab().

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take.py

It runs the real app on "This computer" (its own API and worker, in a temporary data folder)
against the tests' fake web, so no real site is asked, and walks through the states the
README shows: the first window, the quit question, a job paused at quit at the next launch,
a gallery whose filter hides every image, review mode, and a job whose chunks wait for an
engine's search quota (wikimedia is held to 1 query a minute for it). Takes about a minute.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from pixcrawler_desktop.client.tokens import MemoryTokenStore  # noqa: E402
from pixcrawler_desktop.ui.controller import AppController  # noqa: E402
from pixcrawler_desktop.ui.localserver import LocalServer, StoppingNote  # noqa: E402
from pixcrawler_desktop.ui.mainwindow import MainWindow  # noqa: E402
from pixcrawler_desktop.ui.settings import AppSettings  # noqa: E402
from pixcrawler_desktop.ui.theme import Theme  # noqa: E402
from tests.fakeweb.server import FakeWeb  # noqa: E402

OUT = Path(__file__).resolve().parent


def wait(condition: Callable[[], object], seconds: float = 120) -> None:
    """Run the event loop until `condition` holds (a script, not a test: polling is fine)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        QApplication.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, name: str) -> None:
    for _ in range(5):
        QApplication.processEvents()
    widget.grab().save(str(OUT / name))
    print("saved", OUT / name)


def launch(app: QApplication, settings: AppSettings, env: dict[str, str],
           theme: Theme) -> tuple[AppController, MainWindow]:
    controller = AppController(settings, MemoryTokenStore(), theme=theme,
                               local=LocalServer(concurrency=2, env=env), parent=app)
    dialog = controller.start(resume=True)
    if not settings.local_chosen:
        dialog.sign_in_button.click()  # "Start" on "This computer"
    wait(lambda: controller.window is not None and controller.window.isVisible())
    window = controller.window
    assert window is not None
    window.resize(1080, 700)
    return controller, window


def main() -> None:
    app = QApplication.instance() or QApplication([])
    theme = Theme(app, "light")
    with tempfile.TemporaryDirectory() as tmp, FakeWeb() as fakeweb:
        os.environ["PIXCRAWLER_DATA_DIR"] = str(Path(tmp) / "data")
        settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"),
                                         QSettings.Format.IniFormat))
        env = fakeweb.engine_env()
        env["PIXCRAWLER_SEARCH_RATE_LIMIT"] = "6000/minute"
        env["PIXCRAWLER_ENGINE_WIKIMEDIA_SEARCH_RATE"] = "1/minute"  # for the waiting job

        # -- the first window -------------------------------------------------------------
        controller, window = launch(app, settings, env, theme)
        wait(window.jobs.is_empty)
        save(window, "first-window.png")

        # -- a job running, and the question at quit ----------------------------------------
        fakeweb.config.latency = 0.4
        window.new_job()
        dialog = window.dialog
        wait(lambda: dialog.engine_picker.loaded)
        dialog.name_edit.setText("Arctic foxes")
        dialog.keywords_edit.setPlainText("arctic fox\nred fox")
        dialog.images_spin.setValue(40)
        save(dialog, "new-job.png")
        dialog.start_button.click()
        wait(lambda: dialog.job is not None)
        job_id = dialog.job.id
        wait(lambda: window.jobs.model.job(job_id).downloaded_images > 6)
        window.close()
        box = window.dialog
        wait(lambda: isinstance(box, QMessageBox) and box.isVisible())
        save(box, "quit-question.png")
        next(b for b in box.buttons() if b.objectName() == "quit_pause").click()
        wait(lambda: not window.isVisible())
        note = StoppingNote()
        note.show()
        save(note, "stopping-note.png")
        note.close()
        controller.shutdown()

        # -- the next launch: the job is paused and waits for Start --------------------------
        fakeweb.config.latency = 0.0
        controller, window = launch(app, settings, env, theme)
        wait(lambda: window.jobs.model.is_paused(job_id))
        window.jobs.select(job_id)
        wait(lambda: window.job_view.status_label.text() == "paused"
             and len(window.job_view.chunk_model.chunks()) == 4)  # 2 keywords x 2 engines
        save(window, "paused-job.png")

        # -- a gallery filter that hides every image -------------------------------------------
        window.tabs.setCurrentWidget(window.gallery)
        gallery = window.gallery
        wait(lambda: len(gallery.model.images()) > 0)
        gallery.outcome_combo.setCurrentIndex(gallery.outcome_combo.findData("invalid"))
        wait(lambda: gallery.list_area.currentWidget() is gallery.no_match)
        save(window, "gallery-no-match.png")

        # -- review mode: a few decisions made from the keyboard -------------------------------
        gallery.clear_filters()
        wait(lambda: gallery.proxy.rowCount() == len(gallery.model.images()))
        wait(lambda: gallery.thumbnails.loaded_count() >= min(12, gallery.proxy.rowCount()))
        gallery.review_button.setChecked(True)
        for decision in ("accepted", "accepted", "rejected"):
            gallery.reviewer.decide(decision)
        wait(lambda: gallery.reviewer.counts()[0] >= 3)
        save(window, "review-mode.png")
        gallery.review_button.setChecked(False)

        # -- a job whose chunks wait for an engine's search quota ------------------------------
        client = window.client
        owls = client.create_job("Owls", ["snowy owl", "barn owl", "tawny owl", "eagle owl"],
                                 ["bing", "wikimedia"], 30)
        client.start(owls.id)
        window.refresh_jobs()
        wait(lambda: window.jobs.model.job(owls.id) is not None)
        window.jobs.select(owls.id)
        window.tabs.setCurrentWidget(window.job_view)
        wait(lambda: window.job_view.wait_label.isVisible())
        wait(lambda: window.jobs.model.job(owls.id).downloaded_images >= 30)
        save(window, "waiting-job.png")
        client.cancel(owls.id)
        controller.shutdown()


if __name__ == "__main__":
    main()
