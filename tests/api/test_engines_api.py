"""GET /engines (availability, reasons, filters), jobs refused for unavailable engines, job
filters, and GET /engines/health against the fake web."""

from __future__ import annotations

import pytest

from worker.crawl.engines import ENGINES

KEYED = {"flickr": "PIXCRAWLER_FLICKR_API_KEY", "unsplash": "PIXCRAWLER_UNSPLASH_ACCESS_KEY",
         "pexels": "PIXCRAWLER_PEXELS_API_KEY", "pixabay": "PIXCRAWLER_PIXABAY_API_KEY"}


def job_body(**overrides) -> dict:
    return {"name": "filters", "keywords": ["cat"], "engines": ["bing"], "max_images": 10,
            **overrides}


def test_engines_lists_every_engine_with_its_filters(anon):
    engines = {e["name"]: e for e in anon.get("/engines").json()}
    assert set(engines) == set(ENGINES)
    assert all(e["available"] and e["reason"] is None for e in engines.values())
    assert engines["flickr"]["key_setting"] == "PIXCRAWLER_FLICKR_API_KEY"
    assert engines["bing"]["key_setting"] is None and engines["bing"]["kind"] == "scraped"
    assert engines["openverse"]["kind"] == "api"
    for engine in engines.values():
        assert engine["label"]
        assert sorted(engine["filter_values"]) == engine["filters"]
    assert "public_domain" in engines["openverse"]["filter_values"]["license"]
    assert "license" not in engines["google"]["filters"]


def test_engines_without_keys_are_unavailable_with_the_setting_to_set(keyless_server, users):
    user = users(keyless_server)
    engines = {e["name"]: e for e in user.client.get("/engines").json()}
    for name, variable in KEYED.items():
        assert engines[name]["available"] is False
        assert engines[name]["reason"] == f"needs an API key: set {variable}"
    assert engines["wikimedia"]["available"] and engines["google"]["available"]

    r = user.client.post("/jobs", json=job_body(engines=["bing", "pexels"]))
    assert r.status_code == 400
    assert r.json() == {"detail": "Engine 'pexels' is not available: needs an API key: "
                                  "set PIXCRAWLER_PEXELS_API_KEY"}
    assert user.client.get("/jobs").json()["total"] == 0  # nothing was created


def test_job_filters_round_trip_with_defaults(user):
    r = user.client.post("/jobs", json=job_body())
    assert r.status_code == 201
    assert r.json()["filters"] == {"safe_search": True, "min_width": 0, "min_height": 0,
                                   "license": "any", "image_type": "any", "color": "any"}
    wanted = {"safe_search": False, "min_width": 800, "min_height": 600,
              "license": "commercial", "image_type": "photo", "color": "grayscale"}
    job = user.client.post("/jobs", json=job_body(filters=wanted)).json()
    assert job["filters"] == wanted
    assert user.client.get(f"/jobs/{job['id']}").json()["filters"] == wanted


@pytest.mark.parametrize(("filters", "field"), [
    ({"license": "free"}, "license"),
    ({"color": "mauve"}, "color"),
    ({"min_width": -1}, "min_width"),
    ({"sepia": True}, "sepia"),
])
def test_bad_filters_are_422_naming_the_field(user, filters, field):
    r = user.client.post("/jobs", json=job_body(filters=filters))
    assert r.status_code == 422
    assert field in str(r.json()["detail"])


def test_engine_health_needs_sign_in(anon):
    assert anon.get("/engines/health").status_code == 401


def test_engine_health_reports_each_engine(user):
    r = user.client.get("/engines/health", params={"query": "health check all"})
    assert r.status_code == 200
    results = {h["name"]: h for h in r.json()}
    assert set(results) == set(ENGINES)
    for health in results.values():
        assert health["status"] == "ok", health
        assert health["results"] > 0 and health["elapsed_ms"] >= 0


def test_engine_health_says_blocked_format_and_zero_results(user, fakeweb):
    fakeweb.config.blocked = {"bing"}
    fakeweb.config.broken = {"duckduckgo"}
    fakeweb.config.keyword_results = {"health nothing": 0}
    try:
        r = user.client.get("/engines/health", params=[
            ("engine", "bing"), ("engine", "duckduckgo"), ("engine", "openverse"),
            ("query", "health nothing")])
    finally:
        fakeweb.config.blocked, fakeweb.config.broken = set(), set()
        fakeweb.config.keyword_results = {}
    statuses = {h["name"]: (h["status"], h["message"]) for h in r.json()}
    assert statuses["bing"] == ("blocked", "bing: blocked by a captcha page")
    assert statuses["duckduckgo"] == ("format_not_recognised",
                                      "duckduckgo: result page format not recognised")
    assert statuses["openverse"] == ("zero_results", "openverse: no results for 'health nothing'")


def test_engine_health_of_a_keyless_server_says_unavailable(keyless_server, users):
    user = users(keyless_server)
    r = user.client.get("/engines/health", params={"engine": ["flickr", "bing"]})
    results = {h["name"]: h for h in r.json()}
    assert results["flickr"]["status"] == "unavailable"
    assert results["flickr"]["message"] == (
        "flickr: needs an API key: set PIXCRAWLER_FLICKR_API_KEY")
    assert results["bing"]["status"] == "ok"


def test_engine_health_rejects_unknown_engines(user):
    r = user.client.get("/engines/health", params={"engine": "altavista"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("unknown engine 'altavista'; permitted: 'bing'")
