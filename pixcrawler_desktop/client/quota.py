"""Search quotas in words: how long a job needs at least, and why a chunk or a job waits.

The server books every engine's search queries against its quota (GET /engines gives each
engine's `search_rate` and `page_size`); a chunk whose booked slot is ahead waits, pending,
until then. The app and the CLI say the same sentences, from these functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pixcrawler_desktop.client.models import Chunk, Engine

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)


def parse_rate(rate: str) -> tuple[int, float] | None:
    """(queries, window seconds) of "10/minute", "1/4 seconds" or "2 per hour"; None if
    it reads otherwise."""
    match = _RATE.match(rate)
    if not match:
        return None
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit.lower()]


def parse_windows(rate: str) -> list[tuple[int, float]]:
    """Each window of a rate that may hold several, "20/minute;200/day"; [] if one of
    them reads otherwise."""
    windows = [parse_rate(part) for part in re.split(r"[;,|]", rate) if part.strip()]
    return [w for w in windows if w is not None] if all(windows) else []


def least_seconds(queries: int, rate: str) -> float:
    """The least time `queries` take at `rate`: a window's worth go at once, then `amount`
    per window, the slowest window deciding."""
    if queries <= 0:
        return 0.0
    return max(((math.ceil(queries / amount) - 1) * window
                for amount, window in parse_windows(rate)), default=0.0)


def duration(seconds: float) -> str:
    """3 s, 1 min 5 s, 2 h 3 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@dataclass(frozen=True)
class EngineNeed:
    engine: str
    queries: int  # at least: one per page of results a chunk needs
    rate: str
    seconds: float  # the least time the quota allows for them


def needs(chunks: Iterable[Chunk], engines: Sequence[Engine]) -> list[EngineNeed]:
    """Per engine of the job, the fewest queries its chunks need and the least time its quota
    allows for them (a window's worth go at once, then `amount` per window)."""
    by_name = {e.name: e for e in engines}
    queries: dict[str, int] = {}
    for chunk in chunks:
        engine = by_name.get(chunk.engine)
        page = engine.page_size if engine and engine.page_size else 1
        left = max(chunk.target - chunk.downloaded, 0)
        queries[chunk.engine] = queries.get(chunk.engine, 0) + math.ceil(left / page)
    out = []
    for name, count in queries.items():
        rate = by_name[name].search_rate if name in by_name else None
        seconds = least_seconds(count, rate) if rate else 0.0
        out.append(EngineNeed(name, count, rate or "no limit", seconds))
    return out


def least_time_sentence(chunks: Iterable[Chunk], engines: Sequence[Engine]) -> str | None:
    """"Search quota: about 12 queries on bing at 10/minute, … — this job needs at least
    1 min 6 s." None when no engine's quota makes it wait."""
    per_engine = needs(chunks, engines)
    longest = max((n.seconds for n in per_engine), default=0.0)
    if longest < 1:
        return None
    parts = ", ".join(f"{n.queries} on {n.engine} at {n.rate}" for n in per_engine)
    return (f"Search quota: about {parts} search queries; engines run side by side, so this "
            f"job needs at least {duration(longest)}.")


def seconds_left(until: datetime | None, now: datetime | None = None) -> float | None:
    if until is None:
        return None
    left = (until - (now or datetime.now(UTC))).total_seconds()
    return left if left > 0 else None


def chunk_wait(chunk: Chunk, now: datetime | None = None) -> str | None:
    """"waiting for bing quota · 23 s" while the chunk waits for its search quota."""
    left = seconds_left(chunk.waiting_until, now)
    if left is None or chunk.status not in ("pending", "running"):
        return None
    return f"waiting for {chunk.engine} quota · {duration(left)}"


def job_wait(chunks: Sequence[Chunk], engines: Sequence[Engine] = (),
             now: datetime | None = None) -> str | None:
    """One line on why a job is slow: "Waiting for the search quota of bing (10/minute):
    5 chunks wait, the next query goes in 23 s." None when no chunk waits."""
    waiting: dict[str, list[float]] = {}
    for chunk in chunks:
        left = seconds_left(chunk.waiting_until, now)
        if left is not None and chunk.status in ("pending", "running"):
            waiting.setdefault(chunk.engine, []).append(left)
    if not waiting:
        return None
    rates = {e.name: e.search_rate for e in engines if e.search_rate}
    parts = []
    for engine, lefts in sorted(waiting.items()):
        rate = f" ({rates[engine]})" if engine in rates else ""
        many = f"{len(lefts)} chunks wait" if len(lefts) > 1 else "1 chunk waits"
        parts.append(f"{engine}{rate}: {many}, the next query goes in {duration(min(lefts))}")
    return "Waiting for the search quota of " + "; ".join(parts) + "."
