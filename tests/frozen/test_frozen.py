"""The PyInstaller build (build.spec) as users get it: every role runs from the one folder.

Import analysis cannot see what Celery, kombu, uvicorn, SQLAlchemy and Alembic load by name
at run time, so a missing hidden import or data file only shows when that role starts. These
tests start them: a whole `cli crawl` on the embedded backend (API, worker, migrations,
validation), the server roles on PostgreSQL + Redis with the prefork pool, and `--help` of
every role, including the desktop app, whose imports load Qt from the bundle.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from pixcrawler_desktop.local.state import BackendState, read_state
from tests.cli.helpers import alive, check_dataset, processes_in, served_by
from tests.conftest import require_services
from tests.fakeweb.server import FakeWeb, FakeWebConfig
from tests.frozen.conftest import BUILD_TIMEOUT, FrozenApp
from tests.support.stack import ROOT, Stack, wait_for

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
    "celery.fixups.django", "kombu.transport.filesystem", "kombu.transport.redis",
    "kombu.transport.memory", "uvicorn.loops.auto", "uvicorn.protocols.http.auto",
    "uvicorn.lifespan.on", "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg", "limits.storage.memory", "limits.storage.redis",
    "keyring.backends.fail", "keyring.backends.SecretService", "email_validator",
    "PIL.WebPImagePlugin", "PIL.AvifImagePlugin",
]
# Big, and never used by any role: they must stay out.
LEFT_OUT = ["pytest", "_pytest", "tkinter", "setuptools", "pip", "celery.contrib.pytest",
            "PySide6.QtQuick", "PySide6.QtQml", "PySide6.QtNetwork", "PySide6.QtWebEngineCore",
            "sqlalchemy.dialects.mysql", "sqlalchemy.testing"]


def frozen_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without PixCrawler's settings or Python's own variables (a
    frozen app must not need PYTHONPATH), a data and config folder of the test's own, and no
    keyring, so nothing touches the real user's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIXCRAWLER_", "PYTHON", "QT_"))}
    env.update({"PIXCRAWLER_DATA_DIR": str(tmp_path / "data"),
                "PIXCRAWLER_CLI_CONFIG_DIR": str(tmp_path / "cli-config"),
                "PIXCRAWLER_SEARCH_RATE_LIMIT": "6000/minute",
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
    assert not alive(state.api_pid) and not alive(state.worker_pid)
    assert frozen_app.processes() == [], "a PixCrawler process outlived the command"


def _backend_started(proc: subprocess.Popen, data: Path, stderr: Path) -> BackendState:
    """The embedded backend's state file, once the frozen CLI has started the backend; fails
    at once if the CLI exits before that."""
    def started() -> BackendState | None:
        if proc.poll() is not None:
            raise AssertionError(f"the frozen CLI exited early ({proc.returncode}): "
                                 f"{stderr.read_text(errors='replace')[-3000:]}")
        return read_state(data)

    state = wait_for(started, 120, "the frozen CLI to start the backend", interval=0.1)
    assert state.api_pid != state.worker_pid
    return state


@pytest.mark.parametrize(("argv", "usage"), [
    (["api", "--help"], "usage: pixcrawler-api"),
    (["worker", "--help"], "usage: pixcrawler-worker"),
    (["cli", "--help"], "usage: pixcrawler "),
    (["--help"], "usage: pixcrawler-desktop"),  # imports the whole UI, so Qt must load
])
def test_every_role_runs_from_the_bundle(frozen_app: FrozenApp, tmp_path: Path,
                                         argv: list[str], usage: str) -> None:
    result = subprocess.run([str(frozen_app.executable), *argv], env=frozen_env(tmp_path),
                            cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(usage), result.stdout[:500]


class FrozenStack(Stack):
    """The test deployment (tests/support/stack.py), its roles run from the bundle."""

    def __init__(self, app: FrozenApp, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def _spawn(self, role: str, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.logs / f"{log_name}.log", "ab")  # noqa: SIM115 - lives with the process
        return subprocess.Popen([str(self.app.executable), role, *args], cwd=self.workdir,
                                env=self.process_env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.postgres
@pytest.mark.redis
def test_server_mode_on_postgres_and_redis_from_the_bundle(frozen_app: FrozenApp, web: FakeWeb,
                                                           users, tmp_path: Path) -> None:
    """psycopg's compiled driver, the Redis transport and limits' Redis storage, and Celery's
    prefork pool are only used in server mode."""
    require_services("postgres")
    stack = FrozenStack(frozen_app, "postgres", tmp_path, web.engine_urls())
    try:
        stack.start_api()
        stack.start_worker()
        user = users(stack)
        job = user.client.post("/jobs", json={"name": "frozen", "keywords": ["frozen owl"],
                                              "engines": ["bing", "duckduckgo"],
                                              "max_images": 4})
        assert job.status_code == 201, job.text
        job_id = job.json()["id"]
        assert user.client.post(f"/jobs/{job_id}/start").status_code == 200

        def finished() -> dict | None:
            progress = user.client.get(f"/jobs/{job_id}/progress").json()
            return progress if progress["status"] not in {"pending", "running"} else None

        progress = wait_for(finished, 120, "the job to finish", interval=0.2)
        assert progress["status"] == "completed", stack.log("worker-w0")
        images = user.client.get(f"/jobs/{job_id}/images").json()
        assert images["total"] == 4
        health = user.client.get("/health").json()
        assert health["database"]["ok"] and health["broker"]["ok"], health
    finally:
        stack.close()
    assert frozen_app.processes() == []


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
    assert "psycopg_binary.pq" in present  # psycopg's compiled implementation
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
