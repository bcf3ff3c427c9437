"""Requests/second of GET /jobs/{id}/progress against GET /health on the same server.

50 concurrent clients (aiohttp, so the load generator is not the bottleneck) hit each endpoint
in turn for a few seconds; the job is a running 100-keyword × 2-engine job (200 chunks).
Goal (issue 2): progress at least 0.7 of health.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, make_job, signed_in


async def hammer(url: str, headers: dict, clients: int, seconds: float) -> tuple[float, list]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def client() -> None:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                async with session.get(url) as r:
                    await r.read()
                    if r.status != 200:
                        raise SystemExit(f"{url} answered {r.status}: {await r.text()}")
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return len(latencies) / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    backend_arg(parser)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache-seconds", default="0.5",
                        help="PIXCRAWLER_PROGRESS_CACHE_SECONDS for the server (0: no cache)")
    args = parser.parse_args()
    with deployment(args.backend, start_rate_limit="1000/minute",
                    progress_cache_seconds=args.cache_seconds) as stack:
        client = signed_in(stack)
        job_id = make_job(client, 100, ["bing", "duckduckgo"])
        client.post(f"/jobs/{job_id}/start").raise_for_status()
        auth = {"Authorization": client.headers["Authorization"]}
        urls = {"health": (f"{stack.api_url}/api/v1/health", {}),
                "progress": (f"{stack.api_url}/api/v1/jobs/{job_id}/progress", auth)}
        asyncio.run(hammer(urls["health"][0], {}, 4, 1.0))  # warm up
        results: dict[str, list] = {"health": [], "progress": []}
        rates: dict[str, list[float]] = {"health": [], "progress": []}
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            for name, (url, headers) in urls.items():
                rate, lat = asyncio.run(hammer(url, headers, args.clients, args.seconds))
                rates[name].append(rate)
                results[name] += lat
    print(f"backend={args.backend} cache={args.cache_seconds}s clients={args.clients} "
          f"{args.rounds}x{args.seconds:.0f}s per endpoint")
    for name in ("health", "progress"):
        lat = results[name]
        print(f"  {name:9s} {statistics.mean(rates[name]):8.1f} req/s   "
              f"p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms")
    ratio = statistics.mean(rates["progress"]) / statistics.mean(rates["health"])
    print(f"  progress/health = {ratio:.2f}  (goal >= 0.7)")


if __name__ == "__main__":
    main()
