"""Engines, filters, chunk warnings, provenance and export in the app: the New job dialog
against a server without API keys, then a filtered crawl on a real worker, its warnings in the
chunk grid, and its dataset exported as a zip and as a folder."""

from __future__ import annotations

import zipfile

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pixcrawler_desktop.client import ApiError, ForbiddenError, MemoryTokenStore, PixCrawlerClient
from pixcrawler_desktop.client.models import EXPORT_FORMATS, ExportFormat, Filters
from pixcrawler_desktop.ui import roles
from pixcrawler_desktop.ui.chunks_model import ChunkGridModel
from pixcrawler_desktop.ui.export_dialog import ExportCancelled, ExportDialog, split_spec
from pixcrawler_desktop.ui.filters_box import FILTER_LABELS, LICENSE_LABELS
from pixcrawler_desktop.ui.gallery_model import image_tooltip
from pixcrawler_desktop.ui.imageviewer import details_html
from pixcrawler_desktop.ui.newjob import NewJobDialog
from pixcrawler_desktop.ui.tasks import TaskRunner
from tests.gui import factories
from tests.gui.factories import chunk, image
from tests.gui.helpers import (
    CRAWL_MS,
    LEFT,
    WAIT_MS,
    click_action,
    set_checked,
    sign_in,
    type_into,
    type_lines,
    wait_status,
)
from tests.support.engines import licence_gap
from tests.support.stack import free_port
from worker.export import columnar

FLICKR_REASON = "needs an API key: set PIXCRAWLER_FLICKR_API_KEY"
SAMPLE_WARNING = "bing: cannot filter by licence 'public_domain'; results are not filtered by it"


def expected_note(engine: dict, wanted: dict[str, object]) -> str:
    """What the dialog should say beside a chosen engine, from the server's own lists."""
    missing = [
        FILTER_LABELS[name]
        for name, value in wanted.items()
        if value not in engine["filter_values"].get(name, [])
    ]
    return "cannot filter by " + ", ".join(missing) if missing else ""


def open_new_job(qtbot, window) -> NewJobDialog:
    window.new_job()
    dialog = window.dialog
    assert isinstance(dialog, NewJobDialog)
    qtbot.waitUntil(lambda: dialog.engine_picker.loaded, timeout=WAIT_MS)
    # Qt shows check boxes added to a visible layout one event later and lays them out after
    # that: wait until a click would land on each usable one.
    checks = [c for c in dialog.engine_picker.checks.values() if c.isEnabled()]
    qtbot.waitUntil(lambda: all(c.isVisible() and c.hitButton(c.rect().center())
                                for c in checks), timeout=WAIT_MS)
    return dialog


def test_new_job_dialog_lists_the_servers_engines_and_filters(
    qtbot, keyless_server, users, make_controller, artifacts
):
    user = users(keyless_server)
    listed = user.client.get("/engines").json()
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, keyless_server.api_url, user.email, user.password)
    dialog = open_new_job(qtbot, window)
    picker = dialog.engine_picker

    # -- whatever the server lists; unusable ones greyed out, with the server's reason -------
    assert list(picker.checks) == [e["name"] for e in listed]
    assert dialog.engines() == ["bing", "duckduckgo"]
    for engine in listed:
        check = picker.checks[engine["name"]]
        assert check.isEnabled() == engine["available"]
        if not engine["available"]:
            assert engine["reason"] in check.toolTip()
    assert picker.note("flickr") == "needs an API key"
    assert FLICKR_REASON in picker.notes["flickr"].toolTip()

    # -- filters: collapsed to a summary, then set; chosen engines say what they cannot do --
    gap, licence, _warning = licence_gap(listed)
    box = dialog.filters_box
    assert not box.body.isVisible() and box.summary.text() == "safe search on"
    qtbot.mouseClick(box.toggle, LEFT)
    assert box.body.isVisible()
    box.license_combo.setCurrentIndex(box.license_combo.findData(licence))
    box.color_combo.setCurrentIndex(box.color_combo.findData("grayscale"))
    type_into(qtbot, box.width_spin.lineEdit(), "640")
    type_into(qtbot, box.height_spin.lineEdit(), "480")
    assert box.summary.text() == (
        f"safe search on · at least 640×480 px · licence: {LICENSE_LABELS[licence].lower()} · "
        "colour: black and white"
    )
    set_checked(qtbot, picker.checks[gap], True)
    assert "licence" in picker.note(gap)
    wanted = {"safe_search": True, "license": licence, "color": "grayscale"}
    for engine in listed:
        chosen = engine["name"] in dialog.engines()
        if engine["available"]:
            assert picker.note(engine["name"]) == (expected_note(engine, wanted) if chosen else "")
    type_into(qtbot, dialog.name_edit, "Grey herons")
    type_lines(qtbot, dialog.keywords_edit, "grey heron\nheron in flight")
    QApplication.processEvents()
    dialog.grab().save(str(artifacts / "newjob-filters.png"))

    # -- an engine refused by the server (the list was stale) is marked on the field --------
    flickr = picker.checks["flickr"]
    flickr.setEnabled(True)
    flickr.setChecked(True)
    qtbot.mouseClick(dialog.create_button, LEFT)
    error = dialog.errors.fields["engines"].error
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog), timeout=WAIT_MS)
    assert error.text() == f"Engine 'flickr' is not available: {FLICKR_REASON}"
    assert not flickr.isEnabled() and not flickr.isChecked()
    assert dialog.isVisible() and dialog.create_button.isEnabled()

    qtbot.mouseClick(dialog.create_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    job = dialog.job
    assert job.engines == [e["name"] for e in listed if e["name"] in ("bing", "duckduckgo", gap)]
    assert job.filters == Filters(min_width=640, min_height=480, license=licence, color="grayscale")


def test_chunk_warnings_and_provenance_in_the_models():
    model = ChunkGridModel()
    model.set_shape(["cat"], ["bing", "google"])
    warned = chunk(1, "cat", "bing", "completed", downloaded=10).model_copy(
        update={"warnings": [SAMPLE_WARNING]}
    )
    model.set_chunks([warned, chunk(2, "cat", "google", "completed", downloaded=10)])
    assert model.index(0, 0).data(roles.WARNINGS) == [SAMPLE_WARNING]
    assert model.index(0, 1).data(roles.WARNINGS) == []
    assert f"Warnings:\n• {SAMPLE_WARNING}" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)

    credited = image(1, "heron").model_copy(
        update={
            "page_url": "https://commons.example.org/File:Heron.jpg",
            "query": "grey heron",
            "license": "CC BY-SA 4.0",
            "license_url": "https://creativecommons.org/licenses/by-sa/4.0/",
            "creator": "Ann <Photographer>",
            "attribution": '"Heron" by Ann, CC BY-SA 4.0',
        }
    )
    text = details_html(credited)
    assert (
        'Licence: <a href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>'
    ) in text
    assert 'Page: <a href="https://commons.example.org/File:Heron.jpg">' in text
    assert "Creator: Ann &lt;Photographer&gt;" in text
    assert "Attribution: &quot;Heron&quot; by Ann, CC BY-SA 4.0" in text
    assert "Searched for: grey heron" in text
    assert "Licence: CC BY-SA 4.0 · by Ann <Photographer>" in image_tooltip(credited)
    hostile = image(2, "heron").model_copy(
        update={
            "page_url": "javascript:alert(1)",
            "license_url": "file:///etc/passwd",
            "license": "free",
        }
    )
    text = details_html(hostile)
    assert "Page: javascript:alert(1)<br>" in text and "Licence: free<br>" in text
    assert '<a href="javascript' not in text and '<a href="file' not in text
    assert "Licence: not stated by the source" in details_html(image(3, "heron"))


def test_split_spec_from_percentages():
    assert split_spec([("train", 80), ("val", 10), ("test", 10)]) == "train:0.8,val:0.1,test:0.1"
    assert split_spec([("train", 90), ("val", 10), ("test", 0)]) == "train:0.9,val:0.1"
    assert split_spec([("train", 0)]) is None


@pytest.fixture
def offline_dialog(qtbot):
    """An Export dialog whose server cannot be reached: its lookups fail, nothing else."""
    runner = TaskRunner(1)
    client = PixCrawlerClient(f"http://127.0.0.1:{free_port()}", token_store=MemoryTokenStore())
    dialog = ExportDialog(
        client, runner, factories.job(3, "herons", "completed", downloaded=4), folder_allowed=True
    )
    qtbot.addWidget(dialog)
    yield dialog, runner
    runner.shutdown(1000)
    client.close()


def test_export_refusals_land_beside_their_setting(qtbot, offline_dialog):
    dialog, runner = offline_dialog
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=WAIT_MS)  # the validation lookup
    assert not dialog.valid_radio.isEnabled()
    dialog.folder_radio.setChecked(True)
    dialog._failed(
        ForbiddenError(
            403,
            "Export to a folder is only available on this computer's own server (embedded mode)",
        )
    )
    assert dialog.zip_radio.isChecked() and not dialog.folder_radio.isEnabled()
    assert "Export a zip file instead" in dialog.errors.messages()["path"]
    dialog.errors.clear()
    dialog._failed(FileNotFoundError(2, "No such file or directory"))
    assert dialog.errors.messages() == {"path": "Cannot write there: No such file or directory"}
    dialog.errors.clear()
    dialog._failed(ApiError(422, "split fractions must add up to 1, they add up to 1.2"))
    assert set(dialog.errors.messages()) == {"split"}
    dialog.errors.clear()
    dialog._failed(ApiError(400, columnar.MISSING))
    assert dialog.errors.messages() == {"format": columnar.MISSING}


def test_formats_the_server_cannot_write_are_greyed_with_the_reason(qtbot, offline_dialog):
    dialog, runner = offline_dialog
    dialog.show()
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=WAIT_MS)  # lookups fail: all offered
    combo = dialog.format_combo
    assert [combo.itemData(i) for i in range(combo.count())] == list(EXPORT_FORMATS)
    assert not dialog.shard_row.isVisible() and dialog.shard_mb() is None
    combo.setCurrentIndex(combo.findData("webdataset"))
    assert dialog.shard_row.isVisible() and dialog.shard_mb() == 1000
    type_into(qtbot, dialog.shard_spin.lineEdit(), "250")
    assert dialog.shard_mb() == 250

    combo.setCurrentIndex(combo.findData("parquet"))
    dialog._formats_known([ExportFormat(name="imagefolder"),
                           ExportFormat(name="parquet", available=False,
                                        detail=columnar.MISSING)])
    parquet = combo.findData("parquet")
    assert not combo.model().item(parquet).isEnabled()
    assert combo.currentData() == "imagefolder"  # moved off what cannot be written
    assert dialog.format_note.isVisible() and "pip install" in dialog.format_note.text()
    assert combo.itemData(parquet, Qt.ItemDataRole.ToolTipRole) == columnar.MISSING
    assert combo.model().item(combo.findData("webdataset")).isEnabled()


@pytest.mark.slow
def test_warnings_in_the_grid_then_export_as_zip_and_folder(
    qtbot, live, users, make_controller, tmp_path, artifacts
):
    user = users(live)
    engine, licence, warning = licence_gap(user.client.get("/engines").json())
    created = user.client.post(
        "/jobs",
        json={
            "name": "Export herons",
            "keywords": ["export heron"],
            "engines": [engine],
            "max_images": 4,
            "filters": {"license": licence},
        },
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert user.client.post(f"/jobs/{job['id']}/start").status_code == 200
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    qtbot.waitUntil(
        lambda: window.job_view.job is not None and window.job_view.job.status == "completed",
        timeout=CRAWL_MS,
    )

    # -- the chunk's warning: a sign on the cell, the text in its tooltip and below ---------
    cell = window.job_view.chunk_model.index(0, 0)
    qtbot.waitUntil(lambda: warning in (cell.data(roles.WARNINGS) or []), timeout=WAIT_MS)
    assert warning in cell.data(Qt.ItemDataRole.ToolTipRole)
    label = window.job_view.warnings_label
    assert label.isVisibleTo(window) and f"Warning: {warning}" in label.text()
    QApplication.processEvents()
    window.grab().save(str(artifacts / "jobview-warnings.png"))

    # -- export a zip with a split: "valid only" is not offered before validation -----------
    qtbot.waitUntil(lambda: "export" in window.actions.enabled(), timeout=WAIT_MS)
    click_action(qtbot, window, "export")
    dialog = window.dialog
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: "not been validated" in dialog.valid_radio.toolTip(), timeout=WAIT_MS)
    assert not dialog.valid_radio.isEnabled() and dialog.folder_radio.isEnabled()
    set_checked(qtbot, dialog.split_check, True)
    type_into(qtbot, dialog.split_spins["train"].lineEdit(), "70")
    qtbot.mouseClick(dialog.export_button, LEFT)
    assert dialog.errors.messages() == {"split": "The splits add up to 90 %, not 100 %."}
    type_into(qtbot, dialog.split_spins["test"].lineEdit(), "20")
    out = tmp_path / "exports"
    out.mkdir()
    zip_path = out / "herons.zip"
    type_into(qtbot, dialog.zip_edit, str(zip_path))
    QApplication.processEvents()
    dialog.grab().save(str(artifacts / "export.png"))
    qtbot.mouseClick(dialog.export_button, LEFT)
    text = wait_status(qtbot, window, "Exported “Export herons” to")
    assert text.endswith(str(zip_path)) and not dialog.isVisible()
    names = zipfile.ZipFile(zip_path).namelist()
    images = [n for n in names if n.split("/")[1:2] == ["export-heron"]]
    assert len(images) == 4 and {n.split("/")[0] for n in images} <= {"train", "val", "test"}
    assert [p.name for p in out.iterdir()] == ["herons.zip"]  # no temporary file left

    # -- a folder, written by this computer's (embedded) server; a taken one is refused ----
    folder = out / "herons"
    for attempt in range(2):
        click_action(qtbot, window, "export")
        dialog = window.dialog
        set_checked(qtbot, dialog.folder_radio, True)
        type_into(qtbot, dialog.folder_edit, str(folder))
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("huggingface"))
        qtbot.mouseClick(dialog.export_button, LEFT)
        if attempt == 0:
            wait_status(qtbot, window, "Exported 4 images of “Export herons”", str(folder))
            assert len((folder / "metadata.jsonl").read_text().splitlines()) == 4
            assert (folder / "README.md").read_text().startswith("---\nconfigs:\n")
    error = dialog.errors.fields["path"].error
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog), timeout=WAIT_MS)
    assert error.text() == f"Folder {folder} is not empty"
    assert dialog.isVisible() and dialog.export_button.isEnabled()
    assert len(list((folder / "export-heron").iterdir())) == 4
    dialog.reject()

    # -- webdataset shards of a chosen size; Parquet is offered where pyarrow is ------------
    click_action(qtbot, window, "export")
    dialog = window.dialog
    combo = dialog.format_combo
    qtbot.waitUntil(lambda: dialog.formats is not None, timeout=WAIT_MS)
    assert combo.model().item(combo.findData("parquet")).isEnabled()
    combo.setCurrentIndex(combo.findData("webdataset"))
    type_into(qtbot, dialog.shard_spin.lineEdit(), "5")
    shards_zip = out / "shards.zip"
    type_into(qtbot, dialog.zip_edit, str(shards_zip))
    qtbot.mouseClick(dialog.export_button, LEFT)
    wait_status(qtbot, window, "Exported “Export herons” to")
    with zipfile.ZipFile(shards_zip) as archive:
        shards = [n for n in archive.namelist() if n.endswith(".tar")]
        assert shards == ["export-herons-000000.tar"]
        rows = archive.read("manifest.jsonl").decode().splitlines()
    assert len(rows) == 4 and all('"file": "export-herons-000000.tar/' in r for r in rows)

    # -- Cancel: a download in flight stops at its next block -------------------------------
    click_action(qtbot, window, "export")
    dialog = window.dialog

    # -- Cancel: a download in flight stops at its next block -------------------------------
    report = dialog._reporter()
    dialog.reject()
    with pytest.raises(ExportCancelled):
        report(1024)
    assert not dialog.isVisible()
