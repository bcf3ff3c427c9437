"""Search-query limiter: file back end across processes, Redis back end across hosts."""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from worker.crawl.search_limit import (
    FileSearchLimiter,
    Rates,
    RedisSearchLimiter,
    SearchLimiter,
    make_search_limiter,
    next_slot,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["file", "redis"])
def make_limiter_with_rates(request, tmp_path: Path) -> Iterator[Callable[[Rates | str],
                                                                          SearchLimiter]]:
    """Factory for limiters sharing one back end (like separate worker processes would)."""
    if request.param == "redis" and not redis_up():
        message = "Redis not running on 127.0.0.1:6379"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI must provide it)")
        pytest.skip(message)
    made: list[SearchLimiter] = []

    def make(rates: Rates | str) -> SearchLimiter:
        url = REDIS_URL if request.param == "redis" else "memory://"
        limiter = make_search_limiter(rates, url, tmp_path / "limits")
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


@pytest.fixture
def make_limiter(make_limiter_with_rates) -> Callable[[str], SearchLimiter]:
    return make_limiter_with_rates


def fresh_engine() -> str:
    return f"engine-{uuid.uuid4().hex[:10]}"  # Redis db 15 outlives tests; never reuse a key


def test_back_end_is_chosen_by_url(tmp_path: Path) -> None:
    assert isinstance(make_search_limiter("10/minute", "", tmp_path), FileSearchLimiter)
    assert isinstance(
        make_search_limiter("10/minute", "filesystem://x", tmp_path), FileSearchLimiter
    )
    assert isinstance(make_search_limiter("10/minute", REDIS_URL, tmp_path), RedisSearchLimiter)


def test_bad_rate_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make_search_limiter("lots", "", tmp_path)


def test_over_limit_waits_and_other_engines_do_not(
    make_limiter: Callable[[str], SearchLimiter],
) -> None:
    first, second = make_limiter("2/minute"), make_limiter("2/minute")
    engine, other = fresh_engine(), fresh_engine()
    assert first.book(engine) == second.book(engine) == 0
    # The third query of the minute waits, whichever worker asks; another engine does not.
    assert first.book(engine) > 50 and second.book(engine) > 50
    assert first.book(other) == 0


def test_a_booking_is_when_the_oldest_query_leaves_the_window(
    make_limiter: Callable[[str], SearchLimiter],
) -> None:
    first, second = make_limiter("2/minute"), make_limiter("2/minute")
    engine = fresh_engine()
    assert first.book(engine) == 0
    assert second.book(engine) == 0
    # Later callers are given later slots, each its own: two per minute, in order.
    later = [first.book(engine), second.book(engine), first.book(engine)]
    assert 50 < later[0] <= 60 and 50 < later[1] <= 60
    assert 110 < later[2] <= 120


def test_a_slot_too_far_off_is_said_not_taken(
    make_limiter: Callable[[str], SearchLimiter],
) -> None:
    limiter = make_limiter("1/minute")
    engine = fresh_engine()
    assert limiter.book(engine, within=0) == 0  # free now: taken
    # The next slot is a minute off: asked with within=0 it is said each time, never taken,
    # so the crawl's next booking still gets that first later slot.
    said = [limiter.book(engine, within=0) for _ in range(3)]
    assert all(50 < wait <= 60 for wait in said)
    taken = limiter.book(engine)
    assert 50 < taken <= 60
    assert 110 < limiter.book(engine) <= 120


def test_rates_per_engine(make_limiter_with_rates) -> None:
    limiter = make_limiter_with_rates(lambda engine: "1/minute" if engine.startswith("slow")
                                      else "100/minute")
    slow, quick = "slow-" + fresh_engine(), fresh_engine()
    assert limiter.book(slow) == 0 and limiter.book(slow) > 50
    assert [limiter.book(quick) for _ in range(50)] == [0.0] * 50


def test_a_rate_of_several_windows_keeps_each(make_limiter_with_rates) -> None:
    """Openverse's anonymous "20/minute;200/day", scaled down: two a second and three an
    hour."""
    limiter = make_limiter_with_rates("2/2 seconds;3/hour")
    engine = fresh_engine()
    delays = [limiter.book(engine) for _ in range(4)]
    assert delays[:2] == [0.0, 0.0]
    assert 1.5 < delays[2] <= 2.0  # the 2-second window: the first send must leave it
    assert 3590 < delays[3] <= 3600  # the hour's three are taken


@pytest.mark.parametrize("seed", range(5))
def test_no_window_ever_holds_more_than_the_rate(seed: int) -> None:
    """Bookings made at random times, some now, some far ahead: every window of the schedule
    holds at most its `amount` sends, also with two windows at once."""
    import random

    rng = random.Random(seed)
    windows = ((rng.randint(1, 5), 60.0), (rng.randint(5, 12), 600.0))
    stamps: list[float] = []
    now = 0.0
    for _ in range(200):
        now += rng.expovariate(1 / 8)
        live = [t for t in stamps if t > now - 600.0]
        at = next_slot(live, now, windows)
        assert at >= now
        stamps.append(at)
    stamps.sort()
    for amount, window in windows:
        for i, start in enumerate(stamps):
            inside = [t for t in stamps[i:] if t < start + window]
            assert len(inside) <= amount


def test_slot_frees_after_the_window(make_limiter: Callable[[str], SearchLimiter]) -> None:
    limiter = make_limiter("1/second")
    engine = fresh_engine()
    assert limiter.book(engine) == 0
    time.sleep(limiter.book(engine))  # the second query's slot: the first has left the window
    assert limiter.book(engine) > 0.5  # and the third waits for the second
    # The booked slots are a window apart: it is not polling that spaces them.


def _book_many(rate: str, url: str, state_dir: str, engine: str, count: int, out) -> None:
    """Child process: take ``count`` queries, each sent at its booked slot; report when."""
    limiter = make_search_limiter(rate, url, Path(state_dir))
    stamps = []
    for _ in range(count):
        time.sleep(limiter.book(engine))
        stamps.append(time.time())
    out.put(stamps)


def test_limit_is_shared_between_processes(tmp_path: Path) -> None:
    """Two worker processes on one machine share the file back end's window."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    engine = fresh_engine()
    args = ("5/second", "", str(tmp_path / "limits"), engine, 4, out)
    procs = [ctx.Process(target=_book_many, args=args) for _ in range(2)]
    start = time.time()
    for proc in procs:
        proc.start()
    stamps = sorted(out.get(timeout=60) + out.get(timeout=60))
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    assert len(stamps) == 8
    # 8 queries at 5 per second: the 6th cannot be granted before the 1st leaves the window,
    # so the last grant is at least 1 s after the start (a lower bound that slowness can't break)
    assert stamps[-1] - start >= 0.95


def test_file_state_survives_corruption(tmp_path: Path) -> None:
    limiter = FileSearchLimiter("1/minute", tmp_path)
    engine = fresh_engine()
    (tmp_path / f"{engine}.json").write_text("{not json")
    assert limiter.book(engine) == 0
    assert limiter.book(engine) > 0
