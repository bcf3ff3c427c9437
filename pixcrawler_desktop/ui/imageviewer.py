"""The full-size image, with what is known about it: source and page, licence, creator and
attribution (what a dataset must credit), size, validation outcome.

The picture is downloaded and decoded in the background; the dialog opens at once with a
"Loading…" line so a large image never freezes the window. ←/→ and Space step through the
gallery without closing it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap, QResizeEvent
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
Step = Callable[[int], Image | None]  # the image `delta` places on, or None past an end
Locate = Callable[[Image], Path | None]  # the image's file here; touches the disk


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
    """One image at a time; ←/→ (and Space for the next) step through the gallery's images
    in their order, through `step`, so the gallery's selection follows the viewer."""

    def __init__(self, client: PixCrawlerClient, runner, image: Image,
                 local_path: Path | None, show_folder: ShowInFolder,
                 parent: QWidget | None = None, *, step: Step | None = None,
                 locate: Locate | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.image = image
        self.local_path = local_path
        self.show_folder = show_folder
        self.step = step
        self.locate = locate
        self._pixmap: QPixmap | None = None
        self._generation = 0  # the image shown; results for one stepped past are dropped
        self.setWindowIcon(resources.app_icon())
        self.resize(820, 680)

        self.picture = QLabel("Loading…", objectName="picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumSize(200, 150)
        self.details = QLabel(objectName="details")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setOpenExternalLinks(True)
        self.details.setWordWrap(True)
        # by mouse only: a label selectable by keyboard would take the arrow keys
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.LinksAccessibleByMouse)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.previous_button = QPushButton("Previous", objectName="previous_image")
        self.previous_button.setToolTip("The previous image (←)")
        self.previous_button.clicked.connect(lambda: self.move(-1))
        self.next_button = QPushButton("Next", objectName="next_image")
        self.next_button.setToolTip("The next image (→ or Space)")
        self.next_button.clicked.connect(lambda: self.move(1))
        self.folder_button = QPushButton("Show in folder", objectName="show_in_folder")
        self.folder_button.setIcon(themed_icon("folder"))
        self.folder_button.clicked.connect(self._show_in_folder)
        for button in (self.previous_button, self.next_button):
            button.setVisible(step is not None)
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        for button in buttons.buttons():  # Space would press the focused button instead
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        if step is not None:
            keys = ((Qt.Key.Key_Left, -1), (Qt.Key.Key_Right, 1), (Qt.Key.Key_Space, 1))
            for key, delta in keys:
                action = QAction(self)
                action.setShortcut(QKeySequence(key))
                action.triggered.connect(lambda _checked=False, d=delta: self.move(d))
                self.addAction(action)

        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        self.show_image(image, local_path)

    def show_image(self, image: Image, local_path: Path | None = None) -> None:
        """Show `image`: its details at once, its picture when downloaded and decoded in the
        background, its file (for Show in folder) when found."""
        self._generation += 1
        generation = self._generation
        self.runner.cancel_owned_by(self)
        self.image, self.local_path, self._pixmap = image, local_path, None
        self.setWindowTitle(f"PixCrawler — {image.keyword} #{image.rank}")
        self.details.setText(details_html(image))
        self.picture.setPixmap(QPixmap())
        self.picture.setText("Loading…")
        self._folder_state()
        client = self.client
        self.runner.run(lambda: decode(client.image_bytes(image.id))[0],
                        lambda picture: self._loaded(generation, picture),
                        lambda exc: self._failed(generation, exc), owner=self)
        if local_path is None and self.locate is not None:
            locate = self.locate
            self.runner.run(lambda: locate(image), lambda path: self._located(generation, path),
                            lambda _exc: None, owner=self)

    def move(self, delta: int) -> bool:
        """The image `delta` places on in the gallery; False at either end."""
        image = self.step(delta) if self.step is not None else None
        if image is None:
            return False
        self.show_image(image)
        return True

    def _folder_state(self) -> None:
        self.folder_button.setEnabled(self.local_path is not None)
        self.folder_button.setToolTip(str(self.local_path) if self.local_path
                                      else "Only for images of a server on this computer")

    def _show_in_folder(self) -> None:
        if self.local_path is not None:
            self.show_folder(self.local_path)

    def _located(self, generation: int, path: Path | None) -> None:
        if generation == self._generation:
            self.local_path = path
            self._folder_state()

    def _loaded(self, generation: int, image: QImage) -> None:
        if generation != self._generation:
            return
        self._pixmap = QPixmap.fromImage(image)
        self._fit()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
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

    def done(self, result: int) -> None:
        self.runner.cancel_owned_by(self)
        super().done(result)

    @property
    def loaded(self) -> bool:
        return self._pixmap is not None
