"""Shared by the benchmarks: a real deployment (API child process) and a signed-in user."""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.stack import Stack


def backend_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                        help="sqlite + filesystem broker, or postgres + redis")


@contextlib.contextmanager
def deployment(kind: str, **env: str) -> Iterator[Stack]:
    with tempfile.TemporaryDirectory(prefix="pixcrawler-bench-") as tmp:
        stack = Stack(kind, Path(tmp), {})
        stack.env.update({f"PIXCRAWLER_{k.upper()}": v for k, v in env.items()})
        try:
            stack.start_api()
            yield stack
        finally:
            stack.close()


def signed_in(stack: Stack) -> httpx.Client:
    client = httpx.Client(base_url=f"{stack.api_url}/api/v1", timeout=60)
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    client.post("/auth/register", json={"email": email, "password": password}).raise_for_status()
    token = client.post("/auth/login", json={"email": email, "password": password})
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def make_job(client: httpx.Client, keywords: int, engines: list[str]) -> int:
    names = [f"kw {i}" for i in range(keywords)]
    r = client.post("/jobs", json={"name": "bench", "keywords": names, "engines": engines,
                                   "max_images": 100})
    r.raise_for_status()
    return r.json()["id"]


def run_to_end(client: httpx.Client, job_id: int, poll: float) -> tuple[float, dict]:
    """Start the job and poll its progress until it has ended: (seconds from the start call,
    the last progress)."""
    t0 = time.perf_counter()
    client.post(f"/jobs/{job_id}/start").raise_for_status()
    while True:
        progress = client.get(f"/jobs/{job_id}/progress").json()
        if progress["status"] not in ("pending", "running"):
            return time.perf_counter() - t0, progress
        time.sleep(poll)
