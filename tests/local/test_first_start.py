"""A brand-new data folder's first start: the worker waits for the API's migration before its
recovery sweep, instead of logging "no such table: chunks"."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx
import psutil
import pytest

from pixcrawler_desktop.local import EmbeddedBackend
from pixcrawler_desktop.local.backend import free_port
from pixcrawler_desktop.local.state import stop_processes
from tests.support.stack import ROOT, wait_for
from worker.db.migrate import HEAD, current_revision
from worker.settings import Settings
from worker.tasks.recovery import wait_for_migration

pytestmark = pytest.mark.slow

NOISE = ("no such table", "recovery sweep failed", "could not look for chunks")


def role(name: str, args: list[str], data, log) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
    env.update({"PIXCRAWLER_MODE": "embedded", "PIXCRAWLER_DATA_DIR": str(data),
                "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)})
    with open(log, "ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "pixcrawler_desktop", name, *args],
                                env=env, cwd=data, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_a_worker_before_the_api_waits_for_the_migration(tmp_path):
    """The worker alone on a new database: it waits (its poll makes the empty database
    file); the API then migrates, and the worker starts without an error."""
    data = tmp_path / "data"
    data.mkdir()
    log = tmp_path / "worker.log"
    worker = role("worker", ["--concurrency", "1", "--loglevel", "INFO"], data, log)
    api = None
    try:
        wait_for(lambda: worker.poll() is not None or (data / "pixcrawler.db").exists(), 90,
                 "the worker to look at the database")
        assert worker.poll() is None, log.read_text()
        assert " ready." not in log.read_text()  # held back: the tables are not there
        api = role("api", ["--port", str(free_port()), "--log-level", "warning"], data,
                   tmp_path / "api.log")
        wait_for(lambda: worker.poll() is not None or " ready." in log.read_text(), 120,
                 "the worker to be ready")
        text = log.read_text()
        assert worker.poll() is None, text
        assert not [n for n in NOISE if n in text], text
        assert current_revision(Settings(data_dir=data).database_url) == HEAD
    finally:
        stop_processes([psutil.Process(p.pid) for p in (worker, api)
                        if p is not None and p.poll() is None])
        for p in (worker, api):
            if p is not None:
                p.wait(10)


def test_the_embedded_backends_first_start_logs_no_missing_table(tmp_path, fakeweb):
    data = tmp_path / "data"
    backend = EmbeddedBackend(data, concurrency=2, env=fakeweb.engine_env())
    try:
        url = backend.start()
        wait_for(lambda: httpx.get(f"{url}/api/v1/health").json()["status"] == "ok", 90,
                 "the worker to answer")
        text = backend.log_tail("worker", 200_000)
        assert " ready." in text
        assert not [n for n in NOISE if n in text], text
    finally:
        backend.stop()


def test_the_wait_is_bounded_and_says_why(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    with caplog.at_level(logging.WARNING, logger="worker.tasks.recovery"):
        assert wait_for_migration(url, timeout=0.3) is False
    assert f"at migration none, not {HEAD}" in caplog.text
    assert "is it running?" in caplog.text
