"""The Qt models on their own: Qt's model tester, merging, sorting and filtering."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from pixcrawler_desktop.client.models import ChunkBreakdown, Progress
from pixcrawler_desktop.ui import jobs_model, roles
from pixcrawler_desktop.ui.chunks_model import ChunkGridModel, chunk_progress
from pixcrawler_desktop.ui.gallery_model import GalleryFilter, GalleryModel
from pixcrawler_desktop.ui.jobs_model import JobsFilterProxy, JobsTableModel
from tests.gui.factories import T0, chunk, image, job


def names(model) -> list[str]:
    return [model.index(r, jobs_model.NAME).data() for r in range(model.rowCount())]


def test_jobs_model_passes_the_model_tester(qtmodeltester):
    model = JobsTableModel()
    model.set_jobs([job(1, "alpha"), job(2, "beta", "running", progress=40)])
    qtmodeltester.check(model, force_py=True)
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)


def test_jobs_model_merges_by_id_and_keeps_rows_in_place(qtbot):
    model = JobsTableModel()
    model.set_jobs([job(1, "alpha"), job(2, "beta"), job(3, "gamma")])
    changed = []
    model.dataChanged.connect(lambda top, bottom, _r: changed.append((top.row(), bottom.row())))
    with qtbot.assertNotEmitted(model.modelReset):
        model.set_jobs([job(3, "gamma", "running", progress=10), job(1, "alpha"), job(4, "delta")])
    assert names(model) == ["alpha", "gamma", "delta"]
    assert changed == [(1, 1)]  # only gamma changed; beta removed, delta appended
    assert model.index(1, jobs_model.STATUS).data() == "running"
    assert model.index(1, jobs_model.PROGRESS).data(roles.PROGRESS) == 10


def test_progress_event_updates_the_row():
    model = JobsTableModel()
    model.set_jobs([job(7, "seven", "running", keywords=("a", "b", "c"), engines=("bing",))])
    progress = Progress.model_validate({
        "job_id": 7, "status": "running", "progress": 66, "total_chunks": 3,
        "active_chunks": 1, "completed_chunks": 2, "failed_chunks": 0,
        "downloaded_images": 20, "estimated_completion": None, "started_at": T0.isoformat(),
        "updated_at": T0.isoformat()})
    updated = model.apply_progress(progress)
    assert updated is not None and updated.progress == 66
    assert model.index(0, jobs_model.CHUNKS).data() == "2/3"
    assert model.index(0, jobs_model.IMAGES).data() == "20"
    assert model.apply_progress(progress.model_copy(update={"job_id": 99})) is None


def test_proxy_sorts_by_raw_values_and_filters_by_status_and_name():
    model = JobsTableModel()
    model.set_jobs([job(1, "Zebra", "completed", downloaded=9, progress=100),
                    job(2, "apple", "running", downloaded=100, progress=50),
                    job(3, "Mango", "pending", downloaded=10)])
    proxy = JobsFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(jobs_model.IMAGES, Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["Zebra", "Mango", "apple"]  # 9 < 10 < 100, not "10" < "100" < "9"
    proxy.sort(jobs_model.NAME, Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["apple", "Mango", "Zebra"]  # case-insensitive
    proxy.set_status("running")
    assert names(proxy) == ["apple"]
    proxy.set_status(None)
    proxy.set_search("  AN ")
    assert names(proxy) == ["Mango"]
    proxy.set_search("")
    assert proxy.rowCount() == 3


def test_chunk_grid_model(qtmodeltester):
    model = ChunkGridModel()
    model.set_shape(["cat", "dog"], ["bing", "duckduckgo"])
    qtmodeltester.check(model, force_py=True)
    model.set_chunks([chunk(1, "cat", "bing", downloaded=5),
                      chunk(2, "dog", "duckduckgo", "failed", downloaded=2,
                            error="duckduckgo: result page format not recognised")])
    qtmodeltester.check(model, force_py=True)
    assert model.headerData(1, Qt.Orientation.Vertical) == "dog"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "duckduckgo"
    assert model.index(0, 0).data() == "5/10"
    assert model.index(0, 0).data(roles.PROGRESS) == 50
    assert model.index(0, 1).data() == "…"  # no chunk data yet
    failed = model.index(1, 1)
    assert failed.data(roles.PROGRESS) == 100  # finished chunks count whole
    assert "Last error: duckduckgo: result page format not recognised" in failed.data(
        Qt.ItemDataRole.ToolTipRole)


def test_chunk_cells_say_where_images_went_and_whose_share_they_took_over():
    short = chunk(1, "cat", "bing", "completed", downloaded=6)
    full = chunk(2, "cat", "duckduckgo", "completed", downloaded=14, target=14)
    base = {"target": 10, "results": 6, "ran_out": 4, "blocked": 0, "search_failed": 0,
            "filtered": 0, "duplicates": 0, "failed": 0, "failed_by": {},
            "search_end": "ran_out", "took_over": []}
    short.breakdown = ChunkBreakdown.model_validate({**base, "downloaded": 6})
    full.breakdown = ChunkBreakdown.model_validate({
        **base, "target": 14, "downloaded": 14, "results": 20, "ran_out": 0,
        "search_end": None, "took_over": [{"chunk_id": 1, "engine": "bing", "images": 4}]})
    model = ChunkGridModel()
    model.set_shape(["cat"], ["bing", "duckduckgo"])
    model.set_chunks([short, full])
    assert model.index(0, 0).data() == "6/10"
    assert model.index(0, 1).data() == "14/14 +4"
    tip = Qt.ItemDataRole.ToolTipRole
    assert "bing: 6 of 10; bing ran out after 6 results" in model.index(0, 0).data(tip)
    assert "duckduckgo: 14 of 14; duckduckgo filled in 4 for bing" in model.index(0, 1).data(tip)


def test_chunk_grid_reshapes_for_unknown_keywords():
    model = ChunkGridModel()
    model.set_shape(["Cat"], ["bing"])
    model.set_chunks([chunk(1, "cat", "bing", "completed", downloaded=10)])
    assert (model.rowCount(), model.columnCount()) == (1, 1)
    assert model.headerData(0, Qt.Orientation.Vertical) == "cat"
    assert chunk_progress(chunk(2, "x", "bing", "cancelled", downloaded=3)) == 30


def test_gallery_model_and_filter(qtmodeltester):
    model = GalleryModel()
    model.merge([image(1, "cat", "valid"), image(2, "cat", "invalid", rank=2),
                 image(3, "dog", "duplicate")])
    qtmodeltester.check(model, force_py=True)
    proxy = GalleryFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)
    proxy.set_keyword("cat")
    assert proxy.rowCount() == 2
    proxy.set_outcome("invalid")
    assert [proxy.index(r, 0).data(roles.OBJECT).id for r in range(proxy.rowCount())] == [2]
    assert "Issues: too_dark" in proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    proxy.set_keyword(None)
    proxy.set_outcome(None)
    assert proxy.rowCount() == 3


def test_gallery_merge_updates_outcomes_in_place(qtbot):
    model = GalleryModel()
    assert model.merge([image(1, "cat"), image(2, "cat", rank=2)]) == 2
    with qtbot.waitSignal(model.dataChanged) as changed:
        assert model.merge([image(2, "cat", "valid", rank=2), image(5, "dog")]) == 1
    assert changed.args[0].row() == 1
    assert model.rowCount() == 3
    assert model.index(1).data(roles.OUTCOME) == "valid"
    assert model.rowCount(model.index(0)) == 0 and model.rowCount(QModelIndex()) == 3


def test_a_cancel_implies_the_cancelled_chunks_so_retry_is_offered_at_once():
    from pixcrawler_desktop.client.models import can_retry
    from pixcrawler_desktop.ui.jobs_model import fold_progress, with_status

    running = job(3, "three", "running", keywords=("a", "b", "c", "d"), completed=1, active=2)
    cancelled = with_status(running, "cancelled")
    assert (cancelled.cancelled_chunks, cancelled.active_chunks) == (3, 0)
    assert can_retry(cancelled) and not can_retry(running)
    progress = Progress.model_validate({
        "job_id": 3, "status": "completed", "progress": 100, "total_chunks": 4,
        "active_chunks": 0, "completed_chunks": 4, "failed_chunks": 0,
        "downloaded_images": 40, "updated_at": T0.isoformat()})
    done = fold_progress(running, progress)
    assert (done.status, done.completed_chunks, done.cancelled_chunks) == ("completed", 4, 0)
    assert not can_retry(done)
