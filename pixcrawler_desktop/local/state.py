"""The state file of a running embedded backend, shared by every app instance on the data folder.

It names the API port and the process ids, so a second instance attaches instead of starting
another backend, and the next start after a crash can find and end what was left running.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

STATE_FILE = "backend.json"


@dataclass
class BackendState:
    port: int
    api_pid: int
    worker_pids: list[int]  # one worker process per core (each with its threads)
    owner_pid: int  # the app process that started (and will stop) the backend

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pids(self) -> list[int]:
        return [self.api_pid, *self.worker_pids]


def read_state(data_dir: Path) -> BackendState | None:
    try:
        data = json.loads((data_dir / STATE_FILE).read_text())
        if "worker_pid" in data:  # written by a version with one worker process
            data["worker_pids"] = [data.pop("worker_pid")]
        return BackendState(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_state(data_dir: Path, state: BackendState) -> None:
    """Written whole to a temporary file and moved into place, so readers never see half."""
    path = data_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state)))
    os.replace(tmp, path)


def clear_state(data_dir: Path) -> None:
    (data_dir / STATE_FILE).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def our_process(pid: int) -> psutil.Process | None:
    """The process if it is alive and is one of ours (a PixCrawler role), else None; a reused
    pid of some unrelated program is never touched."""
    try:
        proc = psutil.Process(pid)
        cmdline = " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return None
    if proc.status() == psutil.STATUS_ZOMBIE:
        return None
    return proc if "pixcrawler" in cmdline.lower() else None


def stop_processes(roots: list[psutil.Process], timeout: float = 10.0) -> None:
    """Ask politely (SIGTERM: Celery's warm shutdown, uvicorn's graceful stop), then insist.
    All are asked first, with their children, so their shutdowns overlap."""
    procs = [p for root in roots for p in (root, *_children(root))]
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []
