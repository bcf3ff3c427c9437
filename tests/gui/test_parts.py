"""The UI's plain parts: task runner, settings, messages, keyword cleaning, local files,
theme, crash reporter."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QSettings, Qt, QThread
from PySide6.QtWidgets import QApplication, QWidget

from pixcrawler_desktop.client.api import is_local_server
from pixcrawler_desktop.client.errors import ApiError, ConnectionLost, ForbiddenError, RateLimited
from pixcrawler_desktop.ui import resources
from pixcrawler_desktop.ui.crash import CrashReporter
from pixcrawler_desktop.ui.errors import describe, format_wait
from pixcrawler_desktop.ui.localfiles import local_file
from pixcrawler_desktop.ui.newjob import clean_keywords
from pixcrawler_desktop.ui.settings import AppSettings, normalize_server
from pixcrawler_desktop.ui.tasks import TaskRunner
from pixcrawler_desktop.ui.theme import Theme


def test_runner_delivers_results_on_the_ui_thread(qtbot):
    runner = TaskRunner(2)
    seen = {}

    def work() -> int:
        seen["worker"] = threading.current_thread() is threading.main_thread()
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["ui"] = QThread.currentThread() is QApplication.instance().thread()

    runner.run(work, done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen == {"worker": False, "value": 42, "ui": True}
    assert runner.pending == 0
    assert runner.shutdown(1000)


def test_runner_reports_errors_and_drops_results_of_cancelled_or_deleted_owners(qtbot):
    runner = TaskRunner(1)
    gate = threading.Event()
    results: list[object] = []
    owner = QWidget()

    def boom() -> None:
        raise ConnectionLost("Cannot reach the server at http://x")

    runner.run(gate.wait, lambda _r: results.append("blocked"))  # holds the only thread
    cancelled = runner.run(lambda: 1, results.append)
    owned = runner.run(lambda: 2, results.append, owner=owner)
    runner.run(boom, results.append, lambda exc: results.append(type(exc).__name__))
    cancelled.cancel()
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken_valid(owner))
    gate.set()
    qtbot.waitUntil(lambda: runner.pending == 0)
    assert results == ["blocked", "ConnectionLost"]
    assert owned.wanted is False
    runner.shutdown(1000)
    late = runner.run(lambda: 3, results.append)
    assert late.cancelled  # nothing runs after shutdown


def shiboken_valid(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_settings_round_trip(tmp_path):
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert settings.poll_interval == 5.0 and settings.theme == "system"
    settings.remember_server("127.0.0.1:8000/api/v1/")
    settings.remember_server("https://lab.example.org")
    settings.remember_server("http://127.0.0.1:8000")
    assert settings.servers == ["http://127.0.0.1:8000", "https://lab.example.org"]
    assert settings.last_server == "http://127.0.0.1:8000"
    settings.set_last_email("http://127.0.0.1:8000", "a@example.org")
    settings.set_keep_signed_in("http://127.0.0.1:8000", True)
    settings.poll_interval = 0.01
    settings.theme = "dark"
    settings.local_data_dir = tmp_path
    settings.sync()
    again = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.last_email("http://127.0.0.1:8000/") == "a@example.org"
    assert again.keep_signed_in("http://127.0.0.1:8000") is True
    assert again.keep_signed_in("https://lab.example.org") is False
    assert again.poll_interval == 0.2  # clamped
    assert again.theme == "dark" and again.local_data_dir == tmp_path
    with pytest.raises(ValueError):
        again.theme = "purple"
    assert normalize_server(" localhost:9000/ ") == "http://localhost:9000"


def test_error_messages_carry_the_server_detail():
    limited = RateLimited(429, "Rate limit exceeded: 10 per 1 minute. Try again in 42 seconds.",
                          retry_after=42)
    assert describe(limited) == limited.detail
    assert describe(RateLimited(429, "Slow down", retry_after=150)) == \
        "Slow down. Try again in 3 min."
    assert describe(ForbiddenError(403, "Access denied to this resource")) == \
        "Not allowed: Access denied to this resource"
    assert describe(ApiError(400, "Cannot start job with status 'running'.")) == \
        "Cannot start job with status 'running'."
    assert describe(ValueError()) == "Unexpected error (ValueError)"
    assert format_wait(0.2) == "1 s" and format_wait(None) == "a moment"


def test_keywords_are_cleaned_like_the_server_does():
    text = "cat\n\n  Cat \nred   fox\n\t\ndog\nCAT\nred fox"
    assert clean_keywords(text) == ["cat", "red fox", "dog"]


def test_local_file_only_for_local_servers_and_inside_the_data_dir(tmp_path):
    data = tmp_path / "data"
    (data / "jobs" / "1" / "cat").mkdir(parents=True)
    (data / "jobs" / "1" / "cat" / "bing-1-ab.jpg").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("no")
    assert local_file("http://127.0.0.1:8000", data, "jobs/1/cat/bing-1-ab.jpg") == \
        (data / "jobs/1/cat/bing-1-ab.jpg").resolve()
    assert local_file("http://localhost:8000", data, "jobs/1/cat/missing.jpg") is None
    assert local_file("http://127.0.0.1:8000", data, "../secret.txt") is None
    assert local_file("https://lab.example.org", data, "jobs/1/cat/bing-1-ab.jpg") is None
    assert is_local_server("http://[::1]:8000") and not is_local_server("http://10.0.0.2")


def test_theme_override_and_icons(qapp):
    theme = Theme(qapp, "dark")
    assert theme.scheme == "dark"
    assert qapp.palette().color(qapp.palette().ColorRole.Window).name() == "#18202c"
    assert "QLabel[role=\"error\"]" in qapp.styleSheet()
    changes: list[str] = []
    theme.changed.connect(changes.append)
    theme.set_choice("light")
    assert changes == ["light"] and theme.icon_color() == "#111827"
    assert not resources.icon("start", theme.icon_color()).isNull()
    assert resources.metadata()["organization"] == "PixCrawler"


def test_crash_reporter_logs_and_shows_a_message(tmp_path):
    shown: list[str] = []
    reporter = CrashReporter(tmp_path / "desktop.log", show=shown.append)
    try:
        raise KeyError("thumbnail")
    except KeyError:
        reporter(*sys.exc_info())
    assert len(shown) == 1 and "Something went wrong" in shown[0]
    assert str(tmp_path / "desktop.log") in shown[0] and "Traceback" not in shown[0]
    previous = sys.excepthook
    try:
        reporter.install()
        assert sys.excepthook is reporter
    finally:
        sys.excepthook = previous


def test_resources_folder_is_found():
    root = resources.resources_dir()
    assert (root / "icons" / "app.svg").is_file()
    assert {p.stem for p in (root / "styles").glob("*.qss")} == {"light", "dark"}
    assert Path(root, resources.metadata()["icon"]).is_file()


def test_estimates_read_as_durations():
    from datetime import timedelta

    from pixcrawler_desktop.ui.roles import time_left
    from tests.gui.factories import T0

    assert time_left(None) == "–"
    assert time_left(T0 + timedelta(seconds=40), T0) == "in 40 s"
    assert time_left(T0 + timedelta(minutes=12, seconds=20), T0) == "in 12 min"
    assert time_left(T0 + timedelta(hours=2, minutes=5), T0) == "in 2 h 5 min"
    assert time_left(T0 - timedelta(seconds=3), T0) == "any moment"


def test_singletons_survive_pysides_reference_leaks():
    """PySide6 6.12.0 drops a reference to None per void call or invalid QVariant and one to
    True per emit; the package import must have made that harmless on Python 3.11 (see
    pixcrawler_desktop.ui.keep_singletons_alive)."""
    from PySide6.QtCore import Signal
    from PySide6.QtGui import QStandardItem, QStandardItemModel

    class Emitter(QObject):
        ping = Signal()

    model = QStandardItemModel()
    model.appendRow(QStandardItem("x"))
    index, emitter = model.index(0, 0), Emitter()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        assert index.data(Qt.ItemDataRole.FontRole) is None
        emitter.ping.emit()
    lost = before[0] - sys.getrefcount(None), before[1] - sys.getrefcount(True)
    assert max(lost) <= 1000  # at most one per call, whichever PySide is installed...
    if sys.version_info < (3, 12):
        assert min(sys.getrefcount(None), sys.getrefcount(True)) > 1 << 39  # ...and harmless


def test_lazy_token_store_opens_the_real_one_once_on_first_use():
    from pixcrawler_desktop.client.tokens import MemoryTokenStore
    from pixcrawler_desktop.ui.tokenstore import LazyTokenStore, resolve

    made: list[MemoryTokenStore] = []

    def factory() -> MemoryTokenStore:
        made.append(MemoryTokenStore())
        made[-1].available, made[-1].reason = False, "no keyring here"
        return made[-1]

    store = LazyTokenStore(factory)
    assert not store.resolved and store.available and store.reason is None and not made
    threads = [threading.Thread(target=store.resolve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and resolve(store) is made[0]
    assert store.available is False and store.reason == "no keyring here"
    store.set("http://s", "a@b.c", "token")
    assert made[0].get("http://s", "a@b.c") == "token" == store.get("http://s", "a@b.c")
    store.delete("http://s", "a@b.c")
    assert store.get("http://s", "a@b.c") is None
    plain = MemoryTokenStore()
    assert resolve(plain) is plain
