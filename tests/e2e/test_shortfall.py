"""Issue 19 through a real worker: where a short job's images went, top-up to the count,
owners' opt-outs, who we say we are, and each source's terms."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import urlencode

import pytest

from pixcrawler_desktop.client.models import Chunk as ClientChunk
from pixcrawler_desktop.client.models import Job as ClientJob
from pixcrawler_desktop.client.shortfall import chunk_sentence, job_summary, keyword_sentence
from tests.e2e.helpers import assert_consistent, chunks, create_job, start, wait_finished
from tests.support.stack import CONTACT
from worker import identity

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


def test_fill_reaches_the_count_whichever_chunk_ends_first(live, users, fakeweb):
    """One engine's chunk ends short while the other is still running (bing blocked at once:
    duckduckgo's target is raised as it runs), or after the other has finished (bing's 5th
    image is slow: duckduckgo is sent again from its saved search). DuckDuckGo's single page
    has ended its search either way; the results it found and did not use carry it on."""
    fakeweb.config.distinct_engines = True
    fakeweb.config.engine_results = {"bing": 5}
    fakeweb.config.latency = 0.2
    user = users(live)

    fakeweb.config.blocked = {"bing"}
    running = create_job(user.client, ["red fox"], ["bing", "duckduckgo"], 12, fill=True)
    start(user.client, running["id"])
    assert wait_finished(user.client, running["id"], live)["status"] == "completed"
    ddg = next(c for c in chunks(user.client, running["id"]) if c["engine"] == "duckduckgo")
    assert ddg["downloaded"] == ddg["target"] == 12, ddg
    assert ddg["breakdown"]["took_over"] == [
        {"chunk_id": ddg["id"] - 1, "engine": "bing", "images": 6}]

    fakeweb.config.blocked = set()
    fakeweb.config.faults["grey wolf"] = {4: "latency=2"}  # bing needs it; duckduckgo not
    finished = create_job(user.client, ["grey wolf"], ["bing", "duckduckgo"], 12, fill=True)
    start(user.client, finished["id"])
    assert wait_finished(user.client, finished["id"], live)["status"] == "completed"
    by = {c["engine"]: c for c in chunks(user.client, finished["id"])}
    assert by["bing"]["downloaded"] == 5 and by["duckduckgo"]["downloaded"] == 7
    assert by["duckduckgo"]["breakdown"]["took_over"][0]["images"] == 1
    body = user.client.get(f"/jobs/{finished['id']}").json()
    assert body["downloaded_images"] == 12 and body["breakdown"]["topped_up"] == 1
    assert_consistent(live, finished["id"], user.client)


OPT_OUT_FORMS = {  # result index -> X-Robots-Tag headers, and whether it keeps us out
    0: (["noai"], True),
    1: (["noimageai"], True),
    2: (["pixcrawler: noindex"], True),  # scoped to our token
    3: (["otherbot: noindex"], False),  # scoped to another crawler only
    4: (["nofollow", "noimageindex"], True),  # the second of two headers
    5: (["googlebot: nofollow, PixCrawler: noai"], True),  # a second scope in one value
    6: (["noarchive, max-image-preview: large"], False),
}


def opt_out_faults() -> dict[int, str]:
    return {i: urlencode([("xrobots", v) for v in values])
            for i, (values, _out) in OPT_OUT_FORMS.items()}


def export_readme(client, job_id: int) -> str:
    r = client.get(f"/jobs/{job_id}/export")
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        return archive.read("README.md").decode()


def test_owner_opt_outs_in_each_form_are_not_stored_but_counted(live, users, fakeweb):
    fakeweb.config.results_per_keyword = 12
    fakeweb.config.faults["lynx"] = opt_out_faults()
    user = users(live)
    kept_out = {i for i, (_v, out) in OPT_OUT_FORMS.items() if out}

    job = create_job(user.client, ["lynx"], ["bing"], 12)
    assert job["respect_optout"] is True
    start(user.client, job["id"])
    wait_finished(user.client, job["id"], live)
    images = assert_consistent(live, job["id"], user.client)
    assert {i["rank"] for i in images} == set(range(12)) - kept_out
    b = chunks(user.client, job["id"])[0]["breakdown"]
    assert b["failed_by"]["optout"] == len(kept_out) == 5 and b["failed"] == 5
    assert sum(b[p] for p in PARTS) == b["target"]
    assert "opt-outs were not respected" not in export_readme(user.client, job["id"])

    job = create_job(user.client, ["lynx"], ["bing"], 12, respect_optout=False)
    assert job["respect_optout"] is False
    start(user.client, job["id"])
    wait_finished(user.client, job["id"], live)
    assert len(assert_consistent(live, job["id"], user.client)) == 12
    assert chunks(user.client, job["id"])[0]["breakdown"]["failed_by"]["optout"] == 0
    assert "Owners' opt-outs were not respected" in export_readme(user.client, job["id"])


def test_the_user_agent_names_us_our_version_and_the_contact(live, users, fakeweb):
    user = users(live)
    job = create_job(user.client, ["otter"], ["bing", "wikimedia"], 6)
    start(user.client, job["id"])
    wait_finished(user.client, job["id"], live)
    expected = f"PixCrawler/{identity.version()} ({CONTACT}; +{identity.PROJECT_URL})"
    assert fakeweb.agents("/img/") == {expected}  # image downloads
    # robots.txt is trusted for an hour per worker: fetched in this test or an earlier one
    assert fakeweb.agents("/robots.txt") <= {expected}
    assert fakeweb.agents("/w/api.php") == {expected}  # an API engine's searches
    # a search site's pages are asked for as a browser, or their markup differs
    assert all(agent.startswith("Mozilla/") for agent in fakeweb.agents("/images/"))


def test_each_source_s_terms_are_shown_and_unsplash_warns(server, users):
    user = users(server)
    engines = {e["name"]: e for e in user.client.get("/engines").json()}
    assert "machine-learning" in engines["unsplash"]["terms"]["warning"]
    assert "24 hours" in engines["pixabay"]["terms"]["summary"]
    assert engines["bing"]["terms"]["warning"] is None
    job = create_job(user.client, ["heron"], ["bing", "unsplash"], 4)
    assert len(job["warnings"]) == 1 and job["warnings"][0].startswith("Unsplash:")
    assert create_job(user.client, ["heron"], ["bing"], 4)["warnings"] == []
