"""Jobs across many engines through a real worker: provenance, filter warnings, a blocked
engine failing alone, and the minimum size."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import all_images, chunks, create_job, start, wait_finished

pytestmark = pytest.mark.slow

ENGINES = ["openverse", "wikimedia", "google", "duckduckgo", "pexels"]


def test_provenance_warnings_and_a_blocked_engine(live, users, fakeweb):
    fakeweb.config.blocked = {"duckduckgo"}
    user = users(live)
    job = create_job(user.client, ["red fox"], ENGINES, 10, filters={"license": "commercial"})
    start(user.client, job["id"])
    final = wait_finished(user.client, job["id"], live)
    assert final["status"] == "completed"

    by_engine = {c["engine"]: c for c in chunks(user.client, job["id"])}
    assert by_engine["duckduckgo"]["status"] == "failed"
    assert by_engine["duckduckgo"]["last_error"] == "duckduckgo: blocked (HTTP 403)"
    for name in ("openverse", "wikimedia", "google", "pexels"):
        assert by_engine[name]["status"] == "completed"
        assert by_engine[name]["downloaded"] == by_engine[name]["target"] == 2
    assert by_engine["google"]["warnings"] == [
        "google: cannot filter by licence 'commercial'; results are not filtered by it"]
    assert by_engine["wikimedia"]["warnings"] == [
        "wikimedia: cannot filter by safe search; results are not filtered by it"]
    assert by_engine["openverse"]["warnings"] == []
    assert by_engine["pexels"]["warnings"] == []

    images = all_images(user.client, job["id"])
    assert len(images) == 8
    for image in images:
        assert image["query"] == "red fox"
        if image["engine"] in ("openverse", "wikimedia", "pexels"):
            assert image["license"] and image["creator"] and image["attribution"], image
            # Commons gives no licence URL for public-domain files; the others always do.
            if image["engine"] != "wikimedia":
                assert image["license_url"].startswith("http"), image
        else:
            assert image["license"] is None and image["creator"] is None
        assert image["width"] and image["height"] and image["sha256"]


def test_minimum_size_leaves_out_small_images_and_says_so(live, users, fakeweb):
    fakeweb.config.image_size = (320, 240)
    user = users(live)
    job = create_job(user.client, ["small owl"], ["bing"], 3,
                     filters={"min_width": 400, "min_height": 100})
    start(user.client, job["id"])
    final = wait_finished(user.client, job["id"], live)
    assert final["status"] == "failed"
    [chunk] = chunks(user.client, job["id"])
    assert chunk["downloaded"] == 0
    assert chunk["last_error"] == (
        "bing: 60 results were smaller than the minimum size 400x100")
    assert all_images(user.client, job["id"]) == []


def test_unsplash_hears_of_each_photo_the_job_keeps(live, users, fakeweb):
    """Unsplash's API guidelines: each downloaded photo's download_location is called, once
    per photo kept (none for photos never stored)."""
    user = users(live)
    fakeweb.reset()
    job = create_job(user.client, ["red fox"], ["unsplash"], 6)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    images = all_images(user.client, job["id"])
    assert len(images) == 6 and all(i["engine"] == "unsplash" for i in images)
    assert fakeweb.hits("/photos/") == 6


def test_pexels_monthly_budget_is_counted_and_shown(live, users, fakeweb):
    """Pexels states what is left of the key's 20,000 monthly requests with each answer; a
    crawl keeps the latest, and GET /engines shows it with the engine."""
    user = users(live)
    fakeweb.reset()
    job = create_job(user.client, ["red fox"], ["pexels"], 4)
    start(user.client, job["id"])
    assert wait_finished(user.client, job["id"], live)["status"] == "completed"
    searches = fakeweb.hits("/v1/search")
    assert searches >= 1
    engines = {e["name"]: e for e in user.client.get("/engines").json()}
    assert engines["pexels"]["usage"] == {"limit": 20000, "remaining": 20000 - searches,
                                          "resets_at": "2027-01-01T00:00:00Z"}
    assert engines["bing"]["usage"] is None
    assert any("20,000" in note for note in engines["pexels"]["terms"]["notes"])
