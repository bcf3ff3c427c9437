"""What four clients posting 10 MB bodies to /auth/login cost everyone else (issue 16).

One real API process (bench/common.py `deployment`). A probe asks GET /api/v1/health/live
one request after another: alone; while four hostile clients post 10 MB JSON arrays to
/auth/login over and over (two with a Content-Length, two chunked, so the server has to
count); and, as the peer in the same run, while the same four post 100-byte bodies (what the
request rate alone costs). It prints the probe's p50/p99 side by side, their ratios, and the
server's CPU seconds in each phase.

Before the body limit, one such body stalled every other request for up to 13 s and four
took 70 s. `--body-mb 0.99 --path /jobs` posts bodies just under the general limit, signed
in, so each one is parsed (the cost that is left); `--max-body-mb 50` adds a run with the
limit above the bodies' size (with --path /jobs: /auth keeps its 16 KB).
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, signed_in

BODY_MB = 10
CONTROL_MB = 0.0001  # the same senders with 100-byte bodies: what the request rate costs
HOSTILE = 4
CHUNK = 256 * 1024


def hostile_body(mb: float) -> bytes:
    """A JSON array of about `mb` MB: valid JSON, the wrong shape for a login."""
    count = max(1, int(mb * 1_000_000 // 2))
    return b"[" + b"0," * (count - 1) + b"0]"


def probe(url: str, seconds: float) -> list[float]:
    """Latencies (s) of GET `url`, one after another on one connection, for `seconds`."""
    latencies: list[float] = []
    with httpx.Client(timeout=120) as client:
        stop_at = time.perf_counter() + seconds
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            r = client.get(url)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise SystemExit(f"{url} answered {r.status_code}: {r.text[:200]}")
    return latencies


def attack(url: str, headers: dict, mb: float, chunked: bool, ready, stop, outcomes) -> None:
    """Post a `mb` MB body until `stop`; count the answers (or how the connection ended).
    A process of its own, so the probe's timings are the server's, not this one's GIL."""
    body = hostile_body(mb)
    counts: Counter = Counter()

    def pieces() -> Iterator[bytes]:
        for at in range(0, len(body), CHUNK):
            yield body[at:at + CHUNK]

    with httpx.Client(timeout=120) as client:
        ready.release()
        while not stop.is_set():
            try:
                r = client.post(url, content=pieces() if chunked else body,
                                headers={"content-type": "application/json", **headers})
                counts[f"{r.status_code} ({len(r.content)} B)"] += 1
            except httpx.TransportError as exc:  # closed by the server mid-upload
                counts[type(exc).__name__] += 1
    outcomes.put(counts)


def run_phase(base: str, seconds: float, mb: float | None, server: psutil.Process,
              target: tuple[str, dict]) -> tuple[list[float], Counter]:
    """The probe's latencies, and the senders' outcomes plus the server's CPU seconds."""
    ctx = multiprocessing.get_context("spawn")
    ready, stop, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    senders = [ctx.Process(target=attack, daemon=True,
                           args=(f"{base}/api/v1{target[0]}", target[1], mb, i % 2 == 1,
                                 ready, stop, results))
               for i in range(HOSTILE if mb is not None else 0)]
    for p in senders:
        p.start()
    try:
        for _ in senders:  # timing starts once every sender has its body and is posting
            ready.acquire(timeout=120)
        cpu = sum(server.cpu_times()[:2])
        latencies = probe(f"{base}/api/v1/health/live", seconds)
        cpu = sum(server.cpu_times()[:2]) - cpu
    finally:
        stop.set()
    outcomes: Counter = Counter({"server CPU s": round(cpu, 2)})
    for _ in senders:
        outcomes.update(results.get(timeout=180))
    for p in senders:
        p.join(30)
    return latencies, outcomes


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def measure(kind: str, seconds: float, max_body_mb: int | None, body_mb: float,
            path: str) -> dict:
    env = {"max_body_bytes": str(max_body_mb * 1_000_000)} if max_body_mb else {}
    with deployment(kind, open_registration="true", **env) as stack:
        headers = {}
        if path != "/auth/login":  # a signed-in sender
            headers = {"Authorization": signed_in(stack).headers["Authorization"]}
        target = (path, headers)
        server = psutil.Process(stack.api.pid)
        probe(f"{stack.api_url}/api/v1/health/live", 1.0)  # warm up
        alone, _ = run_phase(stack.api_url, seconds, None, server, target)
        attacked, outcomes = run_phase(stack.api_url, seconds, body_mb, server, target)
        control, control_outcomes = run_phase(stack.api_url, seconds, CONTROL_MB, server,
                                              target)
    return {"alone": alone, "attacked": attacked, "outcomes": outcomes, "control": control,
            "control_outcomes": control_outcomes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    backend_arg(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--body-mb", type=float, default=BODY_MB,
                        help="size of the hostile bodies (0.99: just under the limit, so "
                             "each is parsed and refused by validation)")
    parser.add_argument("--path", default="/auth/login",
                        help="where the bodies go; any other path is posted to signed in "
                             "(e.g. /jobs, whose limit is the general one)")
    parser.add_argument("--max-body-mb", type=int, default=None,
                        help="also run with PIXCRAWLER_MAX_BODY_BYTES raised to this many MB")
    args = parser.parse_args()
    runs = {"limits as set (1 MB; 16 KB for /auth)":
            measure(args.backend, args.seconds, None, args.body_mb, args.path)}
    if args.max_body_mb:
        runs[f"limit {args.max_body_mb} MB"] = measure(args.backend, args.seconds,
                                                        args.max_body_mb, args.body_mb, args.path)
    print(f"GET /health/live, {args.backend}, {args.seconds:.0f} s per phase; "
          f"{HOSTILE} clients posting {args.body_mb:g} MB bodies to {args.path}")
    for name, run in runs.items():
        alone, attacked, control = run["alone"], run["attacked"], run["control"]
        print(f"\n{name}")
        big = f"{args.body_mb:g} MB"
        for label, values in (("alone", alone), (f"4 x {big} posts", attacked),
                              ("4 x 100 B posts", control)):
            print(f"  {label:16s}: {len(values):6d} requests  p50 {pct(values, 50):7.2f} ms  "
                  f"p99 {pct(values, 99):8.2f} ms  max {max(values) * 1000:8.1f} ms")
        print(f"  {big + ' / alone':16s}: p50 {pct(attacked, 50) / pct(alone, 50):5.2f}x  "
              f"p99 {pct(attacked, 99) / pct(alone, 99):5.2f}x")
        print(f"  {big + ' / 100 B':16s}: p50 {pct(attacked, 50) / pct(control, 50):5.2f}x  "
              f"p99 {pct(attacked, 99) / pct(control, 99):5.2f}x")
        for label, key in ((big, "outcomes"), ("100 B", "control_outcomes")):
            outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(run[key].items()))
            posts = sum(v for k, v in run[key].items() if k != "server CPU s")
            print(f"  {label} posts ({posts / args.seconds:.0f}/s): {outcomes}")


if __name__ == "__main__":
    main()
