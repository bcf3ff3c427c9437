"""A real PixCrawler deployment for tests: the API and Celery workers as child processes, on
SQLite + filesystem broker or PostgreSQL + Redis, crawling the loopback fake web."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fakeweb.sites import fake_key_env
from worker.crawl.terms import TERMS

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             interval: float = 0.05):
    """Poll until `predicate` returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def create_pg_database() -> str:
    import psycopg

    name = f"pixcrawler_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_CLAIM_KEY = "pixcrawler:test-stack"


def claim_redis_db() -> int:
    """A Redis database no other test deployment uses (also across concurrent test runs): the
    first of 1–14 whose claim key we can set (15 is the search-limit tests'). The claim
    expires, so a killed run frees it."""
    import redis

    for db in range(1, 15):
        conn = redis.Redis.from_url(f"{REDIS_URL}/{db}")
        if conn.set(REDIS_CLAIM_KEY, os.getpid(), nx=True, ex=3600):
            return db
    raise AssertionError("all Redis databases 1-14 are claimed by other test deployments")


# Search quotas that never make a test wait: the common one, and the sources' own defaults
# (worker.crawl.terms), which the common one does not override.
UNLIMITED_SEARCH = {"PIXCRAWLER_SEARCH_RATE_LIMIT": "6000/minute",
                    **{f"PIXCRAWLER_ENGINE_{name.upper()}_SEARCH_RATE": "6000/minute"
                       for name, terms in TERMS.items() if terms.search_rate}}
CONTACT = "pixcrawler-tests@example.org"  # what the test stacks tell the sites they crawl


class Stack:
    """One server deployment: its settings as environment variables, its API and workers."""


    def __init__(self, kind: str, workdir: Path, engine_urls: dict[str, str]) -> None:
        self.kind = kind
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg_db: str | None = None
        self.redis_db: int | None = None
        env = {
            "PIXCRAWLER_DATA_DIR": str(self.data_dir),
            "PIXCRAWLER_SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
            **UNLIMITED_SEARCH,
            "PIXCRAWLER_CONTACT": CONTACT,
            "PIXCRAWLER_ALLOW_PRIVATE_ADDRESSES": "true",
            "PIXCRAWLER_CHUNK_HEARTBEAT": "0.5",
            "PIXCRAWLER_CHUNK_STALE_AFTER": "3",
            "PIXCRAWLER_RECOVERY_INTERVAL": "0.5",
            "PIXCRAWLER_EVENTS_INTERVAL": "0.2",
            "PIXCRAWLER_DOWNLOAD_TIMEOUT": "5",
            # Every test registers and signs in its own users from 127.0.0.1: the per-address
            # limits are tested on stacks of their own (tests/api/test_hostile_auth.py).
            "PIXCRAWLER_OPEN_REGISTRATION": "true",
            "PIXCRAWLER_REGISTER_RATE_LIMIT": "100000/minute",
            "PIXCRAWLER_LOGIN_ADDRESS_RATE_LIMIT": "100000/minute",
            "PIXCRAWLER_ENGINE_HEALTH_RATE_LIMIT": "100000/minute",
            # Test jobs are small; a CI disk with little room must not refuse them.
            "PIXCRAWLER_DISK_START_MIN_MB": "50",
            "PIXCRAWLER_DISK_STOP_BELOW_MB": "10",
        }
        for name, url in engine_urls.items():
            env[f"PIXCRAWLER_ENGINE_{name.upper()}_URL"] = url
        env.update(fake_key_env())
        if kind == "postgres":
            self.pg_db = create_pg_database()
            self.redis_db = claim_redis_db()
            env["PIXCRAWLER_MODE"] = "server"
            env["PIXCRAWLER_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{self.pg_db}"
            env["PIXCRAWLER_BROKER_URL"] = f"{REDIS_URL}/{self.redis_db}"
            self._flush_redis()
        self.env = env
        self.api: subprocess.Popen | None = None
        self.api_url = ""
        self.workers: list[subprocess.Popen] = []

    def settings(self):
        """This deployment's Settings, for tests that look into its database directly."""
        from worker.settings import Settings

        values = {k.removeprefix("PIXCRAWLER_").lower(): json.loads(v) if v[:1] == "{" else v
                  for k, v in self.env.items() if not k.startswith("PIXCRAWLER_ENGINE_")}
        return Settings(_env_file=None, **values)

    def _flush_redis(self, keep_claim: bool = True) -> None:
        import redis

        conn = redis.Redis.from_url(f"{REDIS_URL}/{self.redis_db}")
        conn.flushdb()
        if keep_claim:
            conn.set(REDIS_CLAIM_KEY, os.getpid(), ex=3600)

    def process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
        env.update(self.env)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, role: str, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.logs / f"{log_name}.log", "ab")  # noqa: SIM115 - lives with the process
        return subprocess.Popen(
            [sys.executable, "-m", "pixcrawler_desktop", role, *args],
            cwd=self.workdir, env=self.process_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_api(self, port: int | None = None) -> None:
        port = port or free_port()
        self.api = self._spawn("api", ["--port", str(port), "--log-level", "warning"], "api")
        self.api_url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if self.api.poll() is not None:
                raise AssertionError(f"API exited: {self.log('api')}")
            try:
                return httpx.get(f"{self.api_url}/openapi.json", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 60, "the API to answer")

    def stop_api(self) -> None:
        if self.api is not None:
            self._stop(self.api)

    def restart_api(self) -> None:
        """Stop the API and start it again on the same address (clients keep their URL)."""
        self.stop_api()
        self.start_api(int(self.api_url.rsplit(":", 1)[1]))

    def start_worker(self, name: str | None = None, concurrency: int = 4) -> subprocess.Popen:
        """A worker with its mode's default pool: threads (embedded) or prefork (server)."""
        name = name or f"w{len(self.workers)}"
        proc = self._spawn("worker", ["--concurrency", str(concurrency),
                                      "--hostname", f"{name}@%h", "--loglevel", "INFO"],
                           f"worker-{name}")
        self.workers.append(proc)
        log_path = self.logs / f"worker-{name}.log"

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"worker exited: {log_path.read_text()[-3000:]}")
            return log_path.exists() and " ready." in log_path.read_text(errors="replace")

        wait_for(ready, 60, f"worker {name} to be ready", interval=0.1)
        return proc

    def ensure_worker(self) -> None:
        if not any(p.poll() is None for p in self.workers):
            self.start_worker()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    @staticmethod
    def _stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def close(self) -> None:
        for proc in self.workers:
            self._stop(proc)
        if self.api is not None:
            self._stop(self.api)
        if self.pg_db:
            drop_pg_database(self.pg_db)
        if self.redis_db is not None:
            self._flush_redis(keep_claim=False)
