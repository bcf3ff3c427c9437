"""A big job under the real search quotas: wall time against the least time the quotas allow.

60 keywords × bing + duckduckgo × 30 images per keyword (120 chunks of 15), at the default
10 queries a minute per engine, on a real worker (embedded mode: SQLite, folder broker, 4
threads) against the loopback fake web. The bound is what no scheduler can beat: each engine's
queries (one per page its chunks need) at its rate, the first window's worth at once, the
engines side by side. The measured wall time runs from the start request to the job's end.
A run is made with no added latency and with 100 ms on every fake-web answer.

    TMPDIR=/dev/shm .venv/bin/python bench/quota_schedule.py [--keywords 60] [--images 30] \
        [--rate 10/minute] [--latency 0,0.1] [--backend postgres]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, run_to_end, signed_in
from pixcrawler_desktop.client.models import Chunk, Engine
from pixcrawler_desktop.client.quota import duration, needs, parse_rate
from tests.fakeweb import FakeWeb, FakeWebConfig

ENGINES = ["bing", "duckduckgo"]
SEARCHES = {"bing": ("/images/search", "/images/async"), "duckduckgo": ("/i.js",)}


def run_once(args: argparse.Namespace, latency: float) -> dict:
    config = FakeWebConfig(results_per_keyword=200, latency=latency, search_latency=latency)
    with FakeWeb(config=config) as web, deployment(
        args.backend, search_rate_limit=args.rate, **{
            f"engine_{name}_url": url for name, url in web.engine_urls().items()}) as stack:
        stack.start_worker(concurrency=args.concurrency)
        client = signed_in(stack)
        names = [f"quota bench {n}" for n in range(args.keywords)]
        job = client.post("/jobs", json={"name": "quota bench", "keywords": names,
                                         "engines": ENGINES, "max_images": args.images})
        job.raise_for_status()
        job_id = job.json()["id"]
        chunks = [Chunk.model_validate(c) for c in client.get(f"/jobs/{job_id}/chunks").json()]
        engines = [Engine.model_validate(e) for e in client.get("/engines").json()]
        per_engine = needs(chunks, engines)
        wall, progress = run_to_end(client, job_id, 0.5)
        made = {name: sum(web.hits(path) for path in paths) for name, paths in SEARCHES.items()}
    amount, window = parse_rate(args.rate)
    return {"latency": latency, "wall": wall, "bound": max(n.seconds for n in per_engine),
            "made_bound": max((math.ceil(q / amount) - 1) * window for q in made.values()),
            "needs": per_engine, "made": made, "status": progress["status"],
            "images": progress["downloaded_images"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    backend_arg(parser)
    parser.add_argument("--keywords", type=int, default=60)
    parser.add_argument("--images", type=int, default=30, help="images per keyword")
    parser.add_argument("--rate", default="10/minute", help="every engine's search quota")
    parser.add_argument("--concurrency", type=int, default=4, help="worker threads")
    parser.add_argument("--latency", default="0,0.1", help="comma-separated added latencies")
    args = parser.parse_args()
    print(f"{args.keywords} keywords x {', '.join(ENGINES)} x {args.images} images, "
          f"{args.rate} per engine, backend={args.backend}, {args.concurrency} worker threads")
    print("  bound: the least time for the queries the chunks need (one per page of their "
          "target); made: for the queries actually sent (duplicates and failures cost more)")
    print(f"  {'latency':>8s} {'bound':>10s} {'wall':>10s} {'wall÷bound':>10s} "
          f"{'made bound':>10s} {'wall÷made':>9s} {'images':>7s}  queries needed / made")
    for latency in (float(x) for x in args.latency.split(",")):
        r = run_once(args, latency)
        need = ", ".join(f"{n.engine} {n.queries}/{r['made'][n.engine]}" for n in r["needs"])
        ratio = r["wall"] / r["bound"] if r["bound"] else math.nan
        made = r["wall"] / r["made_bound"] if r["made_bound"] else math.nan
        print(f"  {latency * 1000:6.0f}ms {duration(r['bound']):>10s} "
              f"{duration(r['wall']):>10s} {ratio:10.2f} {duration(r['made_bound']):>10s} "
              f"{made:9.2f} {r['images']:7d}  {need} ({r['status']})", flush=True)


if __name__ == "__main__":
    main()
