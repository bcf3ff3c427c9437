"""Gallery thumbnails: fetched, decoded and scaled off the UI thread, cached on disk by sha256.

The disk cache is keyed by the image's sha256 (not its id), so the same picture in two jobs,
or in a job recreated on another server, is fetched once. Decoding and shrinking happen on
worker threads with Pillow (see `decode`); only the final QPixmap is made on the UI thread.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import platformdirs
from PIL import Image as PilImage
from PIL import ImageOps
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.models import Image
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.tasks import TaskRunner

THUMB_SIZE = 144
MEMORY_ITEMS = 800


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("PixCrawler", appauthor=False)) / "thumbnails"


class ThumbnailCache:
    """PNG thumbnails under `root/<sha256[:2]>/<sha256>-<size>.png`, written atomically."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()

    def path(self, sha256: str, size: int) -> Path:
        return self.root / sha256[:2] / f"{sha256}-{size}.png"

    def load(self, sha256: str, size: int) -> QImage | None:
        path = self.path(sha256, size)
        try:
            with PilImage.open(path) as pil:
                return to_qimage(pil)
        except (OSError, ValueError):  # missing, or half-written by a crash: make it again
            return None

    def store(self, sha256: str, size: int, picture: PilImage.Image) -> None:
        path = self.path(sha256, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                picture.save(out, "PNG")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


PIL_ERRORS = (OSError, ValueError, SyntaxError, PilImage.DecompressionBombError)


def to_qimage(picture: PilImage.Image) -> QImage:
    """A QImage owning a copy of the pixels (the Pillow buffer goes away with `picture`)."""
    rgba = picture.convert("RGBA")
    image = QImage(rgba.tobytes(), rgba.width, rgba.height, rgba.width * 4,
                   QImage.Format.Format_RGBA8888)
    return image.copy()


def decode(data: bytes, box: int | None = None) -> tuple[QImage, PilImage.Image | None]:
    """The picture in `data`, shrunk to fit `box`×`box` if given, plus the Pillow image it
    came from (None if Qt had to decode it).

    Pillow first: it releases the GIL while decoding and can decode a JPEG at 1/8 scale for
    a thumbnail, where QImage holds the GIL for the whole full-size decode (80 ms for a 6 MP
    photo, which would freeze the UI thread meanwhile). Qt is the fallback for formats
    Pillow lacks.
    """
    try:
        with PilImage.open(io.BytesIO(data)) as opened:
            if box is not None:
                opened.thumbnail((box, box))  # before anything loads it: lets draft() work
            picture = ImageOps.exif_transpose(opened)  # photos taken sideways
            return to_qimage(picture), picture
    except PIL_ERRORS:
        image = QImage.fromData(data)
        if image.isNull():
            raise ValueError("not a picture this app can show") from None
        if box is not None:
            image = image.scaled(box, box, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        return image, None


def make_thumbnail(client: PixCrawlerClient, cache: ThumbnailCache, image: Image,
                   size: int) -> QImage:
    """Runs on a worker thread: disk cache, else download + decode + shrink + store."""
    cached = cache.load(image.sha256, size)
    if cached is not None:
        return cached
    thumb, picture = decode(client.image_bytes(image.id), size)
    if picture is not None:
        cache.store(image.sha256, size, picture)
    return thumb


class ThumbnailLoader(QObject):
    """Gives the gallery model a pixmap or None (and fetches it); says `ready(id)` later."""

    ready = Signal(int)
    failed = Signal(int, str)

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner,
                 cache: ThumbnailCache | None = None, size: int = THUMB_SIZE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.cache = cache or ThumbnailCache()
        self.size = size
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._loading: set[int] = set()
        self._broken: set[int] = set()
        self._wanted: list[Image] = []
        self._placeholder: QPixmap | None = None

    def get(self, image: Image) -> QPixmap | None:
        pixmap = self._pixmaps.get(image.id)
        if pixmap is not None:
            self._pixmaps.move_to_end(image.id)
            return pixmap
        if image.id not in self._loading and image.id not in self._broken:
            self._loading.add(image.id)
            self._wanted.append(image)
            if len(self._wanted) == 1:  # start them after the paint that asked for them
                QTimer.singleShot(0, self, self._fetch_wanted)
        return None

    def _fetch_wanted(self) -> None:
        wanted, self._wanted = self._wanted, []
        client, cache, size = self.client, self.cache, self.size
        for image in wanted:
            if image.id not in self._loading:
                continue  # reset() meanwhile
            self.runner.run(lambda image=image: make_thumbnail(client, cache, image, size),
                            lambda result, i=image.id: self._loaded(i, result),
                            lambda exc, i=image.id: self._failed(i, exc), owner=self)

    def placeholder(self) -> QPixmap:
        if self._placeholder is None:
            self._placeholder = _placeholder(self.size)
        return self._placeholder

    def loaded_count(self) -> int:
        return len(self._pixmaps)

    def reset(self, client: PixCrawlerClient | None = None) -> None:
        """Forget in-flight requests (their results are dropped), e.g. on a job switch."""
        self.runner.cancel_owned_by(self)
        self._wanted.clear()
        self._loading.clear()
        self._broken.clear()
        if client is not None:
            self.client = client

    def _loaded(self, image_id: int, image: QImage) -> None:
        self._loading.discard(image_id)
        self._pixmaps[image_id] = QPixmap.fromImage(image)
        while len(self._pixmaps) > MEMORY_ITEMS:
            self._pixmaps.popitem(last=False)
        self.ready.emit(image_id)

    def _failed(self, image_id: int, exc: BaseException) -> None:
        self._loading.discard(image_id)
        self._broken.add(image_id)  # not retried while shown; a refresh clears this
        self.failed.emit(image_id, str(exc))


def _placeholder(size: int) -> QPixmap:
    """A neutral frame with the image icon, shown until the thumbnail arrives."""
    pixmap = QPixmap(size, size * 3 // 4)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(128, 128, 128, 40))
    painter.drawRoundedRect(pixmap.rect().adjusted(2, 2, -2, -2), 8, 8)
    glyph = resources.icon("image", "#8a8f98").pixmap(40, 40)
    painter.drawPixmap((pixmap.width() - 40) // 2, (pixmap.height() - 40) // 2, glyph)
    painter.end()
    return pixmap
