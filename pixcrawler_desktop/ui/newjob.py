"""The New job dialog: name, keywords, engines, images per keyword, validation level and
search filters.

Keywords are cleaned the way the server cleans them (blank lines dropped, repeats removed
ignoring case, first spelling kept) and the count shown live, so what the user sees is
what the job will contain. The dialog creates the job itself and stays open on errors,
with the server's 422 field errors put beside their inputs, and an engine the server refuses
(400 "not available") marked as such in the engine list.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.errors import ApiError
from pixcrawler_desktop.client.models import VALIDATION_LEVELS, Engine, Job
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.engine_picker import EnginePicker
from pixcrawler_desktop.ui.errors import describe
from pixcrawler_desktop.ui.filters_box import FiltersBox
from pixcrawler_desktop.ui.forms import Field, FieldErrors, role_label
from pixcrawler_desktop.ui.tasks import TaskRunner

MAX_KEYWORDS = 100
MAX_IMAGES = 10000
DEFAULT_IMAGES = 50
UNAVAILABLE = re.compile(r"Engine '(?P<name>[^']+)' is not available: (?P<reason>.+)")


def clean_keywords(text: str) -> list[str]:
    """One keyword per line; blanks dropped, repeats (ignoring case) removed, order kept."""
    seen: set[str] = set()
    keywords = []
    for line in text.splitlines():
        keyword = " ".join(line.split())
        if keyword and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            keywords.append(keyword)
    return keywords


class NewJobDialog(QDialog):
    """Accepted with `job` set to the created job."""

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.job: Job | None = None
        self.setWindowTitle("PixCrawler — New job")
        self.setWindowIcon(resources.app_icon())
        self.setMinimumWidth(560)
        self._build()
        self._load_engines()

    def _build(self) -> None:
        self.name_edit = QLineEdit(objectName="name")
        self.name_edit.setPlaceholderText("e.g. Pets for the classifier")
        self.keywords_edit = QPlainTextEdit(objectName="keywords")
        self.keywords_edit.setPlaceholderText("cat\ndog\nhamster")
        self.keywords_edit.setTabChangesFocus(True)
        self.keywords_edit.setMinimumHeight(90)
        self.keywords_edit.textChanged.connect(self._count_keywords)
        self.keyword_count = role_label("No keywords yet", "subtle", name="keyword_count")
        keywords_box = QWidget()
        column = QVBoxLayout(keywords_box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.keywords_edit)
        column.addWidget(self.keyword_count)

        self.engine_picker = EnginePicker()
        self.engine_picker.setObjectName("engines")
        self.filters_box = FiltersBox()
        self.filters_box.setObjectName("filters")
        self.filters_box.changed.connect(
            lambda: self.engine_picker.set_filters(self.filters_box.filters()))
        self.filters_box.expanded.connect(lambda _shown: self._fit())

        self.images_spin = QSpinBox(objectName="max_images")
        self.images_spin.setRange(1, MAX_IMAGES)
        self.images_spin.setValue(DEFAULT_IMAGES)
        self.images_spin.setSuffix(" per keyword")
        self.validate_combo = QComboBox(objectName="validate")
        self.validate_combo.addItem("Don't validate", None)
        for level in VALIDATION_LEVELS:
            self.validate_combo.addItem(f"{level.capitalize()} checks", level)
        self.robots_check = QCheckBox("Respect robots.txt", objectName="respect_robots")
        self.robots_check.setChecked(True)

        fields = [Field("name", self.name_edit), Field("keywords", keywords_box),
                  Field("engines", self.engine_picker), Field("max_images", self.images_spin),
                  Field("validate", self.validate_combo)]
        self.form_error = role_label(role="error", name="form_error")
        self.errors = FieldErrors(fields, self.form_error,
                                  aliases={"validate_level": "validate"})
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        labels = ("Name", "Keywords\n(one per line)", "Engines", "Images", "After the crawl")
        for label, field in zip(labels, fields, strict=True):
            form.addRow(label, field.container)
        form.addRow("", self.robots_check)
        form.addRow(self.filters_box)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create job",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setObjectName("create")
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

    def _fit(self) -> None:
        """Grow (or shrink) to the content once its layout has taken the change."""
        self.layout().activate()
        self.adjustSize()

    # -- engines --------------------------------------------------------------------------
    def _load_engines(self) -> None:
        self.runner.run(self.client.engines, self._engines_loaded, self._engines_failed,
                        owner=self)

    def _engines_loaded(self, engines: list[Engine]) -> None:
        self.engine_picker.set_engines(engines)
        self._fit()

    def _engines_failed(self, exc: BaseException) -> None:
        self.engine_picker.status.hide()
        self.errors.set("engines", f"Could not load the engines: {describe(exc)}")

    # -- submit ---------------------------------------------------------------------------
    def keywords(self) -> list[str]:
        return clean_keywords(self.keywords_edit.toPlainText())

    def engines(self) -> list[str]:
        return self.engine_picker.selected()

    @property
    def engine_checks(self) -> dict[str, QCheckBox]:
        return self.engine_picker.checks

    def _count_keywords(self) -> None:
        n = len(self.keywords())
        self.keyword_count.setText({0: "No keywords yet", 1: "1 keyword"}.get(
            n, f"{n} keywords") + (f" (at most {MAX_KEYWORDS})" if n > MAX_KEYWORDS else ""))

    def _check(self, name: str, keywords: list[str], engines: list[str]) -> bool:
        ok = True
        if not name:
            self.errors.set("name", "Give the job a name.")
            ok = False
        if not keywords:
            self.errors.set("keywords", "Enter at least one keyword.")
            ok = False
        elif len(keywords) > MAX_KEYWORDS:
            self.errors.set("keywords", f"A job takes at most {MAX_KEYWORDS} keywords; "
                                        f"this list has {len(keywords)}.")
            ok = False
        if not engines:
            self.errors.set("engines", "Pick at least one engine.")
            ok = False
        return ok

    def submit(self) -> None:
        if not self.create_button.isEnabled():
            return
        self.errors.clear()
        name, keywords, engines = self.name_edit.text().strip(), self.keywords(), self.engines()
        if not self._check(name, keywords, engines):
            return
        max_images = self.images_spin.value()
        level = self.validate_combo.currentData()
        robots = self.robots_check.isChecked()
        filters = self.filters_box.filters()
        client = self.client
        self._busy(True)
        self.runner.run(
            lambda: client.create_job(name, keywords, engines, max_images, validate=level,
                                      respect_robots=robots, filters=filters),
            self._created, self._failed, owner=self)

    def _created(self, job: Job) -> None:
        self._busy(False)
        self.job = job
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        refused = UNAVAILABLE.fullmatch(exc.detail) if isinstance(exc, ApiError) else None
        if refused:
            self.engine_picker.set_unavailable(refused["name"], refused["reason"])
            self.errors.set("engines", exc.detail)
        elif isinstance(exc, ApiError) and exc.field_errors:
            self.errors.show_api_error(exc, describe(exc))
        else:
            self.errors.set_general(describe(exc))

    def _busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.create_button.setText("Creating…" if busy else "Create job")

    def reject(self) -> None:
        self.runner.cancel_owned_by(self)
        super().reject()
