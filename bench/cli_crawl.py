"""Images/second of `pixcrawler crawl` against img2dataset downloading the same URLs (issue 5).

Both sides download from the fake web, run in its own process so that it competes with neither
side's GIL: 20 keywords on bing and duckduckgo, --max-images 100 per keyword, so 2000 images.
Our side is timed as the whole `pixcrawler crawl` subprocess (embedded backend start and stop,
searches, downloads, dataset export); its phases are stamped as its stderr notes arrive, and
"crawl only" is the job's finished_at - started_at from the CLI's --json output. img2dataset
(in its own venv, never the project's) gets the URLs the fake web's engines list for the first
100 results of each keyword, with output_format files, resize_mode no and no re-encoding; it
is timed as a subprocess too, and its own rate comes from its per-shard stats files.

Rounds alternate which side goes first, and every image is fetched once before the first
round, so neither side pays for the fake web drawing an image the first time.

    python3 -m venv /work/bench-peers-venv-i2d
    /work/bench-peers-venv-i2d/bin/pip install img2dataset
    .venv/bin/python bench/cli_crawl.py [--rounds 4] [--concurrency N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakeweb.server import FakeWeb  # noqa: E402

DEFAULT_WORK = ROOT / "bench" / ".cache" / "cli_crawl"
DEFAULT_I2D_VENV = Path("/work/bench-peers-venv-i2d")
# Result images spread over this many loopback hosts, as real result lists span many sites;
# on one host the crawl's polite per-host cap (8) would be what the bench measures.
IMAGE_HOSTS = 16
# stderr notes of `pixcrawler crawl`, in order: the phase that ends when each one arrives
# (the last phase, "shutdown", ends when the command exits)
MARKS = (("startup", "started the backend at"), ("submit", "Crawling job"),
         ("crawl", "Writing "), ("export", "Stopping the local backend"))
I2D_TOTAL = re.compile(r"^total\s.*images per sec: (\d+)")


@dataclass
class Ours:
    images: int
    wall: float
    crawl: float  # job started_at -> finished_at
    phases: dict[str, float] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the command and every process it started


@dataclass
class Peer:
    images: int
    wall: float
    own: float  # first shard start -> last shard end, from img2dataset's stats files
    printed: str  # the "images per sec" img2dataset printed itself (count / duration)
    cpu: float = 0.0


def children_cpu() -> float:
    """CPU seconds of the waited-for children so far (theirs and their own children's)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def fake_web(results: int) -> Iterator[str]:
    """`python -m tests.fakeweb` on a free port; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeweb", "--port", "0", "--results", str(results),
         "--image-hosts", str(IMAGE_HOSTS)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("PIXCRAWLER_ENGINE_BING_URL="):
                base = line.split("=", 1)[1].strip()
            if line.startswith("fake web listening"):
                break
        if base is None:
            raise SystemExit(f"the fake web did not start (exit {proc.poll()})")
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def engine_urls(base: str, keywords: list[str], per_keyword: int) -> list[str]:
    """The image URLs the fake web's engines list for each keyword's first results, as the
    fake web itself defines them (the server object is only used for its naming, not run)."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    web = FakeWeb(host, int(port), image_hosts=IMAGE_HOSTS)
    return [web.result_image_url(k, i) for k in keywords for i in range(per_keyword)]


def warm_up(urls: list[str]) -> None:
    """Fetch every URL once, a client per thread (one shared client once failed mid-run with
    "Bad file descriptor")."""
    local = threading.local()
    clients: list[httpx.Client] = []

    def get(url: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30)
            clients.append(local.client)
        local.client.get(url).raise_for_status()

    try:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(get, urls))
    finally:
        for client in clients:
            client.close()


def run_ours(args: argparse.Namespace, base: str, keywords: list[str], folder: Path) -> Ours:
    env = {**os.environ,
           "PIXCRAWLER_DATA_DIR": str(folder / "data"),
           "PIXCRAWLER_CLI_CONFIG_DIR": str(folder / "config"),
           "PIXCRAWLER_SEARCH_RATE_LIMIT": "6000/minute",
           **{f"PIXCRAWLER_ENGINE_{e.strip().upper()}_URL": base
              for e in args.engines.split(",")}}
    cmd = [sys.executable, "-m", "pixcrawler_desktop", "cli", "crawl", *keywords,
           "--engines", args.engines, "--max-images", str(args.max_images),
           "--out", str(folder / "out"), "--json"]
    if args.concurrency:
        cmd += ["--concurrency", str(args.concurrency)]
    if args.validate:
        cmd += ["--validate", args.validate]
    stamps: dict[str, float] = {}
    err: list[str] = []
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            now = time.perf_counter()
            err.append(line)
            for name, prefix in MARKS:
                if prefix in line:
                    stamps.setdefault(name, now)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    assert proc.stdout is not None
    out = proc.stdout.read()  # not communicate(): it would read stderr too, racing the reader
    proc.wait()
    wall = time.perf_counter() - t0
    reader.join()
    (folder / "crawl.stderr").write_text("".join(err), encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"pixcrawler crawl exited {proc.returncode}:\n{''.join(err[-20:])}")
    result = json.loads(out)
    job = result["job"]
    crawl = (datetime.fromisoformat(job["finished_at"])
             - datetime.fromisoformat(job["started_at"])).total_seconds()
    manifest = (Path(result["dataset"]["folder"]) / "manifest.jsonl").read_text(encoding="utf-8")
    sources = [json.loads(line)["source_url"] for line in manifest.splitlines()]
    edges = [("begin", 0.0), *((n, stamps[n] - t0) for n, _ in MARKS if n in stamps),
             ("shutdown", wall)]
    phases = {b[0]: b[1] - a[1] for a, b in itertools.pairwise(edges)}
    return Ours(result["dataset"]["images"], wall, crawl, phases, sources,
                children_cpu() - cpu0)


def run_peer(args: argparse.Namespace, urls: list[str], folder: Path) -> Peer:
    folder.mkdir(parents=True)
    url_list = folder / "urls.txt"
    url_list.write_text("\n".join(urls) + "\n", encoding="utf-8")
    output = folder / "images"
    per_shard = -(-len(urls) // args.processes)  # one shard per process
    cmd = [str(args.i2d_venv / "bin" / "img2dataset"), f"--url_list={url_list}",
           "--input_format=txt", f"--output_folder={output}", "--output_format=files",
           "--resize_mode=no", "--disable_all_reencoding=True",
           f"--processes_count={args.processes}", f"--thread_count={args.threads}",
           f"--number_sample_per_shard={per_shard}"]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "WANDB_MODE": "disabled"}
    cpu0 = children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"img2dataset exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    stats = [json.loads(p.read_text()) for p in output.glob("*_stats.json")]
    if not stats:
        raise SystemExit(f"img2dataset wrote no stats:\n{proc.stdout[-2000:]}")
    own = max(s["end_time"] for s in stats) - min(s["start_time"] for s in stats)
    images = sum(1 for p in output.rglob("*.jpg"))
    printed = [m.group(1) for line in proc.stdout.splitlines() if (m := I2D_TOTAL.match(line))]
    return Peer(images, wall, own, printed[-1] if printed else "?", cpu)


def i2d_version(venv: Path) -> str | None:
    python = venv / "bin" / "python"
    if not (venv / "bin" / "img2dataset").exists():
        return None
    proc = subprocess.run([str(python), "-c", "import importlib.metadata as m;"
                           "print(m.version('img2dataset'))"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def rate(images: int, seconds: float) -> str:
    return f"{images / seconds:7.1f} img/s" if seconds > 0 else "      ? img/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keywords", type=int, default=20)
    parser.add_argument("--engines", default="bing,duckduckgo")
    parser.add_argument("--max-images", type=int, default=100, help="per keyword")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=0,
                        help="`crawl --concurrency` (default: the CLI's own default)")
    parser.add_argument("--validate", choices=["fast", "medium", "slow"],
                        help="`crawl --validate LEVEL`: validation then runs in the crawl "
                             "phase, after the job's own time (img2dataset validates nothing)")
    parser.add_argument("--processes", type=int, default=2, help="img2dataset processes_count")
    parser.add_argument("--threads", type=int, default=32, help="img2dataset thread_count")
    parser.add_argument("--i2d-venv", type=Path, default=DEFAULT_I2D_VENV,
                        help="venv holding img2dataset (`pip install img2dataset` there)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="scratch folder for data and outputs (emptied first)")
    parser.add_argument("--keep", action="store_true", help="keep each round's files")
    args = parser.parse_args()

    version = i2d_version(args.i2d_venv)
    if version is None:
        print(f"img2dataset is not installed in {args.i2d_venv}: only our side is measured "
              f"(python3 -m venv {args.i2d_venv} && {args.i2d_venv}/bin/pip install img2dataset)")
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    keywords = [f"bench keyword {i}" for i in range(args.keywords)]
    ours: list[Ours] = []
    peers: list[Peer] = []
    # Engines may list a few images twice across engines; the crawl then pages a little further.
    with fake_web(args.max_images + 50) as base:
        urls = engine_urls(base, keywords, args.max_images)
        warm_up(engine_urls(base, keywords, args.max_images + 25))
        for n in range(args.rounds):
            sides = ["ours", "peer"] if n % 2 == 0 else ["peer", "ours"]
            for side in sides:
                folder = args.work / f"round{n + 1}-{side}"
                if side == "ours":
                    folder.mkdir()
                    ours.append(run_ours(args, base, keywords, folder))
                    o = ours[-1]
                    phases = "  ".join(f"{k} {v:.1f}" for k, v in o.phases.items())
                    print(f"round {n + 1} pixcrawler  {o.images:5d} images  wall {o.wall:6.2f} s"
                          f"  crawl-only {o.crawl:6.2f} s  CPU {o.cpu:5.1f} s"
                          f"  phases (s): {phases}", flush=True)
                elif version is not None:
                    peers.append(run_peer(args, urls, folder))
                    p = peers[-1]
                    print(f"round {n + 1} img2dataset {p.images:5d} images  wall {p.wall:6.2f} s"
                          f"  own        {p.own:6.2f} s  CPU {p.cpu:5.1f} s"
                          f"  (it printed {p.printed} img/s)",
                          flush=True)
                if not args.keep:
                    shutil.rmtree(folder, ignore_errors=True)
    same = len(set(ours[0].sources) & set(urls))
    print(f"\n{args.keywords} keywords x {args.engines} x --max-images {args.max_images}, "
          f"{args.rounds} rounds, fake web in its own process; img2dataset {version or 'absent'}"
          f" (processes {args.processes}, threads {args.threads}, files, no resize/re-encode)")
    print(f"img2dataset URL list: {len(urls)} URLs; {same} of them are among the "
          f"{len(ours[0].sources)} our crawl stored in round 1")
    o_img, o_wall, o_crawl = (sum(o.images for o in ours), sum(o.wall for o in ours),
                              sum(o.crawl for o in ours))
    print(f"  pixcrawler crawl, whole command   {rate(o_img, o_wall)}")
    print(f"  pixcrawler crawl-only (job times) {rate(o_img, o_crawl)}")
    o_cpu = 1000 * sum(o.cpu for o in ours) / o_img
    print(f"  pixcrawler CPU per 1000 images     {o_cpu:6.2f} s")
    if peers:
        p_img, p_wall, p_own = (sum(p.images for p in peers), sum(p.wall for p in peers),
                                sum(p.own for p in peers))
        print(f"  img2dataset, whole command        {rate(p_img, p_wall)}")
        print(f"  img2dataset own (stats files)     {rate(p_img, p_own)}")
        p_cpu = 1000 * sum(p.cpu for p in peers) / p_img
        print(f"  img2dataset CPU per 1000 images    {p_cpu:6.2f} s")
        for name, a, b in (("CLI wall / img2dataset wall", o_wall, p_wall),
                           ("crawl-only / img2dataset own", o_crawl, p_own),
                           ("crawl-only / img2dataset wall", o_crawl, p_wall)):
            print(f"  ratio {name:30s} = {(o_img / a) / (p_img / b):.2f}")


if __name__ == "__main__":
    main()
