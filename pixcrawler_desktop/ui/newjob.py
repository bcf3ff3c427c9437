"""The New job dialog: name, keywords, engines, images per keyword, validation level and
search filters.

Keywords are cleaned the way the server cleans them (blank lines dropped, repeats removed
ignoring case, first spelling kept) and the count shown live, so what the user sees is
what the job will contain. The dialog creates the job itself and stays open on errors,
with the server's 422 field errors put beside their inputs, and an engine the server refuses
(400 "not available") marked as such in the engine list.

"Create and start" is the default: most jobs are meant to run now, and a second click on
Start was a step every job paid. The engines, the validation level and the count of the last
job created are offered again (AppSettings), and a count out of range is refused beside the
box as it is typed, never silently replaced by the previous value.
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
from pixcrawler_desktop.client.models import (
    DEFAULT_MAX_IMAGES,
    MAX_IMAGES,
    VALIDATION_LEVELS,
    Engine,
    Job,
    StartResult,
)
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.engine_picker import EnginePicker
from pixcrawler_desktop.ui.errors import describe
from pixcrawler_desktop.ui.filters_box import FiltersBox
from pixcrawler_desktop.ui.forms import Field, FieldErrors, role_label
from pixcrawler_desktop.ui.settings import AppSettings
from pixcrawler_desktop.ui.tasks import TaskRunner

MAX_KEYWORDS = 100
# The box takes any number of digits, so that a count out of range can be typed and refused
# with its reason; a range of 1..MAX_IMAGES would have turned 0 back into the previous value.
TYPABLE_MAX = 9_999_999
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


def count_problem(count: int) -> str:
    """Why a count of images per keyword is refused, or "" when it is fine."""
    if count < 1:
        return f"At least 1 image per keyword; {count} would crawl nothing."
    if count > MAX_IMAGES:
        return f"At most {MAX_IMAGES:,} images per keyword; {count:,} is too many."
    return ""


class NewJobDialog(QDialog):
    """Accepted with `job` set to the created job; `started` holds the server's answer to
    Start when the job was created and started, `start_error` why Start was refused."""

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.settings = settings
        self.job: Job | None = None
        self.started: StartResult | None = None
        self.start_error: BaseException | None = None
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
        self.images_spin.setRange(0, TYPABLE_MAX)
        remembered = self.settings.new_job_count if self.settings is not None else None
        self.images_spin.setValue(remembered if remembered and not count_problem(remembered)
                                  else DEFAULT_MAX_IMAGES)
        self.images_spin.setSuffix(" per keyword")
        self.images_spin.setToolTip(f"1 to {MAX_IMAGES:,} images per keyword")
        self.images_spin.valueChanged.connect(self._check_count)
        self.validate_combo = QComboBox(objectName="validate")
        self.validate_combo.addItem("Don't validate", None)
        for level in VALIDATION_LEVELS:
            self.validate_combo.addItem(f"{level.capitalize()} checks", level)
        level = self.settings.new_job_level if self.settings is not None else None
        if level is not None:
            self.validate_combo.setCurrentIndex(max(0, self.validate_combo.findData(level or None)))
        self.robots_check = QCheckBox("Respect robots.txt", objectName="respect_robots")
        self.robots_check.setChecked(True)
        self.fill_check = QCheckBox("Top up from the other engines", objectName="fill")
        self.fill_check.setChecked(True)
        self.fill_check.setToolTip(
            "When an engine runs short of its share of a keyword's images, the keyword's "
            "other engines make up the rest.")

        fields = [Field("name", self.name_edit), Field("keywords", keywords_box),
                  Field("engines", self.engine_picker), Field("max_images", self.images_spin),
                  Field("validate", self.validate_combo)]
        self.engines_field = fields[2]
        self.form_error = role_label(role="error", name="form_error")
        self.errors = FieldErrors(fields, self.form_error,
                                  aliases={"validate_level": "validate"})
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        labels = ("Name", "Keywords\n(one per line)", "Engines", "Images", "After the crawl")
        for label, field in zip(labels, fields, strict=True):
            form.addRow(label, field.container)
        form.addRow("", self.robots_check)
        form.addRow("", self.fill_check)
        form.addRow(self.filters_box)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create only",
                                                    QDialogButtonBox.ButtonRole.ActionRole)
        self.create_button.setObjectName("create")
        self.create_button.setToolTip("Create the job and leave it pending, to start later")
        self.create_button.setAutoDefault(False)
        self.create_button.clicked.connect(lambda: self.submit(start=False))
        self.start_button = self.buttons.addButton("Create and start",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.start_button.setObjectName("create_and_start")
        self.start_button.setDefault(True)
        self.buttons.accepted.connect(lambda: self.submit(start=True))
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.addLayout(form)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)

    def _fit(self) -> None:
        """Grow (or shrink) to the content once its layout has taken the change. Not
        adjustSize(): it stops at two thirds of the screen, and below its size hint the form
        squeezed the engine list until the last engine was cut off."""
        self.layout().activate()
        hint = self.sizeHint()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        height = min(hint.height(), screen.height()) if screen is not None else hint.height()
        self.resize(max(self.width(), hint.width()), max(height, self.minimumHeight()))

    # -- engines --------------------------------------------------------------------------
    def _load_engines(self) -> None:
        self.runner.run(self.client.engines, self._engines_loaded, self._engines_failed,
                        owner=self)

    def _engines_loaded(self, engines: list[Engine]) -> None:
        wanted = self.settings.new_job_engines if self.settings is not None else None
        self.engine_picker.set_engines(engines, wanted)
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

    def _check_count(self, count: int) -> bool:
        """Refuse a count out of range where it is typed, saying why."""
        problem = count_problem(count)
        self.errors.set("max_images", problem)
        return not problem

    def _check(self, name: str, keywords: list[str], engines: list[str]) -> bool:
        ok = self._check_count(self.images_spin.value())
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

    def submit(self, start: bool = True) -> None:
        """Create the job, and with `start` start it in the same background call: the job
        exists either way, so a refused Start is reported but never loses the job."""
        if not self.start_button.isEnabled():
            return
        self.errors.clear()
        name, keywords, engines = self.name_edit.text().strip(), self.keywords(), self.engines()
        if not self._check(name, keywords, engines):
            return
        max_images = self.images_spin.value()
        level = self.validate_combo.currentData()
        robots, fill = self.robots_check.isChecked(), self.fill_check.isChecked()
        filters = self.filters_box.filters()
        client = self.client

        def create() -> tuple[Job, StartResult | BaseException | None]:
            job = client.create_job(name, keywords, engines, max_images, validate=level,
                                    respect_robots=robots, filters=filters, fill=fill)
            if not start:
                return job, None
            try:
                return job, client.start(job.id)
            except Exception as exc:  # the job exists: keep it, and say why Start was refused
                return job, exc

        self._busy(True, start)
        self.runner.run(create, self._created, self._failed, owner=self)

    def _remember(self) -> None:
        if self.settings is None:
            return
        self.settings.new_job_engines = self.engines()
        self.settings.new_job_level = self.validate_combo.currentData()
        self.settings.new_job_count = self.images_spin.value()
        self.settings.sync()

    def _created(self, result: tuple[Job, StartResult | BaseException | None]) -> None:
        job, started = result
        self._busy(False)
        self.job = job
        if isinstance(started, BaseException):
            self.start_error = started
        else:
            self.started = started
        self._remember()
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

    def _busy(self, busy: bool, start: bool = True) -> None:
        self.create_button.setEnabled(not busy)
        self.start_button.setEnabled(not busy)
        self.start_button.setText("Starting…" if busy and start else "Create and start")
        self.create_button.setText("Creating…" if busy and not start else "Create only")

    def reject(self) -> None:
        self.runner.cancel_owned_by(self)
        super().reject()
