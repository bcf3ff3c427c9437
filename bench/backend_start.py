"""How long the embedded backend takes to start, beside the floor any FastAPI server pays here.

Ours: `EmbeddedBackend.start()` until it returns (the API answers /health/live; issue 15's goal
is at most 1.5 s), then until every worker process has logged Celery's "ready", then `stop()`.
Measured on a new data folder (the first start migrates a new database) and on the folder of
an earlier start (what every later start is). The peer is the least a Python API server costs:
a process that imports FastAPI and uvicorn and serves one route, timed from spawn to its first
answer. Rounds alternate which side goes first.

    .venv/bin/python bench/backend_start.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pixcrawler_desktop.local.backend import EmbeddedBackend, free_port  # noqa: E402

PEER = """
import sys
from fastapi import FastAPI
import uvicorn
app = FastAPI()
@app.get("/live")
def live():
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.01)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def ours(data_dir: Path) -> tuple[float, float, float]:
    """(ready, workers ready, stop) in seconds."""
    backend = EmbeddedBackend(data_dir, concurrency=4)
    log = data_dir / "logs" / "worker.log"
    before = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
    t0 = time.perf_counter()
    backend.start()
    ready = time.perf_counter() - t0
    count = len(backend.state.worker_pids) if backend.state else 1
    wait_for(lambda: log.read_text(errors="replace").count(" ready.") >= before + count)
    workers = time.perf_counter() - t0
    t1 = time.perf_counter()
    backend.stop()
    return ready, workers, time.perf_counter() - t1


def peer() -> float:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", PEER, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/live"))
        return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {k: [] for k in (
        "new folder: ready", "new folder: workers ready", "used folder: ready",
        "used folder: workers ready", "stop", "peer: FastAPI hello world ready")}
    with tempfile.TemporaryDirectory(prefix="pixcrawler-bench-") as tmp:
        for n in range(args.rounds):
            sides = ["ours", "peer"] if n % 2 == 0 else ["peer", "ours"]
            for side in sides:
                if side == "peer":
                    rows["peer: FastAPI hello world ready"].append(peer())
                    continue
                folder = Path(tmp) / f"round{n}"
                for kind in ("new folder", "used folder"):
                    ready, workers, stop = ours(folder)
                    rows[f"{kind}: ready"].append(ready)
                    rows[f"{kind}: workers ready"].append(workers)
                    rows["stop"].append(stop)
    floor = statistics.median(rows["peer: FastAPI hello world ready"])
    print(f"{args.rounds} rounds, medians (min-max); concurrency 4")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"  {name:34s} {med:5.2f} s ({min(values):.2f}-{max(values):.2f})"
              f"  {med / floor:4.1f}x the peer")


if __name__ == "__main__":
    main()
