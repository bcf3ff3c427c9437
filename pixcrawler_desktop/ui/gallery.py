"""The gallery: a job's images as thumbnails with validation badges, filterable by keyword,
outcome and review state, each openable full size and, for a local server, showable in its
folder. Review mode takes decisions from the keyboard (see ui.review). Delete rejects the
selected images (never the job: that is the jobs list's own command); export leaves rejected
images out, and Ctrl+Z takes the rejection back.

Each job keeps its own filters and scroll position while the app runs, and a filter that hides
every image says so, with a button that clears it.

Image metadata comes in pages in the background; while a job runs, new pages are fetched
at most once a second however fast progress events arrive. Thumbnails are loaded only for
the tiles the view actually paints (see GalleryModel).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.models import Image, Job, Page
from pixcrawler_desktop.ui import resources, roles
from pixcrawler_desktop.ui.delegates import ThumbnailDelegate
from pixcrawler_desktop.ui.forms import role_label
from pixcrawler_desktop.ui.gallery_model import GalleryFilter, GalleryModel
from pixcrawler_desktop.ui.imageviewer import ImageDialog
from pixcrawler_desktop.ui.localfiles import local_file, show_in_folder
from pixcrawler_desktop.ui.review import Reviewer, group_of, keys_text
from pixcrawler_desktop.ui.settings import AppSettings
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.theme import themed_icon
from pixcrawler_desktop.ui.thumbnails import ThumbnailCache, ThumbnailLoader
from pixcrawler_desktop.ui.widgets import Placeholder

PAGE_SIZE = 200  # parsing a page holds the GIL: small pages keep the UI thread free
REFRESH_MS = 1000
OUTCOME_LABELS = {"valid": "Valid", "invalid": "Invalid", "duplicate": "Duplicates",
                  "pending": "Not validated"}
REVIEW_LABELS = {"unreviewed": "Unreviewed", "accepted": "Accepted", "rejected": "Rejected"}
ACCEPT_KEYS = (Qt.Key.Key_P, Qt.Key.Key_A)


@dataclass
class ViewState:
    """What the user set up in one job's gallery: filters, where the grid was scrolled, the
    image they were on."""

    keyword: str | None = None
    outcome: str | None = None
    review: str | None = None
    scroll: int = 0
    image_id: int | None = None


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class GalleryView(QWidget):
    failed = Signal(object)
    loaded = Signal(int)  # number of images known after a page arrived
    notice = Signal(str)  # a confirmation for the status bar (images rejected, …)

    def __init__(self, client: PixCrawlerClient, runner: TaskRunner, thumb_runner: TaskRunner,
                 settings: AppSettings, cache: ThumbnailCache | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.settings = settings
        self.data_dir: Path | None = None  # this computer's backend's folder, when signed in
        self.job: Job | None = None
        self.total = 0
        self.dialog: ImageDialog | None = None
        self.thumbnails = ThumbnailLoader(client, thumb_runner, cache, parent=self)
        self.model = GalleryModel(self.thumbnails, self)
        self.thumbnails.ready.connect(self.model.thumbnail_ready)
        self.proxy = GalleryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.keys_sheet: QMessageBox | None = None
        self._loading = False
        self._again = False
        self._generation = 0
        self._local_path: Path | None = None
        self._folder_action: QAction | None = None  # in the context menu while it is open
        self._reject_action: QAction | None = None
        self.menu: QMenu | None = None  # the context menu shown last
        self._states: dict[int, ViewState] = {}  # per job; kept in the settings as well
        self.server = ""  # the signed-in server's identity, for the kept states
        self._restore: ViewState | None = None  # applied once the job's images are loaded
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        self._build()

    def _build(self) -> None:
        self.keyword_combo = QComboBox(objectName="keyword_filter")
        self.keyword_combo.currentIndexChanged.connect(
            lambda _: self.proxy.set_keyword(self.keyword_combo.currentData()))
        self.outcome_combo = QComboBox(objectName="outcome_filter")
        self.outcome_combo.addItem("All outcomes", None)
        for outcome, label in OUTCOME_LABELS.items():
            self.outcome_combo.addItem(resources.pixmap(f"badge-{outcome}", 16), label, outcome)
        self.outcome_combo.currentIndexChanged.connect(
            lambda _: self.proxy.set_outcome(self.outcome_combo.currentData()))
        self.review_combo = QComboBox(objectName="review_filter")
        self.review_combo.addItem("All reviews", None)
        for state, label in REVIEW_LABELS.items():
            self.review_combo.addItem(label, state)
        self.review_combo.currentIndexChanged.connect(
            lambda _: self.proxy.set_review(self.review_combo.currentData()))
        self.review_button = QPushButton("Review", objectName="review_mode")
        self.review_button.setCheckable(True)
        self.review_button.setToolTip("Review from the keyboard: P or A accepts, X rejects, "
                                      "U undoes, ? lists the keys")
        self.review_button.toggled.connect(self._review_toggled)
        self.review_label = role_label("", "subtle", wrap=False, name="review_count")
        self.count_label = role_label("", "subtle", wrap=False, name="gallery_count")
        self.open_button = QPushButton("Open", objectName="open_image")
        self.open_button.setIcon(themed_icon("image"))
        self.open_button.clicked.connect(self.open_current)
        self.folder_button = QPushButton("Show in folder", objectName="show_in_folder")
        self.folder_button.setIcon(themed_icon("folder"))
        self.folder_button.clicked.connect(self.show_current_in_folder)
        # the bar fits a 640 px window: combos shrink to a few letters (their lists stay
        # full width) and the counts give way before any button does
        for combo in (self.keyword_combo, self.outcome_combo, self.review_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
        for label in (self.count_label, self.review_label):  # whole when there is room
            label.setMinimumWidth(40)
        bar = QHBoxLayout()
        bar.addWidget(self.keyword_combo)
        bar.addWidget(self.outcome_combo)
        bar.addWidget(self.review_combo)
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.review_label)
        bar.addWidget(self.review_button)
        bar.addWidget(self.open_button)
        bar.addWidget(self.folder_button)

        self.view = QListView(objectName="gallery")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setLayoutMode(QListView.LayoutMode.Batched)  # big pages lay out in steps
        self.view.setBatchSize(200)
        picture = QSize(self.thumbnails.size, self.thumbnails.size * 7 // 9)
        delegate = ThumbnailDelegate(picture, self.view)
        self.view.setIconSize(picture)
        self.view.setGridSize(delegate.sizeHint(QStyleOptionViewItem(), QModelIndex()))
        self.view.setWordWrap(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(delegate)
        self.view.activated.connect(lambda _index: self.open_current())
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._enable_buttons())
        # Delete and Ctrl+Z belong to the grid (WidgetShortcut): with the gallery focused,
        # Delete can never reach the jobs list's "Delete job".
        self.reject_action = QAction("Reject selected images", self.view,
                                     objectName="reject_images")
        self.reject_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.reject_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.reject_action.setStatusTip("Mark the selected images rejected: exports leave "
                                        "them out (Ctrl+Z takes it back)")
        self.reject_action.triggered.connect(self.reject_selected)
        self.view.addAction(self.reject_action)
        self.undo_action = QAction("Undo the last decision", self.view, objectName="undo_review")
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.undo_action.triggered.connect(self.undo)
        self.view.addAction(self.undo_action)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.installEventFilter(self)
        self.reviewer = Reviewer(self.view, self.proxy, self.model, self.thumbnails,
                                 self.client, self.runner, self)
        self.reviewer.changed.connect(self._update_count)
        self.reviewer.failed.connect(self.failed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

        self.list_area = Placeholder(self.view, "No images yet.")
        self.no_match = QWidget(objectName="no_match")
        self.no_match_label = QLabel(objectName="no_match_text")
        self.no_match_label.setProperty("role", "subtle")
        self.no_match_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_match_label.setWordWrap(True)
        self.clear_button = QPushButton("Clear filter", objectName="clear_filter")
        self.clear_button.clicked.connect(self.clear_filters)
        empty = QVBoxLayout(self.no_match)
        empty.addStretch(1)
        empty.addWidget(self.no_match_label)
        empty.addWidget(self.clear_button, 0, Qt.AlignmentFlag.AlignHCenter)
        empty.addStretch(1)
        self.list_area.addWidget(self.no_match)
        content = QWidget()
        # narrower than the bar's buttons with their words: they show only their icons
        # (resizeEvent), so the window still fits 640 px
        content.setMinimumWidth(560)
        self._button_texts = {self.open_button: "Open", self.folder_button: "Show in folder"}
        self._compact = False
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(bar)
        layout.addWidget(self.list_area, 1)
        self.placeholder = Placeholder(content, "Select a job to see its images.")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.placeholder)
        self._enable_buttons()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._set_compact(event.size().width() < 800)

    def _set_compact(self, compact: bool) -> None:
        """Open and Show in folder as icons only (their words in the tooltip), or in full."""
        if compact == self._compact:
            return
        self._compact = compact
        for button, text in self._button_texts.items():
            button.setText("" if compact else text)
            button.setAccessibleName(text)
        self._enable_buttons()

    # -- public ---------------------------------------------------------------------------
    def retheme(self) -> None:
        self.open_button.setIcon(themed_icon("image"))
        self.folder_button.setIcon(themed_icon("folder"))

    def set_client(self, client: PixCrawlerClient) -> None:
        self.client = client
        self.reviewer.client = client
        self.thumbnails.reset(client)

    def set_data_dir(self, data_dir: Path | None) -> None:
        """The server's data folder when the app runs it (known, so no setting is needed);
        None falls back to the folder set in Settings."""
        self.data_dir = data_dir

    def show_job(self, job: Job | None) -> None:
        if job is not None and self.job is not None and job.id == self.job.id:
            self.job = job
            if job.downloaded_images > self.total:
                # The jobs list may learn of new images before the progress event that
                # would have asked for them (which then sees no change): fetch them anyway.
                self.request_refresh()
            return
        self._save_state()
        self._generation += 1
        self._loading = self._again = False
        self._refresh_timer.stop()
        self.runner.cancel_owned_by(self)
        self.thumbnails.reset()
        self.job = job
        self.total = 0
        self.model.clear()
        self.proxy.set_ids(None)
        self.model.mark_keepers(frozenset())
        self.placeholder.show_content(job is not None)
        if job is None:
            return
        self.keyword_combo.blockSignals(True)
        self.keyword_combo.clear()
        self.keyword_combo.addItem("All keywords", None)
        for keyword in job.keywords:
            self.keyword_combo.addItem(keyword, keyword)
        self.keyword_combo.blockSignals(False)
        state = self._states.get(job.id) or self._kept(job.id)
        self._set_filters(state.keyword, state.outcome, state.review)
        self._restore = state if (state.scroll or state.image_id is not None) else None
        self._load(1)

    def filters(self) -> tuple[str | None, str | None, str | None]:
        """(keyword, outcome, review) as chosen in the bar; None = any."""
        return (self.keyword_combo.currentData(), self.outcome_combo.currentData(),
                self.review_combo.currentData())

    def _set_filters(self, keyword: str | None, outcome: str | None,
                     review: str | None) -> None:
        for combo, value in ((self.keyword_combo, keyword), (self.outcome_combo, outcome),
                             (self.review_combo, review)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        # The combos' signals set the proxy, unless the index did not change: set it anyway.
        keyword, outcome, review = self.filters()
        self.proxy.set_keyword(keyword)
        self.proxy.set_outcome(outcome)
        self.proxy.set_review(review)

    def clear_filters(self) -> None:
        self.proxy.set_ids(None)
        self.model.mark_keepers(frozenset())
        self._set_filters(None, None, None)
        self._update_count()

    def _save_state(self) -> None:
        if self.job is None:
            return
        keyword, outcome, review = self.filters()
        image = self.current_image()
        if self._restore is not None:  # left before its images came: keep what was saved
            self._states[self.job.id] = self._restore
            return
        state = self._states[self.job.id] = ViewState(
            keyword, outcome, review, self.view.verticalScrollBar().value(),
            image.id if image is not None else None)
        if self.server:  # the next run of the app finds the job's gallery as it was left
            self.settings.set_gallery_state(self.server, self.job.id, asdict(state))

    def _kept(self, job_id: int) -> ViewState:
        """The state an earlier run of the app left for this job, or a fresh one."""
        kept = self.settings.gallery_state(self.server, job_id) if self.server else None
        try:
            return ViewState(**kept) if kept else ViewState()
        except TypeError:  # written by another version
            return ViewState()

    def _restore_view(self) -> None:
        """Put the grid back where it was for this job, once enough images are there."""
        state = self._restore
        if state is None:
            return
        bar = self.view.verticalScrollBar()
        if state.image_id is not None:
            for row in range(self.proxy.rowCount()):
                if self.proxy.index(row, 0).data(roles.OBJECT).id == state.image_id:
                    self.view.setCurrentIndex(self.proxy.index(row, 0))
                    break
        self.view.doItemsLayout()  # batched layout: the scroll range must be known now
        bar.setValue(state.scroll)
        if bar.value() == state.scroll or self.total <= len(self.model.images()):
            self._restore = None

    def request_refresh(self) -> None:
        """New images may exist: fetch them soon, at most once per REFRESH_MS."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(REFRESH_MS)

    def refresh(self) -> None:
        """Fetch images added since the last fetch."""
        if self.job is not None:
            self._load(len(self.model.images()) // PAGE_SIZE + 1)

    def reload(self) -> None:
        """Fetch every page again (validation outcomes changed)."""
        if self.job is not None:
            self.thumbnails.reset()
            self._load(1)

    def stop(self) -> None:
        self._refresh_timer.stop()
        self.runner.cancel_owned_by(self)
        self.thumbnails.reset()
        self._loading = False

    # -- loading --------------------------------------------------------------------------
    def _load(self, page: int) -> None:
        if self._loading:
            self._again = True
            return
        assert self.job is not None
        self._loading = True
        client, job_id, generation = self.client, self.job.id, self._generation
        self.runner.run(lambda: client.images(job_id, page=page, page_size=PAGE_SIZE),
                        lambda result: self._page_loaded(generation, page, result),
                        lambda exc: self._load_failed(generation, exc), owner=self)

    def _page_loaded(self, generation: int, page: int, result: Page[Image]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self.total = result.total
        self.model.merge(result.items)
        self._update_count()
        self._restore_view()
        self.loaded.emit(len(self.model.images()))
        if page * PAGE_SIZE < result.total and result.items:
            self._load(page + 1)
        elif self._again:
            self._again = False
            self.refresh()

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading = self._again = False
        self.failed.emit(exc)

    # -- selection and actions ------------------------------------------------------------
    def current_image(self) -> Image | None:
        index = self.view.currentIndex()
        return index.data(roles.OBJECT) if index.isValid() else None

    def selected_images(self) -> list[Image]:
        """The selected images in grid order (the current one if nothing is selected)."""
        rows = sorted(self.view.selectionModel().selectedIndexes(), key=lambda i: i.row())
        images = [i.data(roles.OBJECT) for i in rows if i.data(roles.OBJECT) is not None]
        if not images and (current := self.current_image()) is not None:
            images = [current]
        return images

    def reject_selected(self) -> None:
        """Delete in the gallery: the selected images are rejected (a review decision that
        export honours), in one step that Ctrl+Z or U takes back. Files stay on disk."""
        images = [i for i in self.selected_images() if i.review != "rejected"]
        if not images:
            return
        self.reviewer.decide_many(images, "rejected")
        self.notice.emit(f"Rejected {plural(len(images), 'image')}: exports leave "
                         f"{'it' if len(images) == 1 else 'them'} out. Ctrl+Z takes it back.")

    def undo(self) -> None:
        if self.reviewer.history:
            self.reviewer.undo()
            self.notice.emit("Undone")

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._local_path = None
        self._enable_buttons()
        image = current.data(roles.OBJECT) if current.isValid() else None
        if image is None:
            return
        server, data_dir = self.client.base_url, self.data_dir or self.settings.local_data_dir
        self.runner.run(lambda: local_file(server, data_dir, image.file_path),
                        lambda path: self._located(image.id, path), owner=self)

    def _located(self, image_id: int, path: Path | None) -> None:
        image = self.current_image()
        if image is not None and image.id == image_id:
            self._local_path = path
            self._enable_buttons()

    def _enable_buttons(self) -> None:
        """The buttons and an open context menu follow the same state (the file is looked up
        in the background, so a menu opened at once learns it a moment later)."""
        self.open_button.setEnabled(self.view.currentIndex().isValid())
        self.open_button.setToolTip("Open the selected image (Enter); ←/→ and Space move on")
        tip = (str(self._local_path) if self._local_path
               else "Available for images of a server on this computer "
                    "(set its data folder in Settings)")
        if self._compact:
            tip = f"Show in folder: {tip}"
        for control in (self.folder_button, self._folder_action):
            if control is not None:
                control.setEnabled(self._local_path is not None)
                control.setToolTip(tip)
        if self._reject_action is not None:
            self._reject_action.setEnabled(bool(self.selected_images()))

    def open_current(self) -> None:
        image = self.current_image()
        if image is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        server, data_dir = self.client.base_url, self.data_dir or self.settings.local_data_dir
        self.dialog = ImageDialog(self.client, self.runner, image, self._local_path,
                                  show_in_folder, self, step=self.step,
                                  locate=lambda i: local_file(server, data_dir, i.file_path))
        self.dialog.show()

    def step(self, delta: int) -> Image | None:
        """Make the image `delta` places on (in the grid's order) the current one, for the
        viewer's ←/→; None past either end."""
        row = self.view.currentIndex().row() + delta
        if not 0 <= row < self.proxy.rowCount():
            return None
        index = self.proxy.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return index.data(roles.OBJECT)

    def show_current_in_folder(self) -> None:
        if self._local_path is not None:
            show_in_folder(self._local_path)

    def _context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addAction(themed_icon("image"), "Open", self.open_current)
        self._folder_action = menu.addAction(themed_icon("folder"), "Show in folder",
                                             self.show_current_in_folder)
        menu.addSeparator()
        self._reject_action = menu.addAction(
            f"Reject {plural(len(self.selected_images()), 'image')}", self.reject_selected)
        self._reject_action.setShortcut(self.reject_action.shortcut())
        menu.aboutToHide.connect(self._menu_closed)
        self._enable_buttons()
        self.menu = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _menu_closed(self) -> None:
        self._folder_action = self._reject_action = None

    # -- review -------------------------------------------------------------------------
    def _review_toggled(self, on: bool) -> None:
        if on:
            self.view.setFocus()
            if not self.view.currentIndex().isValid() and self.proxy.rowCount():
                self.view.setCurrentIndex(self.proxy.index(0, 0))
            self.reviewer.prefetch()
        self._update_count()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Review mode's keys on the thumbnail grid (the arrows move as they always do)."""
        if (watched is self.view and event.type() == QEvent.Type.KeyPress
                and self.review_button.isChecked()):
            key = event.key()
            if key in ACCEPT_KEYS:
                self.reviewer.decide("accepted")
                return True
            if key == Qt.Key.Key_X:
                self.reviewer.decide("rejected")
                return True
            if key == Qt.Key.Key_U:
                self.reviewer.undo()
                return True
            if key == Qt.Key.Key_G:
                self.toggle_group()
                return True
            if key == Qt.Key.Key_K:
                self.reviewer.keep_only()
                return True
            if key == Qt.Key.Key_Question or event.text() == "?":
                self.show_keys()
                return True
            if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
                self.reviewer.move(-1 if key == Qt.Key.Key_Left else 1)
                return True
        return super().eventFilter(watched, event)

    def toggle_group(self) -> None:
        """Show the current image's duplicate group side by side, its kept image first and
        marked; or, when a group is shown, every image again."""
        image = self.current_image()
        if self.proxy.ids is not None or image is None:
            self.proxy.set_ids(None)
            self.model.mark_keepers(frozenset())
        else:
            group = group_of(image, self.model.images())
            self.model.mark_keepers(frozenset({group[0].id}) if len(group) > 1 else frozenset())
            self.proxy.set_ids(frozenset(i.id for i in group))
        if image is not None:
            self.reviewer.select(image.id)
        self._update_count()

    def show_keys(self) -> None:
        """The keys of review mode, in a sheet that stays open beside the grid."""
        if self.keys_sheet is None:
            self.keys_sheet = QMessageBox(QMessageBox.Icon.Information, "Review keys",
                                          keys_text(), QMessageBox.StandardButton.Close, self)
            self.keys_sheet.setObjectName("review_keys")
            self.keys_sheet.setModal(False)
        self.keys_sheet.show()

    def _update_count(self, *_args: object) -> None:
        shown, known = self.proxy.rowCount(), len(self.model.images())
        self.list_area.show_content(known > 0, "No images yet. They appear here as the crawl "
                                               "downloads them." if self.job else "")
        if known and not shown:
            self.no_match_label.setText(self._no_match_text(known))
            self.list_area.setCurrentWidget(self.no_match)
        if known == 0:
            self.count_label.setText("")
        elif shown == known:
            self.count_label.setText(f"{known} images")
        else:
            self.count_label.setText(f"{shown} of {known} images shown")
        reviewed, loaded = self.reviewer.counts()
        self.review_label.setText(f"{reviewed} of {max(loaded, self.total)} reviewed"
                                  if loaded else "")
        for label in (self.count_label, self.review_label):  # cut short in a narrow window
            label.setToolTip(label.text())
        self._enable_buttons()

    def _no_match_text(self, known: int) -> str:
        """Why the grid is empty although the job has images: the filters, by name."""
        if self.proxy.ids is not None:
            return "This duplicate group has no images left."
        keyword, outcome, review = self.filters()
        parts = [f"keyword “{keyword}”" if keyword else "",
                 f"outcome “{OUTCOME_LABELS[outcome]}”" if outcome else "",
                 f"review “{REVIEW_LABELS[review]}”" if review else ""]
        said = " and ".join(p for p in parts if p)
        return f"No images match the filter {said}. The job has {plural(known, 'image')}."
