"""The app reads and moves well (issue 18, items 3 and 5): About names the versions and the
data folder, an unreachable server is said in words with Retry and the words go when the
choice changes, the viewer steps with ←/→ and Space, chunk states have their own colours and a
legend (quota waits and paused jobs included), dark-theme check boxes show, every toolbar
action is reachable at 640×480, and keys switch Progress/Gallery and find a job."""

from __future__ import annotations

import platform
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QCoreApplication, QPoint, Qt, qVersion
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QCheckBox, QMessageBox, QRadioButton, QToolButton, QWidget

from pixcrawler_desktop.client.api import PixCrawlerClient
from pixcrawler_desktop.client.tokens import MemoryTokenStore
from pixcrawler_desktop.ui import roles
from pixcrawler_desktop.ui.chunks_model import ChunkGridModel
from pixcrawler_desktop.ui.delegates import legend_html
from pixcrawler_desktop.ui.imageviewer import ImageDialog
from pixcrawler_desktop.ui.mainwindow import MainWindow
from pixcrawler_desktop.ui.settings import LOCAL
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.version import version
from tests.gui import factories
from tests.gui.helpers import CRAWL_MS, LEFT, WAIT_MS, fill_sign_in, press, sign_in
from tests.gui.test_daily import crawled_job, open_gallery
from tests.support.stack import free_port


def main_window(qtbot, stack, users, settings, theme, thumb_cache) -> MainWindow:
    """A signed-in main window of `stack`, shown and active."""
    user = users(stack)
    client = PixCrawlerClient(stack.api_url, token_store=MemoryTokenStore())
    me = client.login(user.email, user.password)
    window = MainWindow(client, me, settings, TaskRunner(2), TaskRunner(2), theme, thumb_cache)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.jobs.count_label.text() != "", timeout=WAIT_MS)
    return window


def test_about_names_the_versions_and_the_data_folder(qtbot, server, users, settings, theme,
                                                      thumb_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("PIXCRAWLER_DATA_DIR", str(tmp_path / "my data"))
    window = main_window(qtbot, server, users, settings, theme, thumb_cache)
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "&About PixCrawler").trigger()
    box = window.dialog
    assert isinstance(box, QMessageBox) and box.objectName() == "about"
    qtbot.waitUntil(box.isVisible, timeout=WAIT_MS)
    text = box.text()
    for fact in (version(), qVersion(), platform.python_version(), str(tmp_path / "my data"),
                 server.api_url):
        assert fact in text
    box.close()
    window.shutdown()


def test_an_unreachable_server_is_said_in_words_with_retry(qtbot, make_controller):
    controller = make_controller()
    controller.start(resume=False)
    dialog = controller.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    address = f"http://127.0.0.1:{free_port()}"
    fill_sign_in(qtbot, dialog, address, "me@example.org", "a password")
    error = dialog.errors.fields["server"].error
    assert not dialog.retry_button.isVisible()
    qtbot.mouseClick(dialog.sign_in_button, LEFT)
    friendly = f"No PixCrawler server at {address}: is it running?"
    qtbot.waitUntil(lambda: error.text() == friendly, timeout=WAIT_MS)
    assert "Errno" not in error.text() and "refused" in error.toolTip().lower()
    assert dialog.retry_button.isVisible() and dialog.retry_button.isEnabled()

    # Retry sends the same attempt again: busy, then the same answer
    qtbot.mouseClick(dialog.retry_button, LEFT)
    assert not dialog.retry_button.isEnabled() or error.text() == ""
    qtbot.waitUntil(lambda: error.text() == friendly and dialog.retry_button.isEnabled(),
                    timeout=WAIT_MS)

    # another choice: the error was about the old one, so it goes
    dialog.server_box.setCurrentText(LOCAL)
    assert error.text() == "" and not error.isVisible()
    assert not dialog.retry_button.isVisible()


def test_the_viewer_steps_with_the_arrows_and_space(qtbot, live, users, make_controller):
    user = users(live)
    job = crawled_job(user, "Herons", "heron", 4)
    controller = make_controller()
    controller.start(resume=False)
    window = sign_in(qtbot, controller, live.api_url, user.email, user.password)
    qtbot.waitUntil(lambda: window.jobs.model.job(job["id"]) is not None
                    and window.jobs.model.job(job["id"]).status == "completed",
                    timeout=CRAWL_MS)
    gallery = open_gallery(qtbot, window, job["id"], 4)
    ids = [gallery.proxy.index(r, 0).data(roles.OBJECT).id for r in range(4)]
    gallery.view.setCurrentIndex(gallery.proxy.index(0, 0))
    gallery.open_current()
    viewer = gallery.dialog
    assert isinstance(viewer, ImageDialog)
    qtbot.waitExposed(viewer)
    viewer.activateWindow()
    qtbot.waitUntil(lambda: viewer.isActiveWindow() and viewer.loaded, timeout=WAIT_MS)

    def at(position: int) -> bool:
        return (viewer.image.id == ids[position] and viewer.loaded
                and gallery.current_image().id == ids[position])

    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: at(1), timeout=WAIT_MS)
    assert viewer.windowTitle().startswith("PixCrawler — heron #")
    qtbot.keyClick(viewer, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: at(2), timeout=WAIT_MS)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: at(1), timeout=WAIT_MS)
    qtbot.mouseClick(viewer.next_button, LEFT)
    qtbot.waitUntil(lambda: at(2), timeout=WAIT_MS)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: at(3), timeout=WAIT_MS)
    assert not viewer.move(1)  # the last image: it stays
    assert at(3) and viewer.isVisible()
    viewer.close()


def test_chunk_states_have_their_own_colours_and_a_legend(qtbot):
    assert len({roles.STATUS_COLORS[s].lower() for s in roles.CHUNK_STATES}) \
        == len(roles.CHUNK_STATES)
    legend = legend_html()
    for word in ("queued", "waiting for quota", "running", "completed", "failed",
                 "cancelled", "paused"):
        assert word in legend
    model = ChunkGridModel()
    soon = datetime.now(UTC) + timedelta(minutes=5)
    chunks = [factories.chunk(1, "cat", "bing", "pending"),
              factories.chunk(2, "cat", "duckduckgo", "running", downloaded=3),
              factories.chunk(3, "dog", "bing", "cancelled", downloaded=2),
              factories.chunk(4, "dog", "duckduckgo", "pending").model_copy(
                  update={"waiting_until": soon})]
    model.set_shape(["cat", "dog"], ["bing", "duckduckgo"])
    model.set_chunks(chunks)

    def states() -> list[str]:
        return [model.index(r, c).data(roles.CELL_STATE) for r in (0, 1) for c in (0, 1)]

    assert states() == ["pending", "running", "cancelled", "waiting"]
    assert "waiting for duckduckgo quota" in model.index(1, 1).data()
    changed = []
    model.dataChanged.connect(lambda *_: changed.append(True))
    model.set_paused(True)  # the job was paused at quit: its cancelled chunks wait for Start
    assert changed and states() == ["pending", "running", "paused", "waiting"]


def indicator_contrast(widget: QWidget) -> float:
    """The largest lightness step between the window's colour and any pixel of the widget's
    indicator (its left square), 0..255."""
    image: QImage = widget.grab().toImage()
    background = QColor(widget.palette().color(widget.backgroundRole())).lightness()
    side = min(image.height(), 20)
    return max(abs(QColor(image.pixel(x, y)).lightness() - background)
               for x in range(side) for y in range(image.height()))


def test_dark_theme_check_boxes_and_radio_buttons_show(qtbot, qapp, theme, request):
    request.addfinalizer(lambda: theme.set_choice("light"))
    parent = QWidget()
    qtbot.addWidget(parent)
    check, radio = QCheckBox("Keep me signed in", parent), QRadioButton("Fast", parent)
    check.move(0, 0)
    radio.move(0, 30)
    parent.resize(200, 60)
    theme.set_choice("dark")
    parent.show()
    qtbot.waitExposed(parent)
    for box in (check, radio):
        assert not box.isChecked()
        assert indicator_contrast(box) > 90, box.text()  # the edge stands out of the window
    edge, theme.style.edge = theme.style.edge, None  # Fusion's own edge, as it was
    assert indicator_contrast(check) < 40
    theme.style.edge = edge
    theme.set_choice("light")
    assert indicator_contrast(check) > 40  # the light theme's own edge, unchanged


def test_every_toolbar_action_is_reachable_at_640_by_480(qtbot, server, users, settings, theme,
                                                         thumb_cache):
    window = main_window(qtbot, server, users, settings, theme, thumb_cache)
    window.resize(640, 480)
    qtbot.waitUntil(lambda: window.width() == 640 and window.height() == 480, timeout=WAIT_MS)
    toolbar = window.toolbar
    actions = [a for a in toolbar.actions() if not a.isSeparator()]
    assert {a.objectName() for a in actions} == {f"action_{k}" for k in (
        "new", "start", "cancel", "retry", "validate", "export", "delete", "refresh")}
    hidden = [a for a in actions if not toolbar.widgetForAction(a).isVisible()]
    assert hidden, "640 px should not hold every button: the test would prove nothing"
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is not None and extension.isVisible()
    qtbot.mouseClick(extension, LEFT, pos=QPoint(extension.width() // 2,
                                                 extension.height() // 2))
    qtbot.waitUntil(lambda: all(toolbar.widgetForAction(a).isVisible() for a in actions),
                    timeout=WAIT_MS)
    refresh = toolbar.widgetForAction(window.actions["refresh"])
    assert refresh.isEnabled()
    refresh.click()  # the overflowed button works like any other
    qtbot.mouseClick(extension, LEFT, pos=QPoint(extension.width() // 2,
                                                 extension.height() // 2))

    # the gallery's bar fits too: its Open and Show in folder buttons become icons
    window.show_tab(window.gallery)
    gallery = window.gallery
    qtbot.waitUntil(lambda: gallery.open_button.text() == "", timeout=WAIT_MS)
    assert gallery.folder_button.accessibleName() == "Show in folder"
    assert window.width() == 640
    window.resize(1100, 700)
    qtbot.waitUntil(lambda: gallery.open_button.text() == "Open", timeout=WAIT_MS)
    window.shutdown()


def test_keys_switch_progress_and_gallery_and_find_a_job(qtbot, server, users, settings, theme,
                                                         thumb_cache):
    window = main_window(qtbot, server, users, settings, theme, thumb_cache)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    shortcuts = {a.text(): a.shortcut().toString() for a in view_menu.actions() if a.text()}
    assert shortcuts == {"&Progress": "Alt+1", "&Gallery": "Alt+2", "&Find job…": "Ctrl+F"}
    press(qtbot, window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.gallery, timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.job_view, timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.jobs.search.hasFocus, timeout=WAIT_MS)
    qtbot.keyClicks(window.jobs.search, "owl")
    assert window.jobs.search.text() == "owl"
    QCoreApplication.processEvents()
    window.shutdown()
