"""MB/s of GET /jobs/{id}/export (the streamed dataset zip) in each format against Info-ZIP
`zip -r` and GNU `tar -c` of the same files, side by side in one run; then the export
process's peak memory while it writes 1,000 and 10,000 images.

Peers: `zip -0 -r` (store, the like-for-like peer: images are stored, not compressed, by
both), `zip -r` (deflate, the default) and `tar -c` (what a webdataset shard is). Corpus:
``--images`` random-byte files of ``--kb`` KB (incompressible, like JPEGs) under 10
keywords of one job, rows inserted straight into the API's database and files written into its
data folder, so every side reads the same files from the page cache. Every archive is read
from a pipe by this process and dropped: the API's through `curl` (HTTP, chunked), the peers'
from their stdout. MB/s is image bytes per wall second, median of the rounds, which alternate
the order of the sides. CPU is the producer's own CPU time (the API process, or the tool),
which other load on the machine disturbs less than wall time.

Memory: the API process's resident set, sampled every 10 ms while it exports a job of
``--memory-images`` images of ``--memory-kb`` KB in each format; the peak above what it held
before the request. Flat means the 10,000-image figure is close to the 1,000-image one.

    TMPDIR=/dev/shm .venv/bin/python bench/export.py [--images 3000] [--kb 150] [--rounds 5] \
        [--formats imagefolder,webdataset,parquet] [--memory-images 1000,10000] \
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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, make_job, signed_in
from tests.export.helpers import add_images, chunk_ids, image_values
from worker.db.session import session_scope
from worker.export.plan import FORMATS

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


def api_side(stack, auth: str, job_id: int, export_format: str) -> Side:
    url = f"{stack.api_url}/api/v1/jobs/{job_id}/export?format={export_format}"
    api = psutil.Process(stack.api.pid)

    def run() -> tuple[int, float]:
        before = cpu_seconds(api.cpu_times())
        size = counted(["curl", "-sSf", "-H", f"Authorization: {auth}", url])
        return size, cpu_seconds(api.cpu_times()) - before

    return run


def tool_side(folder: Path, *command: str) -> Side:
    """A command that writes an archive of the current folder to stdout."""
    def run() -> tuple[int, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = counted(list(command), cwd=folder)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return size, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    return run


def peak_rss(stack, auth: str, job_id: int, export_format: str) -> tuple[float, float]:
    """(MB the API process held before, MB above that at its peak) during one export."""
    api = psutil.Process(stack.api.pid)
    base = api.memory_info().rss
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, api.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        api_side(stack, auth, job_id, export_format)()
    finally:
        done.set()
        sampler.join()
    return base / 1e6, (peak - base) / 1e6


def speed(args, stack, client) -> None:
    job_id = make_job(client, 10, ["bing"])
    payload = build(stack, job_id, args.images, args.kb * 1000)
    folder = stack.data_dir / "jobs" / str(job_id)
    auth = client.headers["Authorization"]
    sides = {f"API {name}": api_side(stack, auth, job_id, name) for name in args.formats}
    sides |= {
        "zip -0 -r (store)": tool_side(folder, "zip", "-q", "-r", "-0", "-", "."),
        "zip -r (deflate)": tool_side(folder, "zip", "-q", "-r", "-", "."),
        "tar -c": tool_side(folder, "tar", "-cf", "-", "."),
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
    peers = ["zip -0 -r (store)", "tar -c"]
    print(f"  {'side':19s} {'archive MB':>10s} {'wall s':>7s} {'MB/s':>6s} {'CPU s':>6s}"
          + "".join(f" {'÷ ' + p.split()[0] + ' ' + p.split()[1]:>10s}" for p in peers))
    for name in sides:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        ratios = "".join(f" {mb / wall / (mb / statistics.median(walls[p])):10.2f}"
                         for p in peers)
        print(f"  {name:19s} {sizes[name] / 1e6:10.1f} {wall:7.2f} {mb / wall:6.0f} "
              f"{cpu:6.2f}{ratios}")
    print("  (÷ columns: the side's MB/s over the peer's; above 1 is faster than the peer)")


def memory(args, stack, client) -> None:
    auth = client.headers["Authorization"]
    jobs = {}
    for count in args.memory_images:
        jobs[count] = make_job(client, 10, ["bing"])
        build(stack, jobs[count], count, args.memory_kb * 1000)
    print(f"peak memory of the API process while exporting ({args.memory_kb} KB images), MB "
          "above its size before the request")
    print(f"  {'format':12s}" + "".join(f" {f'{n} images':>13s}" for n in args.memory_images))
    for name in args.formats:
        api_side(stack, auth, jobs[args.memory_images[0]], name)()  # warm up
        cells = []
        for count in args.memory_images:
            base, grew = peak_rss(stack, auth, jobs[count], name)
            cells.append(f"{grew:+7.1f} of {base:3.0f}")
        print(f"  {name:12s}" + "".join(f" {c:>13s}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    backend_arg(parser)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--kb", type=int, default=150, help="size of each image in KB")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", type=lambda t: t.split(","), default=list(FORMATS),
                        help="formats to export, comma separated (default: all)")
    parser.add_argument("--memory-images", type=lambda t: [int(n) for n in t.split(",")],
                        default=[1000, 10000], help="job sizes for the memory table")
    parser.add_argument("--memory-kb", type=int, default=30)
    parser.add_argument("--skip", choices=["speed", "memory"])
    args = parser.parse_args()
    for tool in ("zip", "curl", "tar"):
        if not shutil.which(tool):
            raise SystemExit(f"`{tool}` is not installed (apt-get install {tool})")
    with deployment(args.backend) as stack:
        client = signed_in(stack)
        if args.skip != "speed":
            speed(args, stack, client)
        if args.skip != "memory":
            memory(args, stack, client)

if __name__ == "__main__":
    main()
