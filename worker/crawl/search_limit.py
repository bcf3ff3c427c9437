"""Search-query rate limit per engine, shared by every worker that crawls.

Engines throttle or ban clients that query too fast, so "10/minute" per engine must hold across
all chunk tasks at once: across hosts via Redis (server mode) or across the processes of one
machine via a locked state file (embedded mode). Both are moving windows; a caller that is over
the limit sleeps until the oldest query in the window expires, never polling in a loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path

import limits
from filelock import FileLock
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from worker.crawl.storage import keyword_slug
from worker.crawl.types import ServiceDown

_NAMESPACE = "pixcrawler-search"
_EPSILON = 0.01  # sleep a hair past the window edge so the retry lands inside the new window


class SearchLimiter(ABC):
    """``await limiter.acquire("bing")`` returns once a bing query may be sent."""

    def __init__(self, rate: str) -> None:
        self.item = limits.parse(rate)
        self.rate = rate

    @property
    def window(self) -> float:
        return float(self.item.get_expiry())

    async def acquire(self, engine: str) -> None:
        """Wait (sleeping, not spinning) until a query to ``engine`` is allowed, and take it."""
        while True:
            wait = await asyncio.to_thread(self._try_acquire, engine)
            if wait <= 0:
                return
            await asyncio.sleep(wait + _EPSILON)

    @abstractmethod
    def _try_acquire(self, engine: str) -> float:
        """Take a slot and return 0, or take nothing and return seconds until one frees."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections held by the back end."""


class RedisSearchLimiter(SearchLimiter):
    """Moving window in Redis via the ``limits`` library: one limit for every worker host."""

    def __init__(self, rate: str, storage_url: str) -> None:
        super().__init__(rate)
        self.storage = storage_from_string(storage_url)
        self.limiter = MovingWindowRateLimiter(self.storage)

    def _try_acquire(self, engine: str) -> float:
        from redis.exceptions import RedisError  # a lab server's dependency only

        try:
            return self._take(engine)
        except (RedisError, OSError) as exc:
            raise ServiceDown("Redis (search rate limit)", str(exc) or type(exc).__name__) \
                from exc

    def _take(self, engine: str) -> float:
        if self.limiter.hit(self.item, _NAMESPACE, engine):
            return 0.0
        stats = self.limiter.get_window_stats(self.item, _NAMESPACE, engine)
        if stats.remaining > 0:  # a slot freed between hit() and the stats call
            return 0.0 if self.limiter.hit(self.item, _NAMESPACE, engine) else _EPSILON
        return max(stats.reset_time - time.time(), _EPSILON)

    def clear(self, engine: str) -> None:
        """Forget the engine's window (tests and admin tools)."""
        self.limiter.clear(self.item, _NAMESPACE, engine)


class FileSearchLimiter(SearchLimiter):
    """Moving window kept in ``<state_dir>/<engine>.json`` under a file lock.

    Works across the processes of one machine (embedded mode) with nothing else installed. The
    file holds the send times still inside the window; a torn or corrupt file counts as empty
    (the worst case is a few extra queries, never a stuck crawler).
    """

    def __init__(self, rate: str, state_dir: Path, lock_timeout: float = 30.0) -> None:
        super().__init__(rate)
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.lock_timeout = lock_timeout

    def _paths(self, engine: str) -> tuple[Path, Path]:
        name = keyword_slug(engine)
        return self.state_dir / f"{name}.json", self.state_dir / f"{name}.lock"

    def _try_acquire(self, engine: str) -> float:
        state, lock = self._paths(engine)
        with FileLock(lock, timeout=self.lock_timeout):
            now = time.time()
            window = self.window
            stamps = [t for t in _read_stamps(state) if now - window < t <= now + window]
            if len(stamps) < self.item.amount:
                stamps.append(now)
                _write_stamps(state, stamps)
                return 0.0
            stamps.sort()
            # the slot frees when the oldest of the newest `amount` sends leaves the window
            return max(stamps[-self.item.amount] + window - now, _EPSILON)

    def clear(self, engine: str) -> None:
        state, lock = self._paths(engine)
        with FileLock(lock, timeout=self.lock_timeout):
            state.unlink(missing_ok=True)


def _read_stamps(path: Path) -> list[float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, list):
        return []
    return [float(t) for t in data if isinstance(t, int | float)]


def _write_stamps(path: Path, stamps: list[float]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stamps, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_search_limiter(rate: str, storage_url: str, state_dir: Path) -> SearchLimiter:
    """Redis when ``storage_url`` is a redis URL (server mode), else the file back end."""
    if storage_url.startswith(("redis://", "rediss://", "redis+unix://")):
        return RedisSearchLimiter(rate, storage_url)
    return FileSearchLimiter(rate, state_dir)
