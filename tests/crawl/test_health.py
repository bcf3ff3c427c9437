"""Engine health checks: each outcome from the fake web, and `pixcrawler-worker check-engines`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakeweb import FakeWeb
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.engines import ENGINES, make_engine
from worker.crawl.health import check_engines

REPO = Path(__file__).resolve().parents[2]


def engines(web: FakeWeb, *names: str) -> dict:
    return {n: make_engine(n, web.base_url,
                           api_key=FAKE_API_KEY if ENGINES[n].key_setting else None)
            for n in names}


def test_each_outcome_is_named(fakeweb: FakeWeb) -> None:
    fakeweb.config.blocked = {"google"}
    fakeweb.config.broken = {"bing"}
    fakeweb.config.keyword_results = {"cat": 0}
    found = engines(fakeweb, "google", "bing", "wikimedia")
    found["pexels"] = "needs an API key: set PIXCRAWLER_PEXELS_API_KEY"
    results = {r.name: r for r in asyncio.run(check_engines(found, "cat", allow_private=True))}
    assert results["google"].status == "blocked"
    assert results["bing"].status == "format_not_recognised"
    assert results["wikimedia"].status == "zero_results"
    assert results["pexels"].status == "unavailable"
    assert results["pexels"].message == "pexels: needs an API key: set PIXCRAWLER_PEXELS_API_KEY"
    assert not any(r.ok for r in results.values())


def test_ok_counts_results_and_times_the_query(fakeweb: FakeWeb) -> None:
    fakeweb.config.search_latency = 0.2
    [result] = asyncio.run(check_engines(engines(fakeweb, "openverse"), "cat",
                                         allow_private=True))
    assert result.ok and result.results > 0
    assert result.elapsed_ms >= 200


def test_a_slow_engine_fails_on_the_timeout(fakeweb: FakeWeb) -> None:
    fakeweb.config.search_latency = 2
    [result] = asyncio.run(check_engines(engines(fakeweb, "bing"), "cat", timeout=0.3,
                                         allow_private=True))
    assert result.status == "failed"
    assert result.message == "bing: no answer within 0.3 s"


def run_cli(web: FakeWeb, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
    env.update(web.engine_env())
    env["PIXCRAWLER_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "worker.worker_main", "check-engines", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_check_engines_command(fakeweb: FakeWeb, tmp_path: Path) -> None:
    proc = run_cli(fakeweb, tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["name"] for r in results] == list(ENGINES)
    assert {r["status"] for r in results} == {"ok"}

    fakeweb.config.blocked = {"duckduckgo"}
    proc = run_cli(fakeweb, tmp_path, "bing", "duckduckgo")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["bing", "ok"] and lines[0].endswith("results")
    assert lines[1].split()[:2] == ["duckduckgo", "blocked"]
    assert "duckduckgo: blocked (HTTP 403)" in lines[1]


def test_check_engines_refuses_unknown_names(fakeweb: FakeWeb, tmp_path: Path) -> None:
    proc = run_cli(fakeweb, tmp_path, "altavista")
    assert proc.returncode == 2
    assert "unknown engine 'altavista'" in proc.stderr
