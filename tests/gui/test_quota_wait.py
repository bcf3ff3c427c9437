"""A chunk waiting for its engine's search quota, as the job view shows it: the cell counts
down, the view says in one line why the job is slow, and all of it goes once the wait ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from pixcrawler_desktop.client import MemoryTokenStore, PixCrawlerClient
from pixcrawler_desktop.client.models import Engine, JobBreakdown
from pixcrawler_desktop.ui.jobview import JobView
from pixcrawler_desktop.ui.tasks import TaskRunner
from tests.gui import factories
from tests.gui.helpers import WAIT_MS
from tests.support.stack import free_port


def waiting(chunk_id: int, keyword: str, seconds: float, status: str = "pending"):
    chunk = factories.chunk(chunk_id, keyword, "bing", status, downloaded=3, target=15)
    return chunk.model_copy(update={
        "waiting_until": datetime.now(UTC) + timedelta(seconds=seconds),
        "waiting_for": "bing search quota"})


def test_waiting_chunks_count_down_and_say_why(qtbot):
    runner = TaskRunner(1)
    client = PixCrawlerClient(f"http://127.0.0.1:{free_port()}", token_store=MemoryTokenStore())
    view = JobView(client, runner, 5.0)
    qtbot.addWidget(view)
    job = factories.job(7, "owls", "running", engines=("bing", "duckduckgo"))
    view.show_job(job)
    view.show()
    view.engines = [Engine(name="bing", available=True, search_rate="10/minute", page_size=35)]

    soon, later = waiting(1, "cat", 2.5), waiting(2, "dog", 40)
    ddg = factories.chunk(3, "cat", "duckduckgo", "completed", downloaded=15, target=15)
    view._on_chunks([soon, later, ddg])
    model = view.chunk_model
    cells = {model.chunk(r, c).id: model.index(r, c) for r in range(model.rowCount())
             for c in range(model.columnCount()) if model.chunk(r, c)}
    text = cells[1].data(Qt.ItemDataRole.DisplayRole)
    assert text.startswith("3/15 · waiting for bing quota · ") and text.endswith(" s")
    assert "Waiting for bing quota" in cells[1].data(Qt.ItemDataRole.ToolTipRole)
    assert cells[3].data(Qt.ItemDataRole.DisplayRole) == "15/15"
    line = view.wait_label.text()
    assert view.wait_label.isVisible()
    assert line.startswith("Waiting for the search quota of bing (10/minute): 2 chunks wait, "
                           "the next query goes in ")

    # The countdown moves on by itself, and the line and the cell clear when the slot comes.
    first = cells[1].data(Qt.ItemDataRole.DisplayRole)
    qtbot.waitUntil(lambda: cells[1].data(Qt.ItemDataRole.DisplayRole) != first,
                    timeout=WAIT_MS)
    done = {"waiting_until": None, "waiting_for": None, "status": "running"}
    view._on_chunks([soon.model_copy(update=done), later.model_copy(update=done), ddg])
    qtbot.waitUntil(lambda: not view.wait_label.isVisible(), timeout=WAIT_MS)
    assert cells[1].data(Qt.ItemDataRole.DisplayRole) == "3/15"
    assert not view._wait_timer.isActive()
    runner.shutdown(1000)
    client.close()


def test_a_finished_short_job_says_where_its_missing_images_went(qtbot):
    runner = TaskRunner(1)
    client = PixCrawlerClient(f"http://127.0.0.1:{free_port()}", token_store=MemoryTokenStore())
    view = JobView(client, runner, 5.0)
    qtbot.addWidget(view)
    job = factories.job(8, "foxes", "completed", keywords=("red fox",), downloaded=86)
    job.breakdown = JobBreakdown.model_validate({
        "wanted": 100, "targets": 100, "topped_up": 0, "downloaded": 86, "results": 140,
        "ran_out": 14, "blocked": 0, "search_failed": 0, "filtered": 0, "duplicates": 0,
        "failed": 0, "failed_by": {}})
    view.show_job(job)
    view.show()
    assert view.state_line.isVisible()
    assert view.state_line.text() == "Images: 86 of 100; 14 short: 14 the engines did not have."
    whole = job.model_copy(update={"downloaded_images": 100, "breakdown": job.breakdown.model_copy(
        update={"downloaded": 100, "ran_out": 0})})
    view.show_job(whole)
    qtbot.waitUntil(lambda: not view.state_line.isVisible(), timeout=WAIT_MS)


def test_the_job_view_says_its_sources_terms(qtbot):
    runner = TaskRunner(1)
    client = PixCrawlerClient(f"http://127.0.0.1:{free_port()}", token_store=MemoryTokenStore())
    view = JobView(client, runner, 5.0)
    qtbot.addWidget(view)
    job = factories.job(9, "herons", "running", engines=("unsplash",))
    job.warnings = ["Unsplash: its licence does not allow using the photos to train models"]
    view.show_job(job)
    view.show()
    assert view.warnings_label.isVisible()
    assert view.warnings_label.text() == f"Warning: {job.warnings[0]}"
