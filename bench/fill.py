"""Top-up to the count (job option `fill`): images per keyword reached and job time, with and
without it, when one engine has only 60% of its share.

A 20-keyword job on bing + duckduckgo asks for 100 images per keyword (a share of 50 per
engine); the fake web gives bing only 30 results per keyword (60% of its share) and each
engine its own images. Without fill a keyword gets 80; with fill duckduckgo takes over bing's
missing 20. Each run is its own real deployment (API + worker, SQLite + folder broker).

    .venv/bin/python -m bench.fill [--keywords 20] [--images 100] [--short 0.6]
        [--latency 0.02] [--backend postgres]
"""

from __future__ import annotations

import argparse
import statistics

from bench.common import backend_arg, deployment, run_to_end, signed_in
from tests.fakeweb import FakeWeb, FakeWebConfig

ENGINES = ["bing", "duckduckgo"]


def run_once(args: argparse.Namespace, fill: bool) -> dict:
    share = args.images // len(ENGINES)
    config = FakeWebConfig(results_per_keyword=4 * args.images, latency=args.latency,
                           search_latency=args.latency, distinct_engines=True,
                           engine_results={"bing": round(share * args.short)})
    with FakeWeb(config=config) as web, deployment(args.backend, **{
            f"engine_{name}_url": url for name, url in web.engine_urls().items()}) as stack:
        stack.start_worker()
        client = signed_in(stack)
        names = [f"fill bench {n}" for n in range(args.keywords)]
        job = client.post("/jobs", json={"name": "fill bench", "keywords": names,
                                         "engines": ENGINES, "max_images": args.images,
                                         "fill": fill})
        job.raise_for_status()
        job_id = job.json()["id"]
        wall, progress = run_to_end(client, job_id, 0.2)
        chunks = client.get(f"/jobs/{job_id}/chunks").json()
        body = client.get(f"/jobs/{job_id}").json()
    per_keyword = {n: sum(c["downloaded"] for c in chunks if c["keyword"] == n) for n in names}
    return {"fill": fill, "wall": wall, "status": progress["status"],
            "per_keyword": list(per_keyword.values()), "breakdown": body["breakdown"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keywords", type=int, default=20)
    parser.add_argument("--images", type=int, default=100, help="max_images per keyword")
    parser.add_argument("--short", type=float, default=0.6,
                        help="the fraction of its share bing has results for")
    parser.add_argument("--latency", type=float, default=0.02,
                        help="seconds added to every fake-web answer")
    backend_arg(parser)
    args = parser.parse_args()
    print(f"{args.keywords} keywords x {ENGINES}, {args.images} per keyword, bing has "
          f"{args.short:.0%} of its share; latency {args.latency * 1000:.0f} ms")
    print(f"  {'fill':>5s} {'status':>10s} {'per keyword (min/mean/max)':>28s} "
          f"{'reached':>8s} {'job time':>9s}")
    for fill in (False, True):
        r = run_once(args, fill)
        got = r["per_keyword"]
        reached = sum(got) / (args.images * args.keywords)
        print(f"  {fill!s:>5s} {r['status']:>10s} "
              f"{min(got):>8d} / {statistics.mean(got):6.1f} / {max(got):<8d}   "
              f"{reached:7.1%} {r['wall']:8.1f}s")
        b = r["breakdown"]
        print(f"        breakdown: downloaded {b['downloaded']}, ran out {b['ran_out']}, "
              f"failed {b['failed']}, duplicates {b['duplicates']}, topped up "
              f"{b['topped_up']}")


if __name__ == "__main__":
    main()
