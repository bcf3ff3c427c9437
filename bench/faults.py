"""Faults against real processes, each run N times, and what every job said afterwards.

    .venv/bin/python bench/faults.py [--runs 3] [--faults kill-worker,kill-api,...]

Faults: kill-worker (SIGKILL mid-job, a new worker starts), kill-api (SIGKILL mid-job, the API
starts again), redis-restart (a Redis without persistence stops for a few seconds and comes
back empty), disk-full (the data folder is a 20 MB tmpfs), cancel (at a random moment).
The server-mode faults run on PostgreSQL + Redis, disk-full on SQLite (it needs root to mount).

Each job must end by itself. The table says, over all runs of a fault: jobs that ended by
themselves (and how), image rows, files, files without a row ("orphans"), rows without a file
("lost"), temp downloads left (".part"), sha256 stored twice ("dup"), files that appeared after
a cancel had answered ("late"), and the median seconds from the fault to the job's end.
Every orphan, lost, .part, dup and late column must read 0.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakeweb.server import FakeWeb, FakeWebConfig  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.stack import Stack, wait_for  # noqa: E402

FINISHED = {"completed", "failed", "cancelled"}
ALL_FAULTS = ["kill-worker", "kill-api", "redis-restart", "disk-full", "cancel"]


@dataclass
class Tally:
    runs: int = 0
    ended: collections.Counter = field(default_factory=collections.Counter)
    rows: int = 0
    files: int = 0
    orphans: int = 0
    lost: int = 0
    parts: int = 0
    dups: int = 0
    late: int = 0
    seconds: list[float] = field(default_factory=list)


class Run:
    """One deployment and a signed-in client; a job at a time."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.client = httpx.Client(base_url=f"{stack.api_url}/api/v1", timeout=30)
        email = f"faults-{uuid.uuid4().hex[:8]}@example.com"
        self.client.post("/auth/register", json={"email": email, "password": "fault bench"})
        token = self.client.post("/auth/login", json={"email": email, "password": "fault bench"})
        self.client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def start(self, keywords: list[str], engines: list[str], max_images: int) -> int:
        r = self.client.post("/jobs", json={"name": "faults", "keywords": keywords,
                                            "engines": engines, "max_images": max_images})
        r.raise_for_status()
        job_id = r.json()["id"]
        self.client.post(f"/jobs/{job_id}/start").raise_for_status()
        return job_id

    def get(self, path: str) -> dict | list:
        """GET that outlasts an API that is restarting."""
        def attempt():
            try:
                r = self.client.get(path)
            except httpx.TransportError:
                return None
            return r.json() if r.status_code == 200 else None

        return wait_for(attempt, 60, f"GET {path}", interval=0.2)

    def downloaded(self, job_id: int) -> int:
        return self.get(f"/jobs/{job_id}/progress")["downloaded_images"]

    def wait_end(self, job_id: int, timeout: float) -> str | None:
        try:
            return wait_for(lambda: (p := self.get(f"/jobs/{job_id}/progress"))["status"]
                            in FINISHED and p["status"], timeout, f"job {job_id}", interval=0.2)
        except AssertionError:
            return None

    def count(self, tally: Tally, job_id: int) -> None:
        rows, page = [], 1
        while True:
            body = self.get(f"/jobs/{job_id}/images?page={page}&page_size=500")
            rows += body["items"]
            if len(rows) >= body["total"] or not body["items"]:
                break
            page += 1
        job_dir = self.stack.data_dir / "jobs" / str(job_id)
        files = {p.relative_to(self.stack.data_dir).as_posix() for p in job_dir.rglob("*")
                 if p.is_file() and ".tmp" not in p.relative_to(job_dir).parts}
        paths = {r["file_path"] for r in rows}
        tally.rows += len(rows)
        tally.files += len(files)
        tally.orphans += len(files - paths)
        tally.lost += len(paths - files)
        tally.parts += sum(1 for p in (job_dir / ".tmp").rglob("*") if p.is_file())
        tally.dups += len(rows) - len({r["sha256"] for r in rows})


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def files_of(stack: Stack, job_id: int) -> set[Path]:
    job_dir = stack.data_dir / "jobs" / str(job_id)
    return {p for p in job_dir.rglob("*") if p.is_file() and ".tmp" not in p.parts}


def kill_worker(run: Run, tally: Tally, rng: random.Random) -> None:
    job = run.start([f"kw {i}" for i in range(4)], ["bing", "duckduckgo"], 120)
    wait_for(lambda: run.downloaded(job) >= rng.randint(5, 150), 120, "downloads")
    for proc in run.stack.workers:
        if proc.poll() is None:
            kill(proc)
    at = time.monotonic()
    run.stack.start_worker()
    finish(run, tally, job, at)


def kill_api(run: Run, tally: Tally, rng: random.Random) -> None:
    job = run.start([f"kw {i}" for i in range(4)], ["bing", "duckduckgo"], 120)
    wait_for(lambda: run.downloaded(job) >= rng.randint(5, 150), 120, "downloads")
    kill(run.stack.api)
    at = time.monotonic()
    run.stack.start_api(int(run.stack.api_url.rsplit(":", 1)[1]))
    finish(run, tally, job, at)


def redis_restart(run: Run, tally: Tally, rng: random.Random, redis: RedisServer) -> None:
    job = run.start([f"kw {i}" for i in range(6)], ["bing", "duckduckgo"], 60)
    wait_for(lambda: run.downloaded(job) >= rng.randint(5, 60), 120, "downloads")
    redis.stop()
    at = time.monotonic()
    time.sleep(rng.uniform(2, 8))  # the outage itself
    redis.start()
    finish(run, tally, job, at)


def disk_full(run: Run, tally: Tally, _rng: random.Random) -> None:
    job = run.start(["big one", "big two"], ["bing", "duckduckgo"], 400)
    # Started with room for its estimate; then the disk turns out to be 20 MB.
    subprocess.run(["mount", "-o", "remount,size=20m", str(run.stack.data_dir)], check=True)
    at = time.monotonic()
    finish(run, tally, job, at)


def cancel(run: Run, tally: Tally, rng: random.Random) -> None:
    job = run.start([f"kw {i}" for i in range(2)], ["bing", "duckduckgo"], 200)
    wait_for(lambda: run.downloaded(job) >= rng.randint(0, 150), 120, "downloads")
    run.client.post(f"/jobs/{job}/cancel")
    at = time.monotonic()
    answered = files_of(run.stack, job)
    status = run.wait_end(job, 60)
    time.sleep(3)  # the tasks stop within a second; a late file would show by then
    tally.late += len(files_of(run.stack, job) - answered)
    record(run, tally, job, status, at)


def finish(run: Run, tally: Tally, job: int, at: float) -> None:
    status = run.wait_end(job, 300)
    record(run, tally, job, status, at)


def record(run: Run, tally: Tally, job: int, status: str | None, at: float) -> None:
    tally.runs += 1
    tally.ended[status or "still running"] += 1
    if status is not None:
        tally.seconds.append(time.monotonic() - at)
    run.count(tally, job)


def deploy(kind: str, workdir: Path, web: FakeWeb, **env: str) -> Stack:
    stack = Stack(kind, workdir, web.engine_urls())
    stack.env.update(env)
    stack.start_api()
    stack.start_worker()
    return stack


def scenario(name: str, runs: int, web: FakeWeb, tmp: Path, rng: random.Random) -> Tally:
    tally = Tally()
    workdir = tmp / name
    web.config = FakeWebConfig(results_per_keyword=300, latency=0.05)
    redis: RedisServer | None = None
    env: dict[str, str] = {}
    kind = "postgres"
    step: Callable[[Run, Tally, random.Random], None]
    if name == "redis-restart":
        redis = RedisServer(tmp)
        redis.start()
        env["PIXCRAWLER_BROKER_URL"] = redis.url
        step = lambda run, t, r: redis_restart(run, t, r, redis)  # noqa: E731
    elif name == "disk-full":
        kind, step = "sqlite", disk_full
        web.config = FakeWebConfig(results_per_keyword=500, image_size=(1024, 768))
        env |= {"PIXCRAWLER_DISK_START_MIN_MB": "1", "PIXCRAWLER_DISK_STOP_BELOW_MB": "6"}
    else:
        step = {"kill-worker": kill_worker, "kill-api": kill_api, "cancel": cancel}[name]
    for i in range(runs):
        data = workdir / str(i) / "data"
        data.mkdir(parents=True)
        if name == "disk-full":
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2g", "tmpfs", str(data)],
                           check=True)
        stack = deploy(kind, workdir / str(i), web, **env)
        try:
            step(Run(stack), tally, rng)
        finally:
            stack.close()
            if name == "disk-full":
                subprocess.run(["umount", "-l", str(data)], check=False)
    if redis is not None:
        redis.stop()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faults", default=",".join(ALL_FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    header = ("fault", "runs", "ended by itself", "rows", "files", "orphans", "lost", ".part",
              "dup", "late", "s to end")
    lines = [header]
    with FakeWeb(config=FakeWebConfig()) as web, \
            tempfile.TemporaryDirectory(prefix="pixcrawler-faults-", dir=ROOT / "bench") as t:
        for name in args.faults.split(","):
            tally = scenario(name, args.runs, web, Path(t), rng)
            ended = ", ".join(f"{n} {s}" for s, n in sorted(tally.ended.items()))
            median = f"{statistics.median(tally.seconds):.1f}" if tally.seconds else "-"
            lines.append((name, str(tally.runs), ended, str(tally.rows), str(tally.files),
                          str(tally.orphans), str(tally.lost), str(tally.parts),
                          str(tally.dups), str(tally.late), median))
            print(f"{name}: done", file=sys.stderr, flush=True)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for row in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
