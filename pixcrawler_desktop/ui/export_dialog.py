"""The Export dataset dialog: which images, an optional train/val/test split, and where to.

A zip is streamed from the server into a file that appears only once complete; on this
computer's server the server can instead write a folder itself, which needs no copy over HTTP.
The work runs off the UI thread with a progress bar; Cancel stops a download and removes its
partial file. The dialog stays open on errors, with the reason beside the setting it concerns.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.errors import ApiError, ForbiddenError
from pixcrawler_desktop.client.models import ExportFormat, ExportResult, Job, ValidationSummary
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.errors import describe
from pixcrawler_desktop.ui.forms import Field, FieldErrors, role_label
from pixcrawler_desktop.ui.tasks import TaskRunner

SPLITS = (("train", 80), ("val", 10), ("test", 10))
FORMAT_LABELS = {
    "imagefolder": "Image folders (torchvision ImageFolder, manifests)",
    "huggingface": "Hugging Face imagefolder (metadata.jsonl and a dataset card)",
    "webdataset": "WebDataset (tar shards per split)",
    "parquet": "Parquet (one file per split, images inside)",
}
SHARD_MB = 1000  # the server's default shard size
PROGRESS_EVERY = 0.1  # seconds between progress signals: the UI needs no more
NO_FOLDER = (
    "This server cannot write folders (it is not this computer's own server in "
    "embedded mode). Export a zip file instead."
)


class ExportCancelled(Exception):
    """Raised inside the download when the user cancels; the client then removes the file."""


class _Progress(QObject):
    """Carries bytes received from the download thread to the UI thread (queued signal)."""

    received = Signal(int)


def default_name(job: Job) -> str:
    slug = re.sub(r"[^\w-]+", "-", job.name).strip("-")[:60] or "job"
    return f"{slug}-{job.id}"


def split_spec(parts: list[tuple[str, int]]) -> str | None:
    """`train:0.8,val:0.1,test:0.1` from percentages, leaving out empty splits."""
    kept = [(name, percent) for name, percent in parts if percent > 0]
    return ",".join(f"{name}:{percent / 100:g}" for name, percent in kept) if kept else None


def size_text(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} KB"


class ExportDialog(QDialog):
    """Accepted once the dataset is written; `exported` carries the sentence to show."""

    exported = Signal(str)

    def __init__(
        self,
        client: PixCrawlerClient,
        runner: TaskRunner,
        job: Job,
        *,
        folder_allowed: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.job = job
        self.folder_allowed = folder_allowed
        self.running = False
        self.validated = False  # known to have a validation run: "valid only" is offered
        self.formats: list[ExportFormat] | None = None  # as the server reported them
        self._cancel = threading.Event()
        self._progress = _Progress(self)
        self._progress.received.connect(self._received)
        self.setWindowTitle(f"PixCrawler — Export “{job.name}”")
        self.setWindowIcon(resources.app_icon())
        self.setMinimumWidth(540)
        self._build()
        # The answer only decides whether "valid only" is offered; a failure leaves it off.
        runner.run(
            lambda: client.validation(job.id), self._validation_known, lambda _exc: None, owner=self
        )
        # Which formats this server can write; until it answers (or if it cannot), all are
        # offered and a refusal is shown beside the format.
        runner.run(client.export_formats, self._formats_known, lambda _exc: None, owner=self)

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        running = self.job.status in ("pending", "running")
        self.all_radio = QRadioButton(
            f"All {self.job.downloaded_images} images"
            + (" downloaded so far" if running else ""), objectName="include_all"
        )
        # A running job's export is a snapshot: said before the user chooses, not after.
        self.running_note = role_label(
            f"This job is still running: the export takes the {self.job.downloaded_images} "
            "images downloaded so far, not those still to come." if running else "",
            "caution", name="running_note")
        self.running_note.setVisible(running)
        self.valid_radio = QRadioButton(
            "Only images validation found valid", objectName="include_valid"
        )
        self.reviewed_radio = QRadioButton(
            "Only images you accepted in review", objectName="include_reviewed"
        )
        self.all_radio.setToolTip("Images you rejected in review are always left out")
        self.all_radio.setChecked(True)
        self.valid_radio.setEnabled(False)
        self.valid_radio.setToolTip("Checking whether the job was validated…")
        include = self._column(self.all_radio, self.valid_radio, self.reviewed_radio)
        self._group(self.all_radio, self.valid_radio, self.reviewed_radio)

        self.format_combo = QComboBox(objectName="export_format")
        for key, label in FORMAT_LABELS.items():
            self.format_combo.addItem(label, key)
        self.shard_spin = QSpinBox(objectName="shard_mb")
        self.shard_spin.setRange(1, 100_000)
        self.shard_spin.setValue(SHARD_MB)
        self.shard_spin.setSuffix(" MB")
        self.shard_spin.setPrefix("at most ")
        self.shard_spin.setToolTip("The most one tar shard holds; a shard closes before the "
                                   "image that would take it past this")
        self.shard_row = QWidget()
        shard_layout = QHBoxLayout(self.shard_row)
        shard_layout.setContentsMargins(22, 0, 0, 0)
        shard_layout.addWidget(role_label("Shards of", wrap=False))
        shard_layout.addWidget(self.shard_spin)
        shard_layout.addStretch(1)
        self.format_note = role_label("", "subtle", name="format_note")
        self.format_note.hide()
        format_box = self._column(self.format_combo, self.shard_row, self.format_note)

        self.split_check = QCheckBox("Split into folders by fraction", objectName="split")
        self.split_spins: dict[str, QSpinBox] = {}
        spins = QHBoxLayout()
        spins.setContentsMargins(22, 0, 0, 0)
        for name, percent in SPLITS:
            spin = QSpinBox(objectName=f"split_{name}")
            spin.setRange(0, 100)
            spin.setValue(percent)
            spin.setSuffix(" %")
            spin.setPrefix(f"{name} ")
            spin.setEnabled(False)
            spin.valueChanged.connect(lambda _v: self.errors.set("split", ""))
            self.split_spins[name] = spin
            spins.addWidget(spin)
        spins.addStretch(1)
        self.split_check.toggled.connect(self._split_toggled)
        split_box = QWidget()
        column = QVBoxLayout(split_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.split_check)
        column.addLayout(spins)
        column.addWidget(
            role_label(
                "An image's split follows from its content hash, so "
                "exporting again puts every image in the same split.",
                "subtle",
            )
        )

        where = QStandardPaths.StandardLocation
        downloads = QStandardPaths.writableLocation(where.DownloadLocation)
        documents = QStandardPaths.writableLocation(where.DocumentsLocation)
        base = default_name(self.job)
        self.zip_radio = QRadioButton("Zip file", objectName="to_zip")
        self.zip_edit = QLineEdit(
            str(Path(downloads or Path.home()) / f"{base}.zip"), objectName="zip_path"
        )
        self.folder_radio = QRadioButton("Folder", objectName="to_folder")
        self.folder_edit = QLineEdit(
            str(Path(documents or Path.home()) / base), objectName="folder_path"
        )
        self.zip_radio.setChecked(True)
        self._group(self.zip_radio, self.folder_radio)
        zip_row = self._row(self.zip_radio, self.zip_edit, self._browse_zip, "browse_zip")
        folder_row = self._row(
            self.folder_radio, self.folder_edit, self._browse_folder, "browse_folder"
        )
        if not self.folder_allowed:
            self.folder_radio.setEnabled(False)
            self.folder_edit.setEnabled(False)
            self.folder_radio.setToolTip("Only a server on this computer writes folders")
        self.zip_radio.toggled.connect(self._destination_changed)
        destination = self._column(
            zip_row,
            folder_row,
            role_label(
                "A folder must be new or empty. It is written "
                "by this computer's server, without a download.",
                "subtle",
            ),
        )
        self._destination_changed()

        fields = [Field("include", include), Field("format", format_box),
                  Field("split", split_box), Field("path", destination)]
        self.form_error = role_label(role="error", name="form_error")
        self.errors = FieldErrors(fields, self.form_error)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, field in zip(("Images", "Format", "Split", "Save to"), fields, strict=True):
            form.addRow(label, field.container)

        self.progress_bar = QProgressBar(objectName="export_progress")
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.progress_text = role_label("", "subtle", wrap=False, name="export_status")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setObjectName("export")
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.addWidget(self.running_note)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

    def _column(self, *widgets: QWidget) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        for widget in widgets:
            column.addWidget(widget)
        return box

    def _group(self, *buttons: QRadioButton) -> None:
        group = QButtonGroup(self)
        for button in buttons:
            group.addButton(button)

    def _row(
        self, radio: QRadioButton, edit: QLineEdit, browse: Callable[[], None], name: str
    ) -> QWidget:
        button = QPushButton("Browse…", objectName=name)
        button.clicked.connect(browse)
        edit.textEdited.connect(lambda _t: self.errors.set("path", ""))
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        radio.setMinimumWidth(80)
        row.addWidget(radio)
        row.addWidget(edit, 1)
        row.addWidget(button)
        return box

    # -- settings -------------------------------------------------------------------------
    def _validation_known(self, summary: ValidationSummary | None) -> None:
        if summary is None:
            self.valid_radio.setToolTip("This job has not been validated: validate it first")
            return
        self.validated = True
        self.valid_radio.setEnabled(not self.running)
        self.valid_radio.setText(
            f"Only the {summary.valid} images validation found valid ({summary.level} checks)"
        )
        self.valid_radio.setToolTip("")

    def _formats_known(self, formats: list[ExportFormat]) -> None:
        """Formats this server cannot write stay listed, greyed, with the reason below."""
        self.formats = formats
        model = self.format_combo.model()
        notes = []
        for known in formats:
            index = self.format_combo.findData(known.name)
            if index < 0 or known.available:
                continue
            model.item(index).setEnabled(False)  # type: ignore[attr-defined]
            self.format_combo.setItemData(index, known.detail, Qt.ItemDataRole.ToolTipRole)
            notes.append(known.detail or f"{known.name} is not available on this server")
            if self.format_combo.currentIndex() == index:
                self.format_combo.setCurrentIndex(0)
        self.format_note.setText("\n".join(notes))
        self.format_note.setVisible(bool(notes))

    def _format_changed(self) -> None:
        self.shard_row.setVisible(self.export_format() == "webdataset")
        self.errors.set("format", "")

    def _split_toggled(self, on: bool) -> None:
        for spin in self.split_spins.values():
            spin.setEnabled(on)

    def _destination_changed(self) -> None:
        to_zip = self.zip_radio.isChecked()
        self.zip_edit.setEnabled(to_zip)
        self.folder_edit.setEnabled(not to_zip and self.folder_allowed)

    def _browse_zip(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the dataset as", self.zip_edit.text(), "Zip files (*.zip)"
        )
        if path:
            self.zip_edit.setText(path)
            self.zip_radio.setChecked(True)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Export the dataset into", self.folder_edit.text()
        )
        if path:
            self.folder_edit.setText(path)
            self.folder_radio.setChecked(True)

    def include(self) -> str:
        if self.reviewed_radio.isChecked():
            return "reviewed"
        return "valid" if self.valid_radio.isChecked() else "all"

    def export_format(self) -> str:
        return self.format_combo.currentData()

    def shard_mb(self) -> int | None:
        return self.shard_spin.value() if self.export_format() == "webdataset" else None

    def split(self) -> str | None:
        if not self.split_check.isChecked():
            return None
        return split_spec([(name, spin.value()) for name, spin in self.split_spins.items()])

    def _check(self) -> Path | None:
        """The destination if the settings are usable; otherwise the errors are shown."""
        if self.split_check.isChecked():
            total = sum(spin.value() for spin in self.split_spins.values())
            if total != 100:
                self.errors.set("split", f"The splits add up to {total} %, not 100 %.")
                return None
        text = (self.zip_edit if self.zip_radio.isChecked() else self.folder_edit).text()
        path = Path(text.strip()).expanduser()
        if not text.strip() or not path.is_absolute():
            self.errors.set("path", "Give a full path, e.g. from Browse….")
            return None
        return path

    # -- running --------------------------------------------------------------------------
    def submit(self) -> None:
        if self.running:
            return
        self.errors.clear()
        dest = self._check()
        if dest is None:
            return
        client, job_id, include, split = self.client, self.job.id, self.include(), self.split()
        export_format, shard_mb = self.export_format(), self.shard_mb()
        self._cancel.clear()
        self._set_running(True)
        if self.zip_radio.isChecked():
            report = self._reporter()
            self.progress_text.setText("Waiting for the server…")
            self.runner.run(
                lambda: client.download_export(
                    job_id, dest, include=include, split=split, export_format=export_format,
                    shard_mb=shard_mb, progress=report,
                ),
                self._downloaded,
                self._failed,
                owner=self,
            )
        else:
            self.progress_text.setText("The server is writing the folder…")
            self.runner.run(
                lambda: client.export_to_folder(job_id, dest, include=include, split=split,
                                                export_format=export_format,
                                                shard_mb=shard_mb),
                self._written,
                self._failed,
                owner=self,
            )

    def _reporter(self) -> Callable[[int], None]:
        """The download's progress callback (runs on the download thread): throttled
        signals for the UI, and the place where a cancel takes effect."""
        cancel, signal = self._cancel, self._progress.received
        last = 0.0

        def report(received: int) -> None:
            nonlocal last
            if cancel.is_set():
                raise ExportCancelled
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY:
                last = now
                signal.emit(received)

        return report

    def _received(self, received: int) -> None:
        if self.running:
            self.progress_text.setText(f"{size_text(received)} received")

    def _downloaded(self, path: Path) -> None:
        self._set_running(False)
        self._finish(f"Exported “{self.job.name}” to {path}")

    def _written(self, result: ExportResult) -> None:
        self._set_running(False)
        message = (
            f"Exported {result.images} images of “{self.job.name}” "
            f"({size_text(result.bytes)}) to {result.path}"
        )
        if result.missing:
            message += f"; {result.missing} images had no file and were left out"
        self._finish(message)

    def _finish(self, message: str) -> None:
        self.exported.emit(message)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.progress_text.setText("")
        if isinstance(exc, ExportCancelled):
            return
        if isinstance(exc, ForbiddenError) and "embedded" in exc.detail:
            self.folder_allowed = False
            self.folder_radio.setEnabled(False)
            self.zip_radio.setChecked(True)
            self.errors.set("path", NO_FOLDER)
        elif isinstance(exc, OSError):
            self.errors.set("path", f"Cannot write there: {exc.strerror or exc}")
        elif isinstance(exc, ApiError) and (field := self._field_for(exc)):
            self.errors.set(field, exc.detail)
        else:
            self.errors.set_general(describe(exc))

    def _field_for(self, exc: ApiError) -> str | None:
        """Which setting a refusal is about: 400 never validated, 400 a format this server
        cannot write, 422 a bad split, 409 a taken folder or 400 one the server cannot
        write."""
        if exc.status == 400 and "validat" in exc.detail:
            return "include"
        if exc.status in (400, 422) and ("format" in exc.detail or "shard" in exc.detail):
            return "format"
        if exc.status == 422 and "split" in exc.detail:
            return "split"
        if exc.status == 409 or (exc.status == 400 and self.folder_radio.isChecked()):
            return "path"
        return None

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.progress_bar.setVisible(running)
        self.export_button.setEnabled(not running)
        self.export_button.setText("Exporting…" if running else "Export")
        for widget in (self.all_radio, self.reviewed_radio, self.format_combo, self.shard_spin,
                       self.split_check, self.zip_radio, self.zip_edit):
            widget.setEnabled(not running)
        self.valid_radio.setEnabled(not running and self.validated)
        self.folder_radio.setEnabled(not running and self.folder_allowed)
        for spin in self.split_spins.values():
            spin.setEnabled(not running and self.split_check.isChecked())
        if not running:
            self._destination_changed()
        else:
            self.folder_edit.setEnabled(False)

    def reject(self) -> None:
        """Cancel: a download stops at its next block and removes its file; a folder the
        server is writing cannot be stopped, so its result is only no longer waited for."""
        self._cancel.set()
        self.runner.cancel_owned_by(self)
        super().reject()
