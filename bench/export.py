"""MB/s of GET /jobs/{id}/export (the streamed dataset zip) against Info-ZIP `zip -r` of the
same files, store mode (`zip -0`, the like-for-like peer: images are stored, not compressed, by
both) and the default (deflate), side by side in one run.

Corpus: ``--images`` random-byte files of ``--kb`` KB (incompressible, like JPEGs) under 10
keywords of one job, rows inserted straight into the API's database and files written into its
data folder, so every side reads the same files from the page cache. Every zip is read from a
pipe by this process and dropped: the API's through `curl` (HTTP, chunked), zip's from its
stdout (`zip -r -`). MB/s is image bytes per wall second, median of the rounds, which alternate
the order of the sides. CPU is the producer's own CPU time (the API process, or zip), which
other load on the machine disturbs less than wall time.

    TMPDIR=/dev/shm .venv/bin/python bench/export.py [--images 3000] [--kb 150] [--rounds 5] \
        [--backend postgres]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, make_job, signed_in
from tests.export.helpers import add_images, chunk_ids, image_values
from worker.db.session import session_scope

READ = 1024 * 1024
Side = Callable[[], tuple[int, float]]  # -> (archive bytes, producer CPU seconds)


def build(stack, job_id: int, images: int, size: int) -> int:
    """Rows in one insert, files written directly; returns the image bytes."""
    with session_scope(stack.settings()) as db:
        chunks = chunk_ids(db, job_id)
        rows = []
        for n in range(images):
            keyword = f"kw {n % 10}"
            data = os.urandom(size)
            rows.append((image_values(job_id, chunks[keyword, "bing"], keyword, n, data), data))
        add_images(db, stack.data_dir, job_id, rows)
    return images * size


def counted(command: list[str], cwd: Path | None = None) -> int:
    """Run a command that writes a zip to stdout; read it all through a pipe, return its size."""
    total = 0
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE) as proc:
        while piece := proc.stdout.read(READ):
            total += len(piece)
    if proc.returncode:
        raise SystemExit(f"{command[0]} failed with exit status {proc.returncode}")
    return total


def cpu_seconds(times) -> float:
    return times.user + times.system


def api_side(stack, auth: str, job_id: int) -> Side:
    url = f"{stack.api_url}/api/v1/jobs/{job_id}/export"
    api = psutil.Process(stack.api.pid)

    def run() -> tuple[int, float]:
        before = cpu_seconds(api.cpu_times())
        size = counted(["curl", "-sSf", "-H", f"Authorization: {auth}", url])
        return size, cpu_seconds(api.cpu_times()) - before

    return run


def zip_side(folder: Path, *flags: str) -> Side:
    def run() -> tuple[int, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = counted(["zip", "-q", "-r", *flags, "-", "."], cwd=folder)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return size, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    backend_arg(parser)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--kb", type=int, default=150, help="size of each image in KB")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for tool in ("zip", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"`{tool}` is not installed (apt-get install {tool})")
    with deployment(args.backend) as stack:
        client = signed_in(stack)
        job_id = make_job(client, 10, ["bing"])
        payload = build(stack, job_id, args.images, args.kb * 1000)
        folder = stack.data_dir / "jobs" / str(job_id)
        sides = {
            "GET /export (API)": api_side(stack, client.headers["Authorization"], job_id),
            "zip -0 -r (store)": zip_side(folder, "-0"),
            "zip -r (deflate)": zip_side(folder),
        }
        for run in sides.values():  # warm up: page cache, the API's first export
            run()
        walls: dict[str, list[float]] = {name: [] for name in sides}
        cpus: dict[str, list[float]] = {name: [] for name in sides}
        sizes: dict[str, int] = {}
        for i in range(args.rounds):
            for name in list(sides) if i % 2 == 0 else list(sides)[::-1]:
                t0 = time.perf_counter()
                sizes[name], cpu = sides[name]()
                walls[name].append(time.perf_counter() - t0)
                cpus[name].append(cpu)
    mb = payload / 1e6
    print(
        f"backend={args.backend}  {args.images} images x {args.kb} KB = {mb:.0f} MB, "
        f"median of {args.rounds} rounds, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  {'side':19s} {'archive MB':>10s} {'wall s':>7s} {'MB/s':>6s} {'API÷side':>9s}"
        f" {'CPU s':>6s} {'CPU MB/s':>9s} {'API÷side':>9s}"
    )
    api_wall = statistics.median(walls["GET /export (API)"])
    api_cpu = statistics.median(cpus["GET /export (API)"])
    for name in sides:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        print(
            f"  {name:19s} {sizes[name] / 1e6:10.1f} {wall:7.2f} {mb / wall:6.0f} "
            f"{wall / api_wall:9.2f} {cpu:6.2f} {mb / cpu:9.0f} {cpu / api_cpu:9.2f}"
        )


if __name__ == "__main__":
    main()
