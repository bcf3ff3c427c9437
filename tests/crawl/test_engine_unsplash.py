"""Unsplash: the parser on a recorded real ``/search/photos`` answer and on odd ones, the filter
parameters, then the engine against the fake API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.engines import Engine, UnsplashEngine, make_engine
from worker.crawl.engines.unsplash import parse_search, search_params
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

RECORDED = "unsplash_search_photos_oplask.json"


async def _search(engine: Engine, keyword: str) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword)


def _photo(**fields: Any) -> dict[str, Any]:
    return {"urls": {"full": "https://images.example/1.jpg"}, **fields}


# ------------------------------------------------------------------ parser, recorded real answer


def test_parser_reads_the_recorded_real_answer(search_pages: Path) -> None:
    data = json.loads((search_pages / RECORDED).read_text(encoding="utf-8"))
    candidates, following = parse_search(data)

    assert len(candidates) == 10
    assert following == 2  # total_pages is 5619
    assert candidates[0] == Candidate(
        url=(
            "https://images.unsplash.com/photo-1441974231531-c6227db76b6e?ixlib=rb-1.2.1&q=85"
            "&fm=jpg&crop=entropy&cs=srgb&ixid=eyJhcHBfaWQiOjEzMDg5Mn0"
        ),
        page_url="https://unsplash.com/photos/jFCViYFYcus",
        title="Beautiful woodland path",
        width=2560,
        height=1705,
        thumbnail_url=(
            "https://images.unsplash.com/photo-1441974231531-c6227db76b6e?ixlib=rb-1.2.1&q=80"
            "&fm=jpg&crop=entropy&cs=tinysrgb&w=200&fit=max&ixid=eyJhcHBfaWQiOjEzMDg5Mn0"
        ),
        license="Unsplash License",
        license_url="https://unsplash.com/license",
        creator="Lukasz Szmigiel",
        attribution="Photo by Lukasz Szmigiel on Unsplash",
        ping_url="https://api.unsplash.com/photos/jFCViYFYcus/download",
    )
    assert [c.page_url for c in candidates[1:3]] == [
        "https://unsplash.com/photos/MMJx78V7xS8",
        "https://unsplash.com/photos/sp-p7uuT0tw",
    ]
    # No description: the alt text stands in as the title.
    assert candidates[2].title == "trees on forest with sun rays"
    assert (candidates[2].width, candidates[2].height) == (6000, 4000)
    assert candidates[-1].creator == "veeterzy"
    assert (candidates[-1].width, candidates[-1].height) == (5760, 3840)
    assert parse_search(data, page=5619)[1] is None


# ------------------------------------------------------------------ parser, odd answers


def test_parser_skips_unusable_photos_and_tolerates_missing_fields() -> None:
    data = {
        "total_pages": 1,
        "results": [
            None,
            {"urls": {"full": "ftp://images.example/2.jpg"}},
            {"urls": "https://images.example/3.jpg"},
            _photo(width="640", height=480.0, description="", alt_description=" Owl "),
        ],
    }
    assert parse_search(data) == (
        [
            Candidate(
                url="https://images.example/1.jpg",
                title="Owl",
                width=640,
                height=480,
                license="Unsplash License",
                license_url="https://unsplash.com/license",
            )
        ],
        None,
    )


def test_parser_zero_results_are_an_empty_last_page() -> None:
    assert parse_search({"total": 0, "total_pages": 0, "results": []}) == ([], None)


@pytest.mark.parametrize(
    "data",
    [
        ["results"],
        {"errors": ["OAuth error: The access token is invalid"]},
        {"total": 3, "results": {"0": {}}},
        {"data": {"photos": {"nodes": []}}},
        {"total_pages": 2, "results": [{"id": "x", "links": {}}]},
    ],
    ids=["list", "errors", "results-not-list", "other-shape", "no-image-urls"],
)
def test_parser_unknown_answers_are_format_errors(data: object) -> None:
    with pytest.raises(EngineFormatError, match=r"^unsplash: result page format not recognised$"):
        parse_search(data)


# ------------------------------------------------------------------ filters


def test_search_params_ask_for_full_pages_with_the_strict_content_filter() -> None:
    assert search_params("red fox", 2, SearchFilters()) == {
        "query": "red fox",
        "page": "2",
        "per_page": "30",
        "content_filter": "high",
    }
    assert "content_filter" not in search_params("fox", 1, SearchFilters(safe_search=False))


@pytest.mark.parametrize(
    ("color", "sent"),
    [("grayscale", "black_and_white"), ("teal", "teal"), ("purple", "purple"), ("pink", None)],
)
def test_search_params_map_colours(color: str, sent: str | None) -> None:
    assert search_params("fox", 1, SearchFilters(color=color)).get("color") == sent


def test_unapplied_names_only_what_unsplash_lacks() -> None:
    lacking = SearchFilters(license="public_domain", image_type="clipart", color="pink")
    assert UnsplashEngine("http://x", api_key="k", filters=lacking).unapplied() == [
        "unsplash: cannot filter by licence 'public_domain'; results are not filtered by it",
        "unsplash: cannot filter by image type 'clipart'; results are not filtered by it",
        "unsplash: cannot filter by colour 'pink'; results are not filtered by it",
    ]
    inherent = SearchFilters(license="commercial_modify", image_type="photo", color="grayscale")
    assert UnsplashEngine("http://x", api_key="k", filters=inherent).unapplied() == []


# ------------------------------------------------------------------ against the fake web


def test_colour_and_content_filter_are_accepted_by_the_api(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(color="grayscale")
    engine = make_engine("unsplash", fakeweb.base_url, api_key=FAKE_API_KEY, filters=filters)
    page = run(_search(engine, "owl"))
    assert len(page.candidates) == 30
    assert page.next_cursor == 2


def test_exhausted_budget_is_told_apart_from_a_wrong_key(fakeweb: FakeWeb) -> None:
    fakeweb.config.blocked = {"unsplash"}
    engine = make_engine("unsplash", fakeweb.base_url, api_key=FAKE_API_KEY)
    with pytest.raises(EngineBlocked, match=r"^unsplash: rate limit exceeded \(HTTP 403\)"):
        run(_search(engine, "owl"))
