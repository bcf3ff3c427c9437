"""The New job dialog's Filters section: collapsed to a one-line summary until opened.

Most jobs need no filters beyond safe search (on by default), so the section stays out of the
way; the summary beside its title says what is set, so nothing hides behind the fold.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.models import COLORS, IMAGE_TYPES, LICENSES, Filters
from pixcrawler_desktop.ui.forms import role_label

MAX_SIDE = 100_000
FILTER_LABELS = {
    "safe_search": "safe search",
    "license": "licence",
    "image_type": "image type",
    "color": "colour",
}
LICENSE_LABELS = {
    "any": "Any licence",
    "commercial": "Commercial use allowed",
    "modify": "Modification allowed",
    "commercial_modify": "Commercial use and modification allowed",
    "public_domain": "Public domain",
}
TYPE_LABELS = {
    "any": "Any type",
    "photo": "Photo",
    "clipart": "Clip art",
    "lineart": "Line drawing",
    "animated": "Animated",
    "transparent": "Transparent background",
}
COLOR_LABELS = {"any": "Any colour", "color": "Full colour", "grayscale": "Black and white"}


def _combo(name: str, values: tuple[str, ...], labels: dict[str, str]) -> QComboBox:
    combo = QComboBox(objectName=name)
    for value in values:
        combo.addItem(labels.get(value, value.capitalize()), value)
    return combo


def _side(name: str) -> QSpinBox:
    spin = QSpinBox(objectName=name)
    spin.setRange(0, MAX_SIDE)
    spin.setSingleStep(100)
    spin.setSuffix(" px")
    spin.setSpecialValueText("any")
    return spin


def summary(filters: Filters) -> str:
    """`safe search on · at least 640×480 px · licence: public domain`."""
    parts = [f"safe search {'on' if filters.safe_search else 'off'}"]
    if filters.min_width or filters.min_height:
        parts.append(f"at least {filters.min_width}×{filters.min_height} px")
    for name, labels in (
        ("license", LICENSE_LABELS),
        ("image_type", TYPE_LABELS),
        ("color", COLOR_LABELS),
    ):
        value = getattr(filters, name)
        if value != "any":
            parts.append(f"{FILTER_LABELS[name]}: {labels.get(value, value).lower()}")
    return " · ".join(parts)


class FiltersBox(QWidget):
    changed = Signal()
    expanded = Signal(bool)  # the dialog resizes to fit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = QToolButton(objectName="filters_toggle", text="Filters")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self.set_expanded)
        self.summary = role_label("", "subtle", name="filters_summary")
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.toggle)
        header.addWidget(self.summary, 1)

        self.safe_check = QCheckBox(
            "Ask the engines to leave out explicit images", objectName="safe_search"
        )
        self.safe_check.setChecked(True)
        self.width_spin, self.height_spin = _side("min_width"), _side("min_height")
        size = QHBoxLayout()
        size.addWidget(self.width_spin)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_spin)
        size.addStretch(1)
        self.license_combo = _combo("license", LICENSES, LICENSE_LABELS)
        self.type_combo = _combo("image_type", IMAGE_TYPES, TYPE_LABELS)
        self.color_combo = _combo("color", COLORS, COLOR_LABELS)
        self.body = QWidget(objectName="filters_body")
        form = QFormLayout(self.body)
        form.setContentsMargins(22, 2, 0, 0)
        form.addRow("Safe search", self.safe_check)
        form.addRow("Minimum size", size)
        form.addRow("Licence", self.license_combo)
        form.addRow("Image type", self.type_combo)
        form.addRow("Colour", self.color_combo)
        self.body.setToolTip(
            "Every engine skips images below the minimum size. An engine "
            "that cannot apply another filter says so beside its name, and "
            "its results are not filtered by it."
        )
        self.toggle.setToolTip(self.body.toolTip())
        self.body.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.body)
        self.safe_check.toggled.connect(self._changed)
        for spin in (self.width_spin, self.height_spin):
            spin.valueChanged.connect(self._changed)
        for combo in (self.license_combo, self.type_combo, self.color_combo):
            combo.currentIndexChanged.connect(self._changed)
        self._changed()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.setChecked(expanded)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
        self.expanded.emit(expanded)

    def filters(self) -> Filters:
        return Filters(
            safe_search=self.safe_check.isChecked(),
            min_width=self.width_spin.value(),
            min_height=self.height_spin.value(),
            license=self.license_combo.currentData(),
            image_type=self.type_combo.currentData(),
            color=self.color_combo.currentData(),
        )

    def _changed(self) -> None:
        self.summary.setText(summary(self.filters()))
        self.changed.emit()
