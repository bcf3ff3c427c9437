"""The full-size image, with what is known about it: source and page, licence, creator and
attribution (what a dataset must credit), size, validation outcome.

The picture is downloaded and decoded in the background; the dialog opens at once with a
"Loading…" line so a large image never freezes the window.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.models import Image
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.errors import describe
from pixcrawler_desktop.ui.gallery_model import duplicate_reason
from pixcrawler_desktop.ui.theme import themed_icon
from pixcrawler_desktop.ui.thumbnails import decode

ShowInFolder = Callable[[Path], object]


def link(url: str | None, text: str | None = None) -> str:
    """An http(s) link, or plain text: a `file:` or script URL sent by a web page must not
    become something the user can click open on this computer."""
    if not url:
        return html.escape(text or "")
    label = html.escape(text or url)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return label
    return f'<a href="{html.escape(url, quote=True)}">{label}</a>'


def details_html(image: Image) -> str:
    size = f"{image.width}×{image.height}" if image.width and image.height else "unknown size"
    lines = [
        f"<b>{html.escape(image.title or image.keyword)}</b>",
        f"{html.escape(image.keyword)} · {html.escape(image.engine)} result #{image.rank} · "
        f"{image.format.upper()} {size} · {image.bytes / 1024:.0f} KB",
    ]
    if image.query and image.query != image.keyword:
        lines.append(f"Searched for: {html.escape(image.query)}")
    lines.append(f"Source: {link(image.source_url)}")
    if image.page_url:
        lines.append(f"Page: {link(image.page_url)}")
    licence = image.license or image.license_url
    lines.append(f"Licence: {link(image.license_url, image.license)}" if licence
                 else "Licence: not stated by the source")
    if image.creator:
        lines.append(f"Creator: {html.escape(image.creator)}")
    if image.attribution:
        lines.append(f"Attribution: {html.escape(image.attribution)}")
    lines.append(f"Validation: {html.escape(image.validation_status)}"
                 + (f" ({html.escape(image.validation_level)})" if image.validation_level
                    else ""))
    if image.validation_issues:
        lines.append("Issues: " + html.escape(", ".join(image.validation_issues)))
    reason = duplicate_reason(image.validation_metrics)
    if reason:
        lines.append(html.escape(reason))
    return "<br>".join(lines)


class ImageDialog(QDialog):
    def __init__(self, client: PixCrawlerClient, runner, image: Image,
                 local_path: Path | None, show_folder: ShowInFolder,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = image
        self.local_path = local_path
        self._pixmap: QPixmap | None = None
        self.setWindowTitle(f"PixCrawler — {image.keyword} #{image.rank}")
        self.setWindowIcon(resources.app_icon())
        self.resize(820, 680)

        self.picture = QLabel("Loading…", objectName="picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(200, 150)
        self.details = QLabel(details_html(image), objectName="details")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setOpenExternalLinks(True)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.folder_button = QPushButton("Show in folder", objectName="show_in_folder")
        self.folder_button.setIcon(themed_icon("folder"))
        self.folder_button.setEnabled(local_path is not None)
        self.folder_button.setToolTip(
            str(local_path) if local_path else "Only for images of a server on this computer")
        if local_path is not None:
            self.folder_button.clicked.connect(lambda: show_folder(local_path))
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.details)
        layout.addWidget(buttons)

        runner.run(lambda: decode(client.image_bytes(image.id))[0], self._loaded, self._failed,
                   owner=self)

    def _loaded(self, image: QImage) -> None:
        self._pixmap = QPixmap.fromImage(image)
        self._fit()

    def _failed(self, exc: BaseException) -> None:
        self.picture.setText(f"Could not load the image: {describe(exc)}")

    def _fit(self) -> None:
        """Shrink to the window, never enlarge: an upscaled small image only looks blurry."""
        if self._pixmap is None:
            return
        room = self.picture.size()
        if self._pixmap.width() <= room.width() and self._pixmap.height() <= room.height():
            self.picture.setPixmap(self._pixmap)
            return
        self.picture.setPixmap(self._pixmap.scaled(
            room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    @property
    def loaded(self) -> bool:
        return self._pixmap is not None
