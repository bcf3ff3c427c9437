"""A CLI ended by a signal stops the local backend it started, and only that one.

The backend's API and workers run in sessions of their own (a terminal's hang-up never reaches
them), so without the CLI's handlers a SIGTERM or SIGHUP left them running as orphans.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading

import httpx
import pytest

from pixcrawler_desktop.local import EmbeddedBackend
from pixcrawler_desktop.local.state import read_state
from tests.cli.conftest import cli_env, spawn
from tests.cli.helpers import alive, assert_nothing_left, backend_of, check_dataset
from tests.support.stack import ROOT, wait_for

pytestmark = pytest.mark.slow


def stored_images(data) -> int:
    return sum(1 for p in (data / "jobs").rglob("*.jpg") if ".tmp" not in p.parts)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_during_a_crawl_stops_the_backend(tmp_path, web, sig):
    web.config.latency = 1.0  # slow enough that the crawl is still going
    data, out = tmp_path / "data", tmp_path / "dataset"
    proc = spawn(["crawl", "slow river", "--max-images", "60", "--out", str(out), "--json"],
                 cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web), tmp_path)
    backend_of(proc, data)
    wait_for(lambda: stored_images(data) >= 2, 90, "the first downloads", interval=0.05)
    state = read_state(data)  # now with every worker process
    assert state is not None and all(map(alive, state.pids))
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert_nothing_left(state, data)


class Terminal:
    """A pseudo-terminal as the CLI's stdin, stdout and stderr, read until it is closed, the
    way a terminal window that the user closes goes away."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.output = bytearray()
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.output += data
        os.close(self.master)

    def close(self) -> None:
        """Hang up: from now on the CLI's writes to it fail (EIO)."""
        self._closing.set()
        self._reader.join(10)
        os.close(self.slave)


def test_a_closed_terminal_ends_the_crawl_cleanly(tmp_path, web):
    """A real hang-up: the terminal is gone before SIGHUP arrives, so every note the CLI
    writes while it winds down would fail; it cancels the job, writes what it has and stops
    its backend all the same."""
    web.config.latency = 1.0
    data, out = tmp_path / "data", tmp_path / "dataset"
    env = cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web)
    env["PYTHONPATH"] = str(ROOT)
    terminal = Terminal()
    proc = subprocess.Popen([sys.executable, "-m", "pixcrawler_desktop.cli", "crawl",
                             "slow river", "--max-images", "60", "--out", str(out)],
                            env=env, cwd=tmp_path, stdin=terminal.slave, stdout=terminal.slave,
                            stderr=terminal.slave, start_new_session=True)
    try:
        backend_of(proc, data)
        wait_for(lambda: proc.poll() is not None or stored_images(data) >= 2, 90,
                 "the first downloads", interval=0.05)
        state = read_state(data)
        assert state is not None and proc.poll() is None, terminal.output.decode()[-2000:]
    finally:
        terminal.close()
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(120) == 130
    assert 2 <= len(check_dataset(out, {"slow-river"})) < 60
    assert_nothing_left(state, data)


def test_sigterm_while_the_backend_starts_leaves_nothing(tmp_path, web):
    data = tmp_path / "data"
    proc = spawn(["crawl", "fox", "--max-images", "5", "--out", str(tmp_path / "set")],
                 cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web), tmp_path)
    state = backend_of(proc, data)  # written as the processes are spawned, before ready
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=120)
    # 130, or (once in a CI run, not explained yet: see NOTES) the CLI ended by a SIGINT
    # after it had said "interrupted"; either way nothing may be left running.
    assert proc.returncode in (130, -signal.SIGINT), stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert_nothing_left(state, data)


def test_a_backend_the_cli_attached_to_keeps_running(tmp_path, web):
    data = tmp_path / "data"
    env = cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web)
    app = EmbeddedBackend(data, concurrency=2,
                          env={k: v for k, v in env.items() if k.startswith("PIXCRAWLER_")})
    try:
        url = app.start()
        web.config.latency = 1.0
        proc = spawn(["crawl", "slow river", "--max-images", "60", "--out",
                      str(tmp_path / "set")], env, tmp_path)
        wait_for(lambda: proc.poll() is not None or stored_images(data) >= 2, 90,
                 "the first downloads", interval=0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGHUP)
        _stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert "attached to the backend" in stderr
        assert "Stopping the local backend" not in stderr
        assert all(map(alive, app.state.pids))
        assert httpx.get(f"{url}/api/v1/health/live").status_code == 200
        assert read_state(data) == app.state
    finally:
        app.stop()
