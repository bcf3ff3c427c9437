"""Search-quota sentences the app and the CLI show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixcrawler_desktop.client.models import Chunk, Engine
from pixcrawler_desktop.client.quota import (
    chunk_wait,
    duration,
    job_wait,
    least_time_sentence,
    needs,
    parse_rate,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def chunk(n: int, engine: str, target: int = 30, status: str = "pending",
          wait: float | None = None) -> Chunk:
    return Chunk(id=n, keyword=f"kw {n}", engine=engine, status=status, target=target,
                 downloaded=0, duplicates_skipped=0, failed_downloads=0, created_at=NOW,
                 updated_at=NOW,
                 waiting_until=NOW + timedelta(seconds=wait) if wait is not None else None)


ENGINES = [Engine(name="bing", available=True, search_rate="10/minute", page_size=35),
           Engine(name="duckduckgo", available=True, search_rate="6000/minute", page_size=100)]


def test_rates_and_durations():
    assert parse_rate("10/minute") == (10, 60)
    assert parse_rate("1/4 seconds") == (1, 4)
    assert parse_rate("2 per hour") == (2, 3600)
    assert parse_rate("lots") is None
    assert [duration(s) for s in (3, 65, 120, 3720)] == ["3 s", "1 min 5 s", "2 min", "1 h 2 min"]


def test_least_time_is_the_slowest_engines_queries_at_its_rate():
    chunks = [chunk(n, e, 30) for n in range(60) for e in ("bing", "duckduckgo")]
    by_engine = {n.engine: n for n in needs(chunks, ENGINES)}
    assert by_engine["bing"].queries == 60 and by_engine["duckduckgo"].queries == 60
    assert by_engine["bing"].seconds == 5 * 60  # 10 at once, then 10 a minute
    assert by_engine["duckduckgo"].seconds == 0
    sentence = least_time_sentence(chunks, ENGINES)
    assert "60 on bing at 10/minute" in sentence and "at least 5 min" in sentence
    assert least_time_sentence(chunks[:4], ENGINES) is None  # within one window


def test_a_rate_of_several_windows_is_as_slow_as_its_slowest_window():
    openverse = [Engine(name="openverse", available=True, search_rate="20/minute;200/day",
                        page_size=20)]
    few = needs([chunk(n, "openverse", 20) for n in range(30)], openverse)[0]
    assert (few.queries, few.seconds) == (30, 60)  # 20 at once, 10 a minute later
    many = needs([chunk(n, "openverse", 20) for n in range(250)], openverse)[0]
    assert many.seconds == 86400  # the day's 200 are used up: the rest wait a day
    assert needs([chunk(1, "openverse")], [openverse[0].model_copy(
        update={"search_rate": "lots;20/minute"})])[0].seconds == 0  # unreadable: unknown


def test_waiting_sentences():
    chunks = [chunk(1, "bing", wait=23), chunk(2, "bing", wait=29), chunk(3, "duckduckgo"),
              chunk(4, "bing", status="completed", wait=50)]
    assert chunk_wait(chunks[0], NOW) == "waiting for bing quota · 23 s"
    assert chunk_wait(chunks[2], NOW) is None and chunk_wait(chunks[3], NOW) is None
    assert chunk_wait(chunks[0], NOW + timedelta(seconds=30)) is None  # its slot has come
    assert job_wait(chunks, ENGINES, NOW) == (
        "Waiting for the search quota of bing (10/minute): 2 chunks wait, the next query "
        "goes in 23 s.")
    assert job_wait(chunks[2:], ENGINES, NOW) is None
