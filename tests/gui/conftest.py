"""GUI test setup: offscreen Qt, isolated settings and token store, a real stack (SQLite).

The platform must be chosen before Qt is imported anywhere, hence the environment variable
at the very top. The GUI is the same whatever database the server uses, so these tests run
against the SQLite deployment only; the backends are covered by tests/e2e.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from pixcrawler_desktop.client.tokens import MemoryTokenStore
from pixcrawler_desktop.ui.controller import AppController
from pixcrawler_desktop.ui.localserver import LocalServer
from pixcrawler_desktop.ui.settings import AppSettings
from pixcrawler_desktop.ui.signin import ClientFactory, make_client
from pixcrawler_desktop.ui.theme import Theme
from pixcrawler_desktop.ui.thumbnails import ThumbnailCache
from tests.fakeweb.server import FakeWeb
from tests.support.stack import UNLIMITED_SEARCH, Stack

GUI_DIR = Path(__file__).parent
ARTIFACTS = GUI_DIR.parent / "artifacts"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Qt warnings fail GUI tests (as in qutebrowser), except the offscreen plugin's notes
    that it cannot do what only a real window system does (size hints, raising windows)."""
    for item in items:
        if GUI_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("^This plugin does not support"))


def _deploy(fakeweb: FakeWeb, workdir: Path, *, worker: bool) -> Iterator[Stack]:
    stack = Stack("sqlite", workdir, fakeweb.engine_urls())
    try:
        stack.start_api()
        if worker:
            stack.start_worker()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def live_server(fakeweb: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Overrides the root fixture: one SQLite stack with a worker for all GUI tests."""
    yield from _deploy(fakeweb, tmp_path_factory.mktemp("gui-live"), worker=True)


@pytest.fixture(scope="session")
def server(fakeweb: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Overrides the root fixture: an API without a worker, for tests that stop the API."""
    yield from _deploy(fakeweb, tmp_path_factory.mktemp("gui-api"), worker=False)


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    app_settings = AppSettings(store)
    app_settings.poll_interval = 0.5
    app_settings.contact_asked = True  # a user past the first run's question (test_local asks)
    return app_settings


@pytest.fixture
def token_store() -> MemoryTokenStore:
    return MemoryTokenStore()


@pytest.fixture
def thumb_cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbnails")


@pytest.fixture
def theme(qapp) -> Theme:
    return Theme(qapp, "light")


@pytest.fixture
def make_controller(qtbot, settings, token_store, thumb_cache, theme
                    ) -> Iterator[Callable[..., AppController]]:
    """Factory for app controllers sharing this test's settings and token store; each one is
    shut down (and its windows closed) at the end of the test."""
    made: list[AppController] = []

    def make(client_factory: ClientFactory = make_client, store=None,
             local: LocalServer | None = None) -> AppController:
        controller = AppController(settings, store or token_store,
                                   client_factory=client_factory, theme=theme,
                                   cache=thumb_cache, local=local)
        made.append(controller)
        return controller

    yield make
    for controller in made:
        window, dialog = controller.window, controller.dialog
        controller.shutdown()
        for widget in (dialog, window):
            if widget is not None:
                widget.close()
                widget.deleteLater()


@pytest.fixture
def local_server(tmp_path: Path, fakeweb: FakeWeb, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[LocalServer]:
    """"This computer" for one test: its data folder under tmp_path (through
    PIXCRAWLER_DATA_DIR, as a user would set it), its engines pointed at the fake web. Stopped
    at the end whatever happened, so no test leaves a backend running."""
    monkeypatch.setenv("PIXCRAWLER_DATA_DIR", str(tmp_path / "local-data"))
    env = fakeweb.engine_env()
    env.update(UNLIMITED_SEARCH)
    local = LocalServer(concurrency=2, env=env)
    yield local
    local.stop()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
