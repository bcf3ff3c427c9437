"""Start, watch and stop the embedded backend: the API and Celery workers as child processes.

The workers are one process per core (at most the concurrency), the threads split between
them: one Python process runs one thread at a time, and a crawl with many chunks keeps more
than one core busy.

One backend per data folder: a file lock serialises starts, and the state file lets a second
app instance attach to the running backend instead of starting another. A worker that dies is
started again; processes left behind by a crashed app are found and ended on the next start.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
from filelock import FileLock, Timeout

from pixcrawler_desktop.local.state import (
    BackendState,
    clear_state,
    our_process,
    pid_alive,
    read_state,
    stop_processes,
    write_state,
)

RESTARTS_PER_MINUTE = 5


def worker_processes(concurrency: int) -> int:
    """One worker process per core, no more than there are threads to give them."""
    return max(1, min(os.cpu_count() or 1, concurrency))


class BackendError(Exception):
    """The backend could not be started; the message says why, in one line."""


def role_command(role: str) -> list[str]:
    """This program re-run with a role: `app api` when frozen, `python -m pixcrawler_desktop api`
    from source."""
    if getattr(sys, "frozen", False):
        return [sys.executable, role]
    return [sys.executable, "-m", "pixcrawler_desktop", role]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(api_url: str, timeout: float = 2.0, path: str = "/api/v1/health",
           client: httpx.Client | None = None) -> dict | None:
    """The health answer, or None. Pass a `client` when polling: each new httpx client builds
    an SSL context (about 20 ms of CPU), which a 50 ms poll took from the starting API."""
    try:
        r = (client or httpx).get(f"{api_url}{path}", timeout=timeout)
        return r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


class EmbeddedBackend:
    def __init__(self, data_dir: Path, *, concurrency: int = 4,
                 env: dict[str, str] | None = None,
                 on_event: Callable[[str], None] | None = None) -> None:
        self.data_dir = data_dir
        self.logs_dir = data_dir / "logs"
        self.concurrency = concurrency
        self.extra_env = dict(env or {})
        self.on_event = on_event or (lambda _msg: None)
        self.state: BackendState | None = None
        self.owned = False
        self._api: subprocess.Popen | None = None
        self._workers: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._restarts: list[float] = []
        self._lock = threading.RLock()

    # -- public ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        if self.state is None:
            raise BackendError("the embedded backend is not running")
        return self.state.api_url

    def start(self, timeout: float = 90.0) -> str:
        """Attach to this data folder's running backend, or start one; returns the API URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(exist_ok=True)
        try:
            with FileLock(str(self.data_dir / "backend.lock"), timeout=timeout):
                existing = read_state(self.data_dir)
                if existing and pid_alive(existing.owner_pid) and health(existing.api_url):
                    self.state, self.owned = existing, False
                    self.on_event(f"attached to the backend at {existing.api_url}")
                    return existing.api_url
                if existing:
                    self._end_stale(existing)
                self._launch(timeout)
        except Timeout:
            raise BackendError(f"another PixCrawler is starting the backend in {self.data_dir}; "
                               "try again in a moment") from None
        return self.api_url

    def stop(self, grace: float = 10.0) -> None:
        """Stop the processes this instance started; an attached instance leaves them running.
        `grace`: seconds they get to end on their own before they are killed (the app's quit
        passes a short one: a chunk killed mid-way resumes on the next start)."""
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(5)
        with self._lock:
            if self.owned:
                _stop_children([*self._workers, self._api], grace)
                clear_state(self.data_dir)
            self._api, self._workers = None, []
            self.owned = False

    def restart(self, timeout: float = 90.0) -> str:
        self.stop()
        self.state = None
        return self.start(timeout)

    def restart_worker(self) -> None:
        with self._lock:
            if not self.owned:
                raise BackendError("this window did not start the backend; restart it from the "
                                   "window that did")
            _stop_children(self._workers)
            self._workers = self._spawn_workers()
            self._save_state()

    def status(self) -> dict:
        def state_of(proc: subprocess.Popen | None, pid: int | None) -> str:
            if proc is not None:
                return "running" if proc.poll() is None else "stopped"
            return "running" if pid and our_process(pid) else "stopped"

        s = self.state
        pids = s.worker_pids if s else []
        workers = [state_of(proc, pid) for proc, pid in
                   zip(self._workers or [None] * len(pids), pids, strict=False)]
        return {
            "api": state_of(self._api, s.api_pid if s else None),
            "worker": "running" if workers and set(workers) == {"running"} else "stopped",
            "url": s.api_url if s else None,
            "data_dir": str(self.data_dir),
            "owned": self.owned,
            "concurrency": self.concurrency,
        }

    def log_tail(self, role: str, max_bytes: int = 20_000) -> str:
        path = self.logs_dir / f"{role}.log"
        try:
            with path.open("rb") as fh:
                fh.seek(max(0, path.stat().st_size - max_bytes))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    # -- internals ---------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"PIXCRAWLER_MODE": "embedded", "PIXCRAWLER_DATA_DIR": str(self.data_dir),
                    "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        return env

    def _spawn_workers(self, numbers: range | None = None) -> list[subprocess.Popen]:
        count = worker_processes(self.concurrency)
        return [self._spawn("worker", number=n, threads=-(-self.concurrency // count))
                for n in (range(count) if numbers is None else numbers)]

    def _spawn(self, role: str, port: int | None = None, number: int = 0,
               threads: int = 1) -> subprocess.Popen:
        """The API, or worker `number` (its own Celery node name) with `threads` threads; the
        workers share worker.log."""
        args = ["--port", str(port), "--log-level", "warning"] if role == "api" else [
            "--concurrency", str(threads), "--loglevel", "INFO", "--hostname", f"w{number}@%h"]
        log = open(self.logs_dir / f"{role}.log", "ab")  # noqa: SIM115 - owned by the child
        try:
            kwargs: dict = {"start_new_session": True} if os.name != "nt" else {
                "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
            return subprocess.Popen([*role_command(role), *args], env=self._env(),
                                    stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.data_dir, **kwargs)
        finally:
            log.close()

    def _launch(self, timeout: float) -> None:
        """The API and all but one core's worker at once, the rest once the API serves: an
        API that shares its core with a starting worker takes twice as long to be ready, and
        a worker's start is mostly imports that need a core of their own as well."""
        port = free_port()
        count = worker_processes(self.concurrency)
        first = min(count, max(1, (os.cpu_count() or 1) - 1))
        self._api = self._spawn("api", port)
        self._workers = self._spawn_workers(range(first))
        self.owned = True
        self.state = BackendState(port, self._api.pid, [w.pid for w in self._workers],
                                  os.getpid())
        write_state(self.data_dir, self.state)
        try:
            self._wait_healthy(timeout)
        except BackendError:
            self.stop()
            raise
        if first < count:
            with self._lock:
                self._workers += self._spawn_workers(range(first, count))
                self._save_state()
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name="backend-watchdog",
                                          daemon=True)
        self._watchdog.start()
        self.on_event(f"started the backend at {self.state.api_url}")

    def _wait_healthy(self, timeout: float) -> None:
        """Until the API serves (/health/live). The worker is not waited for: it starts
        alongside, and what is sent meanwhile waits in the broker for it (waiting for its
        ping added a second or two to every start). One that dies while starting is said."""
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                for role, proc in (("api", self._api), *(("worker", w) for w in self._workers)):
                    if proc is not None and proc.poll() is not None:
                        last = self.log_tail(role, 2000).strip().splitlines()[-1:] or [
                            "no output"]
                        raise BackendError(f"the {role} stopped while starting: {last[0]}")
                if health(self.api_url, path="/api/v1/health/live", client=client):
                    return
                time.sleep(0.05)
        raise BackendError(f"the backend did not become healthy within {timeout:.0f} s "
                           f"(logs in {self.logs_dir})")

    def _end_stale(self, state: BackendState) -> None:
        """End processes a crashed app left running for this data folder."""
        stale = [p for p in map(our_process, state.pids) if p is not None]
        for proc in stale:
            self.on_event(f"ending a stale backend process (pid {proc.pid})")
        stop_processes(stale)
        clear_state(self.data_dir)

    def _save_state(self) -> None:
        assert self.state is not None and self._api is not None
        self.state = BackendState(self.state.port, self._api.pid,
                                  [w.pid for w in self._workers], os.getpid())
        write_state(self.data_dir, self.state)

    def _watch(self) -> None:
        """Restart a worker or API that died, a few times a minute at most."""
        while not self._stop.wait(0.5):
            with self._lock:
                dead = [("worker", n) for n, w in enumerate(self._workers) if w.poll() is not None]
                if self._api is not None and self._api.poll() is not None:
                    dead.append(("api", 0))
                for role, number in dead:
                    if self._stop.is_set():
                        break
                    now = time.monotonic()
                    self._restarts = [t for t in self._restarts if now - t < 60]
                    if len(self._restarts) >= RESTARTS_PER_MINUTE:
                        continue
                    self._restarts.append(now)
                    proc = self._workers[number] if role == "worker" else self._api
                    assert proc is not None
                    self.on_event(f"the {role} stopped (exit {proc.returncode}); restarting it")
                    if role == "worker":
                        self._workers[number] = self._spawn(
                            "worker", number=number,
                            threads=-(-self.concurrency // len(self._workers)))
                    else:
                        self._api = self._spawn("api", self.state.port if self.state else None)
                    self._save_state()


def _stop_children(procs: list[subprocess.Popen | None], grace: float = 10.0) -> None:
    running = [p for p in procs if p is not None and p.poll() is None]
    found = []
    for proc in running:
        with contextlib.suppress(psutil.NoSuchProcess):
            found.append(psutil.Process(proc.pid))
    stop_processes(found, grace)
    for proc in running:
        proc.wait(5)  # reap it, so no zombie is left behind
