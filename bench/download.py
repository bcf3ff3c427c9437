"""Our downloader against img2dataset, icrawler and bare asyncio loops on one URL list (issue 6).

Every contender runs as its own subprocess against the same loopback image server (a third
process), on the same URL list: N distinct JPEGs of about 157 KB, spread over 16 loopback
hosts (127.0.0.1-16) the way a real list spans many sites, once with no added latency and once
with 100 ms added to every image answer. Rounds alternate the order of the contenders.

- ours: the production chunk pipeline (worker.crawl.chunk.run_chunk with the Downloader's
  production options, robots.txt checks, magic-byte and end-marker checks, sha256, atomic
  placement, job-wide dedup and a database row per image through DbChunkSink on a migrated
  SQLite database), fed the URL list by a list "engine".
- aiohttp loop / httpx loop: the bare minimum, 64 requests at once, body written to a file.
- img2dataset (output_format files, resize_mode no, no re-encoding) and icrawler's
  UrlListCrawler, installed in their own venv, never the project's.

"running" rates count from the first request to the last file (img2dataset's from its own
stats files, which leave out its start-up); "wall" counts the whole subprocess.

    python3 -m venv /work/bench-peers-venv-i2d
    /work/bench-peers-venv-i2d/bin/pip install img2dataset icrawler
    .venv/bin/python bench/download.py [--images 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_WORK = ROOT / "bench" / ".cache" / "download"
DEFAULT_PEERS = Path("/work/bench-peers-venv-i2d")
HOSTS = 16
CONCURRENCY = 64
LATENCIES = (0.0, 0.1)
CONTENDERS = ("ours", "aiohttp loop", "httpx loop", "img2dataset", "icrawler")


# ---------------------------------------------------------------- corpus and image server


def make_corpus(folder: Path, count: int) -> list[Path]:
    """``count`` distinct JPEGs of about 157 KB (noise over a gradient), made once."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:05d}.jpg" for i in range(count)]
    rng = np.random.default_rng(6)
    base = np.linspace(0, 255, 600, dtype=np.float32)[None, :, None]
    for path in paths:
        if path.exists():
            continue
        noise = rng.normal(0, 38, (450, 600, 3)).astype(np.float32)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        tmp = path.with_suffix(".part")
        Image.fromarray(pixels).save(tmp, "JPEG", quality=88)
        tmp.replace(path)
    return paths


def serve(corpus: Path, port: int) -> None:
    """The image server: every corpus file from memory on 16 loopback hosts; ``/slow/`` paths
    answer 100 ms later. Prints "ready" once listening."""
    from aiohttp import web

    bodies = {p.name: p.read_bytes() for p in corpus.glob("*.jpg")}

    async def image(request: web.Request) -> web.Response:
        body = bodies.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        if request.match_info["speed"] == "slow":
            await asyncio.sleep(0.1)
        return web.Response(body=body, content_type="image/jpeg")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{speed}/{name}", image)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for i in range(1, HOSTS + 1):
            await web.TCPSite(runner, f"127.0.0.{i}", port).start()
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def url_list(port: int, names: list[str], latency: float) -> list[str]:
    speed = "slow" if latency else "fast"
    return [f"http://127.0.0.{i % HOSTS + 1}:{port}/{speed}/{name}" for i, name in enumerate(names)]


# ---------------------------------------------------------------- contenders (run in children)


@contextlib.contextmanager
def measured() -> Iterator[dict]:
    """Wall seconds and CPU seconds (all threads of this process) of the block."""
    took: dict = {}
    c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    yield took
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    took["seconds"] = time.perf_counter() - t0
    took["cpu"] = c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime


def run_ours(urls: list[str], out: Path) -> dict:
    """The production pipeline on one chunk whose engine lists ``urls``."""
    from worker.crawl.chunk import run_chunk
    from worker.crawl.downloader import Downloader
    from worker.crawl.engines.base import Engine
    from worker.crawl.storage import JobStorage
    from worker.crawl.types import Candidate, ResultPage
    from worker.db.migrate import upgrade
    from worker.db.models import Chunk, Job, JobStatus, User
    from worker.db.session import session_factory
    from worker.settings import Settings
    from worker.tasks.crawl import DbChunkSink, download_options

    class ListEngine(Engine):
        """Pages of 100 from a fixed list, as a search engine would give them."""

        name = "list"
        label = "URL list"
        default_url = "http://127.0.0.1"

        async def search(self, session, keyword, cursor=None) -> ResultPage:
            start = cursor or 0
            batch = [Candidate(url=u) for u in urls[start : start + 100]]
            following = start + 100 if start + 100 < len(urls) else None
            return ResultPage(batch, following)

    settings = Settings(_env_file=None, data_dir=out / "data", allow_private_addresses=True)
    settings.prepare_dirs()
    upgrade(settings)
    sessions = session_factory(settings)
    with sessions() as db:
        user = User(email="bench@example.com", password_hash="-")
        job = Job(owner=user, name="bench", keywords=["bench"], engines=["list"],
                  max_images=len(urls), options={}, status=JobStatus.running)
        chunk = Chunk(job=job, keyword="bench", engine="list", target=len(urls),
                      status=JobStatus.running, task_id="bench")
        db.add_all([user, job, chunk])
        db.commit()
        job_id, chunk_id = job.id, chunk.id
    sink = DbChunkSink(sessions, chunk_id, job_id, "bench", settings.chunk_heartbeat)
    storage = JobStorage(settings.data_dir, job_id)

    async def main():
        async with Downloader(download_options(settings, {})) as downloader:
            return await run_chunk(engine=ListEngine(), keyword="bench", target=len(urls),
                                   downloader=downloader, storage=storage, sink=sink,
                                   limiter=None)

    with measured() as took:
        outcome = asyncio.run(main())
    with sessions() as db:
        rows = db.get(Chunk, chunk_id).downloaded
    return {"images": outcome.downloaded, "rows": rows, **took,
            "failed": outcome.failed, "errors": outcome.errors[:3]}


def run_aiohttp(urls: list[str], out: Path) -> dict:
    import aiohttp

    async def main() -> int:
        gate = asyncio.Semaphore(CONCURRENCY)
        done = 0
        connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(i: int, url: str) -> None:
                nonlocal done
                async with gate, session.get(url) as resp:
                    body = await resp.read()
                (out / f"{i}.jpg").write_bytes(body)
                done += 1

            await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))
        return done

    with measured() as took:
        images = asyncio.run(main())
    return {"images": images, **took}


def run_httpx(urls: list[str], out: Path) -> dict:
    import httpx

    async def main() -> int:
        gate = asyncio.Semaphore(CONCURRENCY)
        done = 0
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:

            async def one(i: int, url: str) -> None:
                nonlocal done
                async with gate:
                    resp = await client.get(url)
                (out / f"{i}.jpg").write_bytes(resp.content)
                done += 1

            await asyncio.gather(*(one(i, u) for i, u in enumerate(urls)))
        return done

    with measured() as took:
        images = asyncio.run(main())
    return {"images": images, **took}


CHILD_RUNNERS = {"ours": run_ours, "aiohttp loop": run_aiohttp, "httpx loop": run_httpx}

ICRAWLER_SCRIPT = """
import json, logging, sys, time
from icrawler.builtin import UrlListCrawler
logging.disable(logging.CRITICAL)
urls, out = sys.argv[1], sys.argv[2]
n = sum(1 for line in open(urls) if line.strip())
crawler = UrlListCrawler(downloader_threads=int(sys.argv[3]), storage={"root_dir": out})
t0 = time.perf_counter()
crawler.crawl(urls, max_num=n)
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""


def run_child(name: str, urls_file: Path, out: Path, peers: Path) -> dict:
    """One contender in its own process; returns its counts, running and wall seconds."""
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "WANDB_MODE": "disabled"}
    if name == "img2dataset":
        cmd = [str(peers / "bin" / "img2dataset"), f"--url_list={urls_file}", "--input_format=txt",
               f"--output_folder={out / 'images'}", "--output_format=files",
               "--resize_mode=no", "--disable_all_reencoding=True", "--processes_count=2",
               "--thread_count=32", "--number_sample_per_shard=100000"]
        proc = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        _check(name, proc)
        stats = [json.loads(p.read_text()) for p in (out / "images").glob("*_stats.json")]
        own = max(s["end_time"] for s in stats) - min(s["start_time"] for s in stats)
        images = sum(1 for _ in (out / "images").rglob("*.jpg"))
        return {"images": images, "seconds": own, "wall": wall}
    if name == "icrawler":
        cmd = [str(peers / "bin" / "python"), "-c", ICRAWLER_SCRIPT, str(urls_file), str(out),
               str(CONCURRENCY)]
    else:
        cmd = [sys.executable, __file__, "--child", name, "--urls", str(urls_file),
               "--out", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    _check(name, proc)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if name == "icrawler":
        result["images"] = sum(1 for _ in out.rglob("*.jpg"))
    result["wall"] = wall
    return result


def _check(name: str, proc: subprocess.CompletedProcess) -> None:
    if proc.returncode != 0:
        raise SystemExit(f"{name} exited {proc.returncode}:\n{proc.stderr[-3000:]}")


# ---------------------------------------------------------------- driver


def available(peers: Path) -> list[str]:
    found = list(CHILD_RUNNERS)
    if (peers / "bin" / "img2dataset").exists():
        found.append("img2dataset")
    else:
        print(f"img2dataset not found in {peers}; see the module docstring", file=sys.stderr)
    probe = subprocess.run([str(peers / "bin" / "python"), "-c", "import icrawler"],
                           capture_output=True)
    if probe.returncode == 0:
        found.append("icrawler")
    else:
        print(f"icrawler not found in {peers}; see the module docstring", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=18731)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_PEERS)
    parser.add_argument("--only", default="", help="comma-separated contenders to run")
    parser.add_argument("--latency", default="0,0.1", help="comma-separated added latencies")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    corpus = args.work / "corpus"
    if args.serve:
        serve(corpus, args.port)
        return
    if args.child:
        urls = args.urls.read_text().split()
        print(json.dumps(CHILD_RUNNERS[args.child](urls, args.out)), flush=True)
        return

    names = [p.name for p in make_corpus(corpus, args.images)]
    size = statistics.mean(p.stat().st_size for p in corpus.glob("*.jpg")) / 1024
    contenders = available(args.peers_venv)
    if args.only:
        contenders = [c for c in contenders if c in args.only.split(",")]
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--work", str(args.work),
                               "--port", str(args.port)], stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise SystemExit("image server did not start")
        report(args, names, size, contenders)
    finally:
        server.terminate()
        server.wait(10)


def report(args: argparse.Namespace, names: list[str], size: float, contenders: list[str]) -> None:
    runs = args.work / "runs"
    results: dict[tuple[float, str], list[dict]] = {}
    for latency in (float(x) for x in args.latency.split(",")):
        urls = url_list(args.port, names, latency)
        random.Random(0).shuffle(urls)
        urls_file = args.work / "urls.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        for round_no in range(args.rounds):
            order = contenders if round_no % 2 == 0 else contenders[::-1]
            for name in order:
                shutil.rmtree(runs, ignore_errors=True)
                result = run_child(name, urls_file, runs / "out", args.peers_venv)
                results.setdefault((latency, name), []).append(result)
                cpu = (f"  {result['cpu'] / result['images'] * 1000:5.2f} ms CPU/image"
                       if "cpu" in result else "")
                print(f"  latency {latency * 1000:3.0f} ms  round {round_no + 1}  {name:12}  "
                      f"{result['images']:5} images  {result['images'] / result['seconds']:7.1f}"
                      f"/s running  {result['images'] / result['wall']:7.1f}/s wall{cpu}",
                      file=sys.stderr, flush=True)
    shutil.rmtree(runs, ignore_errors=True)
    print(f"\n{len(names)} images of {size:.0f} KB on {HOSTS} loopback hosts, best of "
          f"{args.rounds} rounds, images/second")
    for latency in sorted({lat for lat, _ in results}):
        best = {n: max(r["images"] / r["seconds"] for r in results[(latency, n)])
                for lat, n in results if lat == latency}
        wall = {n: max(r["images"] / r["wall"] for r in results[(latency, n)])
                for lat, n in results if lat == latency}
        print(f"\nadded latency {latency * 1000:.0f} ms")
        print(f"  {'contender':14}{'running':>10}{'wall':>10}{'ours vs':>10}")
        for name in contenders:
            ratio = best["ours"] / best[name] if "ours" in best else float("nan")
            print(f"  {name:14}{best[name]:10.1f}{wall[name]:10.1f}{ratio:9.2f}x")


if __name__ == "__main__":
    main()
