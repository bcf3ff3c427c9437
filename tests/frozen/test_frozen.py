"""The PyInstaller build (build.spec) as users get it: every role runs from the one folder.

Import analysis cannot see what Celery, kombu, uvicorn, SQLAlchemy and Alembic load by name
at run time, so a missing hidden import or data file only shows when that role starts. These
tests start them: a whole `cli crawl` on the embedded backend (API, worker, migrations,
validation), `--help` of every role, including the desktop app, whose imports load Qt from
the bundle, and the server roles refusing PostgreSQL, whose driver the bundle leaves out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from pixcrawler_desktop.local.state import BackendState, read_state
from tests.cli.helpers import alive, check_dataset, processes_in, served_by
from tests.fakeweb.server import FakeWeb, FakeWebConfig
from tests.frozen.conftest import BUILD_TIMEOUT, FrozenApp
from tests.support.stack import ROOT, UNLIMITED_SEARCH, wait_for

# The first test here waits for the session's build, so the limit covers it.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 600)]

NO_KEYRING = "keyring.backends.fail.Keyring"

# Loaded by name at run time: each would only fail when its role or mode starts.
LOADED_BY_NAME = [
    "worker.tasks.crawl", "worker.tasks.recovery", "worker.tasks.validation",
    "celery.loaders.app", "celery.app.amqp", "celery.app.log", "celery.app.control",
    "celery.app.events", "celery.backends.base", "celery.concurrency.thread",
    "celery.concurrency.prefork", "celery.concurrency.solo", "celery.events.state",
    "celery.worker.autoscale", "celery.worker.components", "celery.worker.consumer.consumer",
    "celery.fixups.django", "kombu.transport.filesystem", "kombu.transport.memory",
    "uvicorn.loops.auto", "uvicorn.protocols.http.auto", "uvicorn.lifespan.on",
    "sqlalchemy.dialects.sqlite.pysqlite", "limits.storage.memory",
    "keyring.backends.fail", "keyring.backends.SecretService", "email_validator",
    "PIL.WebPImagePlugin", "PIL.AvifImagePlugin",
]
# Big, and never used by any role: they must stay out.
LEFT_OUT = ["pytest", "_pytest", "tkinter", "setuptools", "pip", "celery.contrib.pytest",
            "PySide6.QtQuick", "PySide6.QtQml", "PySide6.QtNetwork", "PySide6.QtWebEngineCore",
            "sqlalchemy.dialects.mysql", "sqlalchemy.testing", "psycopg", "psycopg_binary.pq",
            "numpy.random", "numpy._core._simd", "PIL._imagingft", "pygments", "redis",
            "uvloop", "pyarrow"]


def frozen_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without PixCrawler's settings or Python's own variables (a
    frozen app must not need PYTHONPATH), a data and config folder of the test's own, and no
    keyring, so nothing touches the real user's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIXCRAWLER_", "PYTHON", "QT_"))}
    env.update({"PIXCRAWLER_DATA_DIR": str(tmp_path / "data"),
                "PIXCRAWLER_CLI_CONFIG_DIR": str(tmp_path / "cli-config"),
                **UNLIMITED_SEARCH,
                "PYTHON_KEYRING_BACKEND": NO_KEYRING})
    return env


@pytest.fixture
def web(fakeweb: FakeWeb) -> FakeWeb:
    fakeweb.config = FakeWebConfig()
    fakeweb.reset()
    return fakeweb


def test_crawl_to_a_dataset_with_the_frozen_app(frozen_app: FrozenApp, web: FakeWeb,
                                                tmp_path: Path) -> None:
    env = frozen_env(tmp_path)
    env.update(web.engine_env())
    data, out = tmp_path / "data", tmp_path / "dataset"
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as so, stderr.open("wb") as se:
        proc = subprocess.Popen(
            [str(frozen_app.executable), "cli", "crawl", "frozen fox",
             "--engines", "bing,duckduckgo", "--max-images", "6", "--out", str(out),
             "--validate", "slow", "--json"],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=so, stderr=se)
        try:
            state = _backend_started(proc, data, stderr)
            proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    errors = stderr.read_text(errors="replace")
    assert proc.returncode == 0, errors
    assert "Traceback" not in errors

    report = json.loads(stdout.read_text())
    assert (report["status"], report["interrupted"]) == ("completed", False)
    assert report["job"]["downloaded_images"] == report["dataset"]["images"] == 6
    rows = check_dataset(out, {"frozen-fox"})
    assert len(rows) == 6
    assert {r["engine"] for r in rows} == {"bing", "duckduckgo"}
    assert all(served_by(web, r) for r in rows)
    # Validation ran in the frozen worker (Pillow, numpy): every image has a verdict.
    assert report["validation"]["status"] == "completed"
    assert all(r["validation_level"] == "slow" and r["validation_status"] != "pending"
               for r in rows)

    # The backend the command started went with it.
    assert read_state(data) is None
    assert processes_in(data) == []
    assert not any(map(alive, state.pids))
    assert frozen_app.processes() == [], "a PixCrawler process outlived the command"


def test_parquet_is_refused_before_crawling_with_how_to_get_it(
        frozen_app: FrozenApp, web: FakeWeb, tmp_path: Path) -> None:
    """pyarrow stays out of the bundle (150 MB goal): the frozen server lists Parquet as not
    available, and `crawl --format parquet` says how to get it before it crawls anything."""
    env = frozen_env(tmp_path)
    env.update(web.engine_env())
    result = subprocess.run(
        [str(frozen_app.executable), "cli", "crawl", "frozen owl", "--engines", "bing",
         "--max-images", "2", "--out", str(tmp_path / "owls"), "--format", "parquet"],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=180)
    assert result.returncode != 0
    assert "--format parquet: Parquet export needs pyarrow" in result.stderr, result.stderr
    assert "pip install 'pixcrawler-desktop[parquet]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert web.hits() == 0  # nothing was searched or downloaded
    assert not (tmp_path / "owls").exists()
    assert frozen_app.processes() == []


def _backend_started(proc: subprocess.Popen, data: Path, stderr: Path) -> BackendState:
    """The embedded backend's state file, once the frozen CLI has started the backend; fails
    at once if the CLI exits before that."""
    def started() -> BackendState | None:
        if proc.poll() is not None:
            raise AssertionError(f"the frozen CLI exited early ({proc.returncode}): "
                                 f"{stderr.read_text(errors='replace')[-3000:]}")
        return read_state(data)

    state = wait_for(started, 120, "the frozen CLI to start the backend", interval=0.1)
    assert state.worker_pids and state.api_pid not in state.worker_pids
    return state


@pytest.mark.parametrize(("argv", "usage"), [
    (["api", "--help"], "usage: pixcrawler-api"),
    (["worker", "--help"], "usage: pixcrawler-worker"),
    (["cli", "--help"], "usage: pixcrawler "),
    (["--help"], "usage: pixcrawler-desktop"),  # imports the whole UI, so Qt must load
])
def test_every_role_runs_from_the_bundle(frozen_app: FrozenApp, tmp_path: Path,
                                         argv: list[str], usage: str) -> None:
    # The desktop app's Qt from the bundle, on the offscreen platform: its xcb check would
    # otherwise (rightly) stop it on a machine without the xcb libraries, such as CI's.
    env = {**frozen_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([str(frozen_app.executable), *argv], env=env, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(usage), result.stdout[:500]


@pytest.mark.parametrize(("role", "settings", "client"), [
    ("api", {"PIXCRAWLER_DATABASE_URL": "postgresql://127.0.0.1:5432/test"},
     "PostgreSQL driver"),
    ("worker", {"PIXCRAWLER_BROKER_URL": "redis://127.0.0.1:6379/15"}, "Redis client"),
])
def test_lab_server_settings_are_refused_with_the_way_to_get_one(
        frozen_app: FrozenApp, tmp_path: Path, role: str, settings: dict[str, str],
        client: str) -> None:
    """The bundle runs the app's own server (SQLite, a folder as broker); build.spec leaves
    the PostgreSQL and Redis clients out. Pointed at either, a server role says so and where
    a lab server comes from, before it starts, rather than failing at the first query."""
    env = frozen_env(tmp_path)
    env.update({"PIXCRAWLER_MODE": "server", "PIXCRAWLER_SECRET_KEY": "s" * 48, **settings})
    result = subprocess.run([str(frozen_app.executable), role], env=env, cwd=tmp_path,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"needs the {client}" in result.stderr, result.stderr
    assert "install PixCrawler with pip" in result.stderr
    assert "Traceback" not in result.stderr


def test_icu_data_keeps_what_qt_uses_and_drops_legacy_charsets(frozen_app: FrozenApp) -> None:
    """build.spec rebuilds ICU's data library without display names, transliterators and
    legacy character sets (scripts/bundle_trim.py). Collation, which Qt's file dialogs sort
    with, must still work per locale; that is what fails if the rebuilt package is
    unreadable (every lookup then falls back to nothing)."""
    lib = frozen_app.internal / "PySide6" / "Qt" / "lib"
    data = next(lib.glob("libicudata.so.*"))
    assert data.stat().st_size < 12 * 2**20  # 31 MB before
    result = subprocess.run([sys.executable, "-I", str(Path(__file__).with_name("icu_probe.py")),
                             str(lib)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    collation = probe["collation"]
    assert all(c["status"] <= 0 for c in collation.values()), collation
    # Swedish sorts Å after Z; German and English sort it with A.
    assert [collation[loc]["order"] for loc in ("sv_SE", "de_DE", "en_US")] == [1, -1, -1]
    converters = probe["converters"]
    assert converters["UTF-8"] == converters["ISO-8859-1"] == 0
    assert converters["Shift_JIS"] > 0  # its table was left out: U_FILE_ACCESS_ERROR


def _module_name(path: Path) -> str:
    """`psycopg_binary/pq.cpython-311-x86_64-linux-gnu.so` -> `psycopg_binary.pq`."""
    return ".".join((*path.parent.parts, path.name.split(".")[0]))


def test_the_bundle_holds_what_is_loaded_by_name_and_not_what_is_unused(
        frozen_app: FrozenApp) -> None:
    archive = CArchiveReader(str(frozen_app.executable))
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)  # the pure-Python ones
    present = modules | {_module_name(p.relative_to(frozen_app.internal))
                         for p in frozen_app.internal.rglob("*.so")}
    assert [m for m in LOADED_BY_NAME if m not in present] == []
    assert [m for m in LEFT_OUT if m in present] == []

    # Alembic reads the migrations as files; the app reads its resources as files.
    for folder, inside in ((ROOT / "worker" / "db" / "migrations", "worker/db/migrations"),
                           (ROOT / "resources", "resources")):
        source = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
        bundled = frozen_app.internal / inside
        assert {rel: (bundled / rel).read_bytes() for rel in source
                if (bundled / rel).is_file()} == source

    files = [p.relative_to(frozen_app.internal).as_posix()
             for p in frozen_app.internal.rglob("*")]
    assert not [f for f in files if "/translations/" in f or "libQt6Quick" in f
                or "libQt6Qml" in f or "libQt6WebEngine" in f or "_tkinter" in f]
    assert not [p for p in frozen_app.internal.rglob("*") if p.is_symlink() and not p.exists()]
