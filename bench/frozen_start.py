"""The PyInstaller build: how big the one-folder app is, and how long the embedded backend takes
to come up from it compared with the same roles run from source, in one run.

    .venv/bin/python bench/frozen_start.py [--app dist/PixCrawler/PixCrawler] [--repeat 5]

Without --app the app is built first (scripts/build.sh into a temporary folder). A start is
what EmbeddedBackend does: `PixCrawler api` and `PixCrawler worker` launched together on a
fresh data folder (so the database is created and migrated each time), timed until
/api/v1/health answers with the workers ok. The source side runs `python -m
pixcrawler_desktop api|worker` the same way. Frozen and source runs alternate, so a machine
that gets busier mid-run slows both alike.

Goals (issue 5): folder under 150 MB; frozen start at most 2x the start from source.
Note: the API re-checks a missing worker once a second, so "ready" times step by about 1 s;
"API up" (the first 200 from /health) is not stepped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from pixcrawler_desktop.local.backend import free_port, health
from pixcrawler_desktop.local.state import stop_processes

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
SIZE_GOAL_MB = 150
RATIO_GOAL = 2.0
START_TIMEOUT = 120.0


@dataclass
class Start:
    api_up: float  # seconds to the first 200 from /health
    ready: float  # seconds to a 200 whose workers are ok


# -- the build ------------------------------------------------------------------------------


def build(into: Path) -> Path:
    t0 = time.perf_counter()
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build.sh"), "--distpath", str(into / "dist"),
         "--workpath", str(into / "work")], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit(f"the build failed:\n{result.stdout[-4000:]}")
    print(f"built in {time.perf_counter() - t0:.0f} s")
    return into / "dist" / "PixCrawler" / "PixCrawler"


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]


def report_size(folder: Path, archive: bool) -> None:
    sizes = {p: p.stat().st_size for p in files(folder)}
    total = sum(sizes.values())
    # The goal is read in decimal megabytes, the stricter of the two readings.
    print(f"\nfolder {folder}: {total / 1e6:.1f} MB ({total / MIB:.1f} MiB) in {len(sizes)} "
          f"files (goal < {SIZE_GOAL_MB} MB: {'met' if total / 1e6 < SIZE_GOAL_MB else 'NOT met'})")
    if archive:
        print(f"as a .tar.gz (what a download would weigh): {tar_gz_size(folder) / MIB:.0f} MiB")
    parts: Counter[str] = Counter()
    for path, size in sizes.items():
        rel = path.relative_to(folder).parts
        if rel[0] != "_internal":
            parts[f"{rel[0]} (executable and the Python modules archive)"] += size
            continue
        # Qt's libraries and plugins are worth telling apart from PySide6's bindings.
        depth = 4 if rel[1:3] == ("PySide6", "Qt") and len(rel) > 4 else 2
        parts["/".join(rel[1:depth])] += size
    print("largest parts (MiB):")
    for name, size in parts.most_common(16):
        print(f"  {size / MIB:6.1f}  {name}")
    print("largest files (MiB):")
    for path, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {size / MIB:6.1f}  {path.relative_to(folder)}")


class _Counter:
    """A write-only file that only counts, so the archive is measured without being kept."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def tar_gz_size(folder: Path) -> int:
    sink = _Counter()
    with tarfile.open(fileobj=sink, mode="w|gz") as tar:  # type: ignore[arg-type]
        tar.add(folder, arcname=folder.name)
    return sink.size


# -- starting the backend ---------------------------------------------------------------------


def start_once(command: list[str]) -> Start:
    """Launch api + worker as EmbeddedBackend does, on a new data folder; time until healthy;
    stop both."""
    with tempfile.TemporaryDirectory(prefix="pixcrawler-bench-start-") as tmp:
        data = Path(tmp)
        (data / "logs").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
        env.update({"PIXCRAWLER_MODE": "embedded", "PIXCRAWLER_DATA_DIR": str(data),
                    "PYTHONUNBUFFERED": "1"})
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        roles = {"api": ["--port", str(port), "--log-level", "warning"],
                 "worker": ["--concurrency", "4", "--pool", "threads", "--loglevel", "INFO"]}
        procs: dict[str, subprocess.Popen] = {}
        t0 = time.perf_counter()
        try:
            for role, args in roles.items():
                with (data / "logs" / f"{role}.log").open("ab") as log:
                    procs[role] = subprocess.Popen(
                        [*command, role, *args], env=env, cwd=data, stdout=log,
                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        start_new_session=True)
            return _wait_healthy(url, procs, data, t0)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    stop_processes([psutil.Process(proc.pid)])
                proc.wait(10)


def _wait_healthy(url: str, procs: dict[str, subprocess.Popen], data: Path, t0: float) -> Start:
    api_up: float | None = None
    while time.perf_counter() - t0 < START_TIMEOUT:
        for role, proc in procs.items():
            if proc.poll() is not None:
                log = (data / "logs" / f"{role}.log").read_text(errors="replace")
                raise RuntimeError(f"the {role} exited while starting:\n{log[-2000:]}")
        body = health(url, timeout=1.0)
        now = time.perf_counter() - t0
        if body is not None:
            api_up = api_up if api_up is not None else now
            if body.get("workers", {}).get("ok"):
                return Start(api_up, now)
        time.sleep(0.02)
    raise RuntimeError(f"the backend was not healthy within {START_TIMEOUT:.0f} s")


def summary(name: str, starts: list[Start]) -> tuple[float, float]:
    up = [s.api_up for s in starts]
    ready = [s.ready for s in starts]
    print(f"  {name:7s} API up  median {statistics.median(up):5.2f} s  min {min(up):5.2f} s   "
          f"ready median {statistics.median(ready):5.2f} s  min {min(ready):5.2f} s   "
          f"(ready: {', '.join(f'{r:.2f}' for r in ready)})")
    return statistics.median(up), statistics.median(ready)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, help="the built PixCrawler executable "
                        "(default: build one into a temporary folder)")
    parser.add_argument("--repeat", type=int, default=5, help="starts per side (default 5)")
    parser.add_argument("--no-archive", action="store_true",
                        help="skip measuring the compressed size (about 20 s)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pixcrawler-bench-build-") as tmp:
        app = args.app.resolve() if args.app else build(Path(tmp))
        report_size(app.parent, archive=not args.no_archive)

        sides = {"frozen": [str(app)], "source": [sys.executable, "-m", "pixcrawler_desktop"]}
        results: dict[str, list[Start]] = {name: [] for name in sides}
        for rep in range(args.repeat):
            order = list(sides) if rep % 2 == 0 else list(reversed(sides))
            for name in order:
                results[name].append(start_once(sides[name]))

    print(f"\nembedded backend start, {args.repeat} fresh data folders per side "
          "(api + worker launched together):")
    frozen_up, frozen_ready = summary("frozen", results["frozen"])
    source_up, source_ready = summary("source", results["source"])
    ratio = frozen_ready / source_ready
    print(f"  ratio frozen/source: ready {ratio:.2f}x, API up {frozen_up / source_up:.2f}x "
          f"(goal <= {RATIO_GOAL:.0f}x: {'met' if ratio <= RATIO_GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
