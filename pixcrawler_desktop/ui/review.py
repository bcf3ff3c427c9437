"""Reviewing a job's images from the keyboard: accept or reject the current image, and the
next one comes; undo takes the last decision back.

Every decision shows at once and is saved on the server in the background; a failed save puts
the image back as it was and says why. The thumbnails of the next images are asked for ahead,
so moving on never waits on the network.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QListView

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.models import Image
from pixcrawler_desktop.ui import roles
from pixcrawler_desktop.ui.gallery_model import GalleryFilter, GalleryModel, Thumbnails
from pixcrawler_desktop.ui.tasks import TaskRunner

PREFETCH = 8  # thumbnails asked for beyond the current image
KEYS = (
    ("← →", "previous / next image"),
    ("P or A", "accept, then the next image"),
    ("X", "reject, then the next image"),
    ("U", "undo the last decision"),
    ("G", "show the image's duplicate group side by side (again: all images)"),
    ("K", "in a group: keep this image, reject the others"),
    ("?", "this list of keys"),
)


def group_of(image: Image, images: list[Image]) -> list[Image]:
    """The duplicate group validation put `image` in: its kept image first, then the
    duplicates of that image; just `image` when it has none."""
    keeper = image.validation_metrics.get("duplicate_of", image.id)
    members = [i for i in images
               if i.id == keeper or i.validation_metrics.get("duplicate_of") == keeper]
    members.sort(key=lambda i: i.id != keeper)
    return members if len(members) > 1 else [image]


class Reviewer(QObject):
    """Decisions on the gallery's current image. `changed()` after every decision or undo;
    `failed(exc)` when a save did not go through (the decision is then taken back)."""

    changed = Signal()
    failed = Signal(object)

    def __init__(self, view: QListView, proxy: GalleryFilter, model: GalleryModel,
                 thumbnails: Thumbnails, client: PixCrawlerClient, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.proxy = proxy
        self.model = model
        self.thumbnails = thumbnails
        self.client = client
        self.runner = runner
        # Each decision: [(image id, its state before), ...], newest last; U undoes one whole.
        self.history: list[list[tuple[int, str]]] = []
        self._queue: deque[tuple[int, str, str]] = deque()  # (image id, state, state before)
        self._saving = False

    def counts(self) -> tuple[int, int]:
        """(reviewed, known) among the images loaded so far."""
        images = self.model.images()
        return sum(1 for i in images if i.review != "unreviewed"), len(images)

    def decide(self, state: str) -> None:
        image = self._current()
        if image is None:
            return
        row = self.view.currentIndex().row()
        self.history.append([(image.id, image.review)])
        self._apply(image, state)
        # The decided image may have left the view (a filter by review state): the next one
        # then sits where it was.
        shown = self.proxy.index(row, 0)
        if shown.isValid() and shown.data(roles.OBJECT).id == image.id:
            row += 1
        self._go(min(row, self.proxy.rowCount() - 1))

    def decide_many(self, images: list[Image], state: str) -> None:
        """One decision on several images (Delete in the gallery), undone as one."""
        if not images:
            return
        self.history.append([(i.id, i.review) for i in images])
        for image in images:
            self._apply(image, state)

    def keep_only(self) -> None:
        """Accept the current image and reject the rest of its duplicate group."""
        image = self._current()
        if image is None:
            return
        group = group_of(image, self.model.images())
        if len(group) < 2:
            return
        self.history.append([(i.id, i.review) for i in group])
        for member in group:
            self._apply(member, "accepted" if member.id == image.id else "rejected")
        self.select(image.id)

    def undo(self) -> None:
        if not self.history:
            return
        decision = self.history.pop()
        by_id = {i.id: i for i in self.model.images()}
        for image_id, before in decision:
            if image_id in by_id:
                self._apply(by_id[image_id], before)
        self.select(decision[0][0])

    def select(self, image_id: int) -> None:
        """Make the image current, if the grid shows it."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(roles.OBJECT).id == image_id:
                self._go(row)
                return

    def move(self, step: int) -> None:
        row = self.view.currentIndex().row() + step if self.view.currentIndex().isValid() else 0
        self._go(max(0, min(row, self.proxy.rowCount() - 1)))

    def prefetch(self) -> None:
        start = max(self.view.currentIndex().row(), 0)
        for row in range(start, min(start + PREFETCH + 1, self.proxy.rowCount())):
            image = self.proxy.index(row, 0).data(roles.OBJECT)
            if image is not None:
                self.thumbnails.get(image)

    # -- inside ---------------------------------------------------------------------------
    def _current(self) -> Image | None:
        index = self.view.currentIndex()
        return index.data(roles.OBJECT) if index.isValid() else None

    def _go(self, row: int) -> None:
        if row >= 0:
            index = self.proxy.index(row, 0)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        self.prefetch()

    def _apply(self, image: Image, state: str) -> None:
        """Show the decision now and queue its save. Saves go one at a time, in order, so a
        decision and its undo can never reach the server the other way round."""
        self.model.merge([image.model_copy(update={"review": state})])
        self.changed.emit()
        self._queue.append((image.id, state, image.review))
        self._save_next()

    @property
    def saving(self) -> bool:
        return self._saving or bool(self._queue)

    def _save_next(self) -> None:
        if self._saving or not self._queue:
            return
        self._saving = True
        image_id, state, before = self._queue.popleft()
        client = self.client
        self.runner.run(lambda: client.review(image_id, state), lambda _saved: self._saved(),
                        lambda exc: self._save_failed(exc, image_id, state, before), owner=self)

    def _saved(self) -> None:
        self._saving = False
        self._save_next()

    def _save_failed(self, exc: BaseException, image_id: int, state: str, before: str) -> None:
        """Take the decision back (unless a later one replaced it) and say why."""
        self._saving = False
        current = next((i for i in self.model.images() if i.id == image_id), None)
        if current is not None and current.review == state:
            self.model.merge([current.model_copy(update={"review": before})])
            self.changed.emit()
        self.failed.emit(exc)
        self._save_next()


def keys_text() -> str:
    return "\n".join(f"{keys}\t{what}" for keys, what in KEYS)


