"""Issue 19 through a real worker: where a short job's images went, top-up to the count,
owners' opt-outs, who we say we are, and each source's terms."""

from __future__ import annotations

import pytest

from pixcrawler_desktop.client.models import Chunk as ClientChunk
from pixcrawler_desktop.client.models import Job as ClientJob
from pixcrawler_desktop.client.shortfall import chunk_sentence, job_summary, keyword_sentence
from tests.e2e.helpers import assert_consistent, chunks, create_job, start, wait_finished

pytestmark = pytest.mark.slow

PARTS = ("downloaded", "duplicates", "filtered", "failed", "ran_out", "blocked",
         "search_failed")


def one_engine_runs_out(fakeweb, engine: str = "bing", results: int = 20) -> None:
    fakeweb.config.distinct_engines = True  # each engine finds its own images
    fakeweb.config.engine_results = {engine: results}


def test_without_fill_the_breakdown_accounts_for_every_missing_image(live, users, fakeweb):
    one_engine_runs_out(fakeweb)
    fakeweb.config.faults["arctic fox"] = {3: "status404=1", 6: "html=1"}  # bing's results
    user = users(live)
    job = create_job(user.client, ["arctic fox", "gray wolf"], ["bing", "duckduckgo"], 60)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"

    found = chunks(user.client, job["id"])
    for chunk in found:
        b = chunk["breakdown"]
        assert b["target"] == chunk["target"] == 30 and b["downloaded"] == chunk["downloaded"]
        if chunk["engine"] == "bing":
            # 20 results: stored, failed or duplicates; the other 10 the engine did not have
            assert b["results"] == 20 and b["search_end"] == "ran_out" and b["ran_out"] == 10
            assert sum(b[p] for p in PARTS) == b["target"], b
        else:
            assert chunk["downloaded"] == 30 and b["ran_out"] == 0
    fox = {c["engine"]: c["breakdown"] for c in found if c["keyword"] == "arctic fox"}
    assert fox["bing"]["failed_by"]["http"] == 1 and fox["bing"]["failed_by"]["not_image"] == 1
    assert fox["bing"]["downloaded"] == 18 and fox["bing"]["failed"] == 2

    body = user.client.get(f"/jobs/{job['id']}").json()
    total = body["breakdown"]
    assert total["wanted"] == 120 and total["targets"] == 120 and total["topped_up"] == 0
    assert total["downloaded"] == body["downloaded_images"] == 98
    # duckduckgo had the same two faults, and made them up with further results
    assert total["ran_out"] == 20 and total["failed"] == 4

    # the client's sentences, for the app's tooltip and the CLI's end of crawl
    models = [ClientChunk.model_validate(c) for c in found]
    assert keyword_sentence("arctic fox", models, 60) == (
        "arctic fox: 48 of 60; bing ran out after 20 results, 2 failed (1 not an image, "
        "1 HTTP error)")
    bing_wolf = next(c for c in models if c.keyword == "gray wolf" and c.engine == "bing")
    assert chunk_sentence(bing_wolf) == "bing: 20 of 30; bing ran out after 20 results"
    assert job_summary(ClientJob.model_validate(body)) == (
        "98 of 120; 22 short: 20 the engines did not have, 4 failed (2 not images, "
        "2 HTTP errors)")
    assert_consistent(live, job["id"], user.client)
