"""What the CLI says about search quotas while it follows a job: why it waits, once per
change of which chunks wait, and each waiting chunk's countdown on its bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixcrawler_desktop.cli.output import Output
from pixcrawler_desktop.cli.progress import NullView, WarningsView
from pixcrawler_desktop.client.models import Chunk, Engine, Progress

ENGINES = [Engine(name="bing", available=True, search_rate="10/minute", page_size=35)]


def chunk(n: int, wait: float | None) -> Chunk:
    now = datetime.now(UTC)  # at the call: the waits must still be ahead when checked
    return Chunk(id=n, keyword=f"kw {n}", engine="bing", status="pending", target=15,
                 downloaded=0, duplicates_skipped=0, failed_downloads=0, created_at=now,
                 updated_at=now,
                 waiting_until=now + timedelta(seconds=wait) if wait is not None else None)


def test_the_wait_is_said_once_per_change(capsys):
    now = datetime.now(UTC)
    progress = Progress(job_id=3, status="running", progress=10, total_chunks=2,
                        active_chunks=2, completed_chunks=0, failed_chunks=0,
                        downloaded_images=0, started_at=now, updated_at=now)
    view = WarningsView(NullView(), Output(), ENGINES)
    view.job(progress, [chunk(1, 30), chunk(2, None)])
    view.job(progress, [chunk(1, 29), chunk(2, None)])  # the same chunk waits: said once
    view.job(progress, [chunk(1, 28), chunk(2, 50)])
    view.job(progress, [chunk(1, None), chunk(2, None)])  # nothing waits: nothing said
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Waiting for the search quota of bing (10/minute): 1 chunk "
                               "waits, the next query goes in ")
    assert "2 chunks wait" in lines[1]
