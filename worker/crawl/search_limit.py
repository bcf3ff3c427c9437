"""Search-query quota per engine, shared by every worker that crawls.

Engines throttle or ban clients that query too fast, so "10/minute" per engine must hold across
all chunk tasks at once: across hosts via Redis (server mode) or across the processes of one
machine via a locked state file (embedded mode). Each engine has its own rate
(`PIXCRAWLER_ENGINE_<NAME>_SEARCH_RATE`, else its source's published limit, else
`PIXCRAWLER_SEARCH_RATE_LIMIT`), which may hold several windows: Openverse's anonymous
"20/minute;200/day".

A caller books a slot rather than waiting for one: `book` takes the earliest send time the
moving window allows, now or later, and says how far off it is. A chunk whose slot is far
off can then give its worker back and come again at that time (worker.crawl.chunk), where a
caller that slept would hold the worker for nothing. Bookings are kept as send times: the
next one goes at or after the last, and at least one window after the send `amount` places
back, so no window ever holds more than `amount` sends, whatever the mix of now and later.
Bookings never go back in time, so a slot that is a window after the `amount`-th last send of
each window keeps every window.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import cache
from pathlib import Path

import limits
from filelock import FileLock

from worker.crawl.storage import keyword_slug
from worker.crawl.types import ServiceDown

_KEY = "pixcrawler-search:{}"

Rates = Callable[[str], str]  # engine name -> its rate, e.g. "10/minute" or "20/minute;200/day"
Windows = tuple[tuple[int, float], ...]  # (queries, window seconds) each


@cache
def _parse(rate: str) -> Windows:
    """The (queries, window seconds) of each window of a rate like "20/minute;200/day"."""
    return tuple((item.amount, float(item.get_expiry())) for item in limits.parse_many(rate))


def next_slot(stamps: list[float], now: float, windows: Windows) -> float:
    """The earliest send time the booked ``stamps`` (sorted, none older than the longest
    window) leave: not before now or the last booking, and for each window a window after
    the send ``amount`` places back when there are that many."""
    at = max(now, stamps[-1]) if stamps else now
    for amount, window in windows:
        if len(stamps) >= amount:
            at = max(at, stamps[-amount] + window)
    return at


class SearchLimiter(ABC):
    """``limiter.book("bing")`` takes the next bing query slot and says how far off it is.
    ``rates`` maps an engine to its rate (or one rate for all)."""

    def __init__(self, rates: Rates | str) -> None:
        self.rates: Rates = (lambda _engine: rates) if isinstance(rates, str) else rates
        _parse(self.rates(""))  # a bad rate fails here, not at the first query

    def limit(self, engine: str) -> Windows:
        return _parse(self.rates(engine))

    def book(self, engine: str, within: float | None = None) -> float:
        """Take the earliest query slot for ``engine``: seconds until it (0: now). With
        ``within``, a slot further off than that is only said, not taken: a caller that
        would not use it (the engine health check) leaves it to the crawl."""
        return self._book(engine, self.limit(engine), -1.0 if within is None else within)

    @abstractmethod
    def _book(self, engine: str, windows: Windows, within: float) -> float:
        """``within`` < 0: take the slot however far off."""

    @abstractmethod
    def clear(self, engine: str) -> None:
        """Forget the engine's bookings (tests and admin tools)."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections held by the back end."""


# KEYS[1]: the engine's sorted set of send times. ARGV: a unique member, how far off a slot
# may be to be taken (negative: any), the longest window, then amount and window of each
# window. Redis's own clock, so hosts whose clocks differ still share one schedule.
_BOOK = """
local within, longest = tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local at = now
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) > at then at = tonumber(last[2]) end
local count = redis.call('ZCARD', KEYS[1])
for i = 4, #ARGV, 2 do
  local amount, window = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  if count >= amount then
    local back = redis.call('ZRANGE', KEYS[1], -amount, -amount, 'WITHSCORES')
    if tonumber(back[2]) + window > at then at = tonumber(back[2]) + window end
  end
end
if within >= 0 and at - now > within then return tostring(at - now) end
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(at - now + longest) + 1)
return tostring(at - now)
"""


class RedisSearchLimiter(SearchLimiter):
    """Bookings in a Redis sorted set, taken by one script: one schedule for every host."""

    def __init__(self, rates: Rates | str, storage_url: str) -> None:
        super().__init__(rates)
        import redis  # a lab server's dependency only

        self.client = redis.Redis.from_url(storage_url)
        self.script = self.client.register_script(_BOOK)

    def _book(self, engine: str, windows: Windows, within: float) -> float:
        from redis.exceptions import RedisError

        longest = max(window for _amount, window in windows)
        pairs = [n for amount_window in windows for n in amount_window]
        try:
            delay = self.script(keys=[_KEY.format(engine)],
                                args=[uuid.uuid4().hex, within, longest, *pairs])
        except (RedisError, OSError) as exc:
            raise ServiceDown("Redis (search rate limit)", str(exc) or type(exc).__name__) \
                from exc
        return max(float(delay), 0.0)

    def clear(self, engine: str) -> None:
        self.client.delete(_KEY.format(engine))

    def close(self) -> None:
        self.client.close()


class FileSearchLimiter(SearchLimiter):
    """Bookings kept in ``<state_dir>/<engine>.json`` under a file lock.

    Works across the processes of one machine (embedded mode) with nothing else installed. The
    file holds the send times still inside the window or booked ahead; a torn or corrupt file
    counts as empty (the worst case is a few extra queries, never a stuck crawler).
    """

    def __init__(self, rates: Rates | str, state_dir: Path, lock_timeout: float = 30.0) -> None:
        super().__init__(rates)
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.lock_timeout = lock_timeout

    def _paths(self, engine: str) -> tuple[Path, Path]:
        name = keyword_slug(engine)
        return self.state_dir / f"{name}.json", self.state_dir / f"{name}.lock"

    def _book(self, engine: str, windows: Windows, within: float) -> float:
        state, lock = self._paths(engine)
        longest = max(window for _amount, window in windows)
        with FileLock(lock, timeout=self.lock_timeout):
            now = time.time()
            stamps = sorted(t for t in _read_stamps(state) if t > now - longest)
            at = next_slot(stamps, now, windows)
            if within < 0 or at - now <= within:
                _write_stamps(state, [*stamps, at])
        return at - now

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


def make_search_limiter(rates: Rates | str, storage_url: str, state_dir: Path) -> SearchLimiter:
    """Redis when ``storage_url`` is a redis URL (server mode), else the file back end."""
    if storage_url.startswith(("redis://", "rediss://", "redis+unix://")):
        return RedisSearchLimiter(rates, storage_url)
    return FileSearchLimiter(rates, state_dir)
