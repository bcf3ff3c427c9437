"""Embedded mode: the app's own backend (API + worker child processes) on one data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import psutil
import pytest

from pixcrawler_desktop.local import EmbeddedBackend, local_credentials
from pixcrawler_desktop.local.backend import worker_processes
from pixcrawler_desktop.local.state import BackendState, read_state, write_state
from tests.support.stack import UNLIMITED_SEARCH, wait_for

pytestmark = pytest.mark.slow


def backend_env(fakeweb) -> dict[str, str]:
    env = fakeweb.engine_env()
    env.update({**UNLIMITED_SEARCH,
                "PIXCRAWLER_CHUNK_HEARTBEAT": "0.5", "PIXCRAWLER_CHUNK_STALE_AFTER": "3",
                "PIXCRAWLER_RECOVERY_INTERVAL": "0.5"})
    return env


def signed_in(api_url: str, data_dir) -> httpx.Client:
    email, password = local_credentials(data_dir)
    client = httpx.Client(base_url=f"{api_url}/api/v1", timeout=30)
    client.post("/auth/register", json={"email": email, "password": password})
    token = client.post("/auth/login", json={"email": email, "password": password})
    assert token.status_code == 200, token.text
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def crawl(client: httpx.Client, keyword: str, n: int) -> dict:
    job = client.post("/jobs", json={"name": keyword, "keywords": [keyword],
                                     "engines": ["bing", "duckduckgo"], "max_images": n}).json()
    assert client.post(f"/jobs/{job['id']}/start").status_code == 200
    return job


def finished(client: httpx.Client, job_id: int) -> dict:
    def done():
        p = client.get(f"/jobs/{job_id}/progress").json()
        return p if p["status"] in {"completed", "failed", "cancelled"} else None

    return wait_for(done, 90, f"job {job_id} to finish", interval=0.2)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_lifecycle_attach_restart_and_quit(tmp_path, fakeweb):
    data = tmp_path / "data"
    events: list[str] = []
    backend = EmbeddedBackend(data, concurrency=2, env=backend_env(fakeweb),
                              on_event=events.append)
    second = EmbeddedBackend(data)
    try:
        url = backend.start()
        assert url.startswith("http://127.0.0.1:")
        # Ready once the API answers; the worker, started alongside, joins within moments.
        wait_for(lambda: httpx.get(f"{url}/api/v1/health").json()["status"] == "ok", 60,
                 "the worker to answer")
        assert backend.status()["api"] == backend.status()["worker"] == "running"
        # A worker process per core, the threads split between them.
        assert len(backend.state.worker_pids) == worker_processes(2) == min(os.cpu_count(), 2)

        assert second.start() == url and not second.owned
        second.stop()  # an attached instance leaves the backend running
        assert httpx.get(f"{url}/api/v1/health").status_code == 200

        client = signed_in(url, data)
        first = crawl(client, "embedded one", 6)
        assert finished(client, first["id"])["status"] == "completed"

        fakeweb.config.latency = 0.1
        job = crawl(client, "embedded two", 40)
        wait_for(lambda: client.get(f"/jobs/{job['id']}/progress").json()["downloaded_images"],
                 60, "the first downloads")
        old_worker = backend.state.worker_pids[-1]
        os.kill(old_worker, signal.SIGKILL)
        wait_for(lambda: old_worker not in backend.state.worker_pids
                 and backend.status()["worker"] == "running", 30, "the worker to be restarted")
        assert any("restarting" in e for e in events)
        final = finished(client, job["id"])
        assert final["status"] == "completed" and final["downloaded_images"] == 40
        pids = backend.state.pids
    finally:
        second.stop()  # stops only what it started, should it have started anything
        backend.stop()
    assert not any(alive(pid) for pid in pids), "quitting left a backend process behind"
    assert read_state(data) is None


def test_stale_backend_of_a_crashed_app_is_ended(tmp_path, fakeweb):
    data = tmp_path / "data"
    crashed = EmbeddedBackend(data, concurrency=1, env=backend_env(fakeweb))
    crashed.start()
    crashed._stop.set()  # the app "crashes": its watchdog is gone, its children keep running
    old = crashed.state
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_state(data, BackendState(old.port, old.api_pid, old.worker_pids, gone.pid))

    fresh = EmbeddedBackend(data, concurrency=1, env=backend_env(fakeweb))
    try:
        url = fresh.start()
        assert fresh.owned and fresh.state.api_pid != old.api_pid
        wait_for(lambda: not any(map(alive, old.pids)), 15,
                 "the stale processes to end")
        assert httpx.get(f"{url}/api/v1/health").status_code == 200
    finally:
        fresh.stop()
        for proc in (crashed._api, *crashed._workers):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait(5)


def test_a_state_file_of_one_worker_is_still_read(tmp_path):
    (tmp_path / "backend.json").write_text(
        '{"port": 1234, "api_pid": 10, "worker_pid": 11, "owner_pid": 12}')
    assert read_state(tmp_path) == BackendState(1234, 10, [11], 12)
