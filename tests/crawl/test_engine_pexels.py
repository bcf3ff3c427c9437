"""Pexels: the parser on answers built in the documented ``/v1/search`` format and on odd ones,
the filter parameters, then the engine against the fake API."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.engines import Engine, PexelsEngine, make_engine
from worker.crawl.engines.pexels import parse_search, search_params, size_param
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineFormatError, ResultPage

PHOTO_URL = "https://images.pexels.com/photos/3573351/pexels-photo-3573351.png"


async def _search(engine: Engine, keyword: str) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword)


def _documented_photo() -> dict[str, Any]:
    """A photo as the Pexels API documentation shows one (values made up in that shape)."""
    variants = {
        "large2x": "?auto=compress&cs=tinysrgb&dpr=2&h=650&w=940",
        "large": "?auto=compress&cs=tinysrgb&h=650&w=940",
        "medium": "?auto=compress&cs=tinysrgb&h=350",
        "small": "?auto=compress&cs=tinysrgb&h=130",
        "portrait": "?auto=compress&cs=tinysrgb&fit=crop&h=1200&w=800",
        "landscape": "?auto=compress&cs=tinysrgb&fit=crop&h=627&w=1200",
        "tiny": "?auto=compress&cs=tinysrgb&dpr=1&fit=crop&h=200&w=280",
    }
    return {
        "id": 3573351,
        "width": 3066,
        "height": 3968,
        "url": "https://www.pexels.com/photo/trees-during-day-3573351/",
        "photographer": "Lukas Rodriguez",
        "photographer_url": "https://www.pexels.com/@lukas-rodriguez-1845331",
        "photographer_id": 1845331,
        "avg_color": "#374824",
        "src": {"original": PHOTO_URL, **{k: PHOTO_URL + v for k, v in variants.items()}},
        "liked": False,
        "alt": "Trees during day",
    }


def _answer(*photos: Any, page: int = 1, more: bool = True) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "total_results": 10000,
        "page": page,
        "per_page": 80,
        "photos": list(photos),
    }
    if more:
        answer["next_page"] = f"https://api.pexels.com/v1/search/?page={page + 1}&per_page=80"
    return answer


# ------------------------------------------------------------------ parser


def test_parser_reads_the_documented_answer() -> None:
    candidates, following = parse_search(_answer(_documented_photo(), page=3))
    assert following == 4
    assert candidates == [
        Candidate(
            url=PHOTO_URL,
            page_url="https://www.pexels.com/photo/trees-during-day-3573351/",
            title="Trees during day",
            width=3066,
            height=3968,
            thumbnail_url=PHOTO_URL + "?auto=compress&cs=tinysrgb&h=350",
            license="Pexels License",
            license_url="https://www.pexels.com/license/",
            creator="Lukas Rodriguez",
            attribution="Photo by Lukas Rodriguez on Pexels",
        )
    ]


def test_parser_stops_where_next_page_is_absent() -> None:
    assert parse_search(_answer(_documented_photo(), page=7, more=False))[1] is None
    assert parse_search({"page": 2, "per_page": 80, "photos": [], "total_results": 80}) == (
        [],
        None,
    )


def test_parser_skips_unusable_photos_and_tolerates_missing_fields() -> None:
    data = _answer(
        "photo",
        {"id": 1, "src": "https://images.example/1.jpg"},
        {"id": 2, "src": {"medium": "https://images.example/2-m.jpg"}},
        {"id": 3, "src": {"original": "https://images.example/3.jpg"}, "alt": "", "width": "0"},
    )
    [only] = parse_search(data)[0]
    assert (only.url, only.title, only.width, only.creator, only.attribution) == (
        "https://images.example/3.jpg",
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"error": "Unauthorized"},
        {"photos": {"0": {}}},
        {"media": [], "pagination": {"cursor": None}},
        _answer({"id": 1, "url": "https://www.pexels.com/photo/1/"}),
    ],
    ids=["none", "error", "photos-not-list", "other-shape", "no-image-urls"],
)
def test_parser_unknown_answers_are_format_errors(data: object) -> None:
    with pytest.raises(EngineFormatError, match=r"^pexels: result page format not recognised$"):
        parse_search(data)


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        (0, 0, None),
        (2000, 1500, None),  # 3 MP: even "small" (4 MP) could drop a wanted image
        (2000, 2000, "small"),
        (4000, 3000, "medium"),
        (5000, 4000, "medium"),
        (6000, 4000, "large"),
        (10000, 0, None),
    ],
)
def test_size_param_never_asks_for_more_than_the_minimum(
    width: int, height: int, size: str | None
) -> None:
    assert size_param(width, height) == size


def test_search_params_ask_for_full_pages() -> None:
    assert search_params("red fox", 2, SearchFilters()) == {
        "query": "red fox",
        "page": "2",
        "per_page": "80",
    }


def test_search_params_map_colours_and_minimum_size() -> None:
    filters = SearchFilters(color="teal", min_width=4000, min_height=3000)
    assert search_params("fox", 1, filters) == {
        "query": "fox",
        "page": "1",
        "per_page": "80",
        "color": "turquoise",
        "size": "medium",
    }
    assert search_params("fox", 1, SearchFilters(color="purple"))["color"] == "violet"
    assert "color" not in search_params("fox", 1, SearchFilters(color="grayscale"))


def test_unapplied_names_only_what_pexels_lacks() -> None:
    lacking = SearchFilters(license="public_domain", image_type="transparent", color="grayscale")
    assert PexelsEngine("http://x", api_key="k", filters=lacking).unapplied() == [
        "pexels: cannot filter by licence 'public_domain'; results are not filtered by it",
        "pexels: cannot filter by image type 'transparent'; results are not filtered by it",
        "pexels: cannot filter by colour 'grayscale'; results are not filtered by it",
    ]
    inherent = SearchFilters(license="commercial", image_type="photo", color="pink")
    assert PexelsEngine("http://x", api_key="k", filters=inherent).unapplied() == []


# ------------------------------------------------------------------ against the fake web


def test_colour_and_size_are_accepted_by_the_api(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(color="purple", min_width=6000, min_height=4000)
    engine = make_engine("pexels", fakeweb.base_url, api_key=FAKE_API_KEY, filters=filters)
    page = run(_search(engine, "owl"))
    assert len(page.candidates) == 60
    assert page.next_cursor is None
