"""Flickr: the parser on a recorded real ``flickr.photos.search`` answer and on odd ones, the
filter parameters, then the engine against the fake ``/services/rest/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.engines import Engine, FlickrEngine, make_engine
from worker.crawl.engines.flickr import LICENSES, parse_search, search_params
from worker.crawl.filters import SearchFilters
from worker.crawl.types import (
    Candidate,
    EngineBlocked,
    EngineError,
    EngineFormatError,
    ResultPage,
)

RECORDED = "flickr_photos_search_openverse-catalog_example_pretty.json"
FLICKR_PHOTOS = "https://www.flickr.com/photos/"


async def _search(engine: Engine, keyword: str) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword)


def _answer(*photos: Any, page: int = 1, pages: int = 1, perpage: int = 100) -> dict[str, Any]:
    envelope = {"page": page, "pages": pages, "perpage": perpage, "total": str(pages * perpage)}
    return {"photos": {**envelope, "photo": list(photos)}, "stat": "ok"}


def _photo(**fields: Any) -> dict[str, Any]:
    return {"id": "1", "owner": "1@N01", "url_m": "https://live.example/1.jpg", **fields}


# ------------------------------------------------------------------ parser, recorded real answer


def test_parser_reads_the_recorded_real_answer(search_pages: Path) -> None:
    data = json.loads((search_pages / RECORDED).read_text(encoding="utf-8"))
    candidates, following = parse_search(data)

    assert len(candidates) == 30
    assert following is None  # page 1 of 1
    assert candidates[0] == Candidate(
        url="https://live.staticflickr.com/65535/49514337848_bbdbb5f761_b.jpg",
        page_url="https://www.flickr.com/photos/7478087@N06/49514337848",
        title="Warsy (église) • 7433",
        width=660,
        height=1024,
        thumbnail_url="https://live.staticflickr.com/65535/49514337848_bbdbb5f761_m.jpg",
        license="CC BY-NC-SA 2.0",
        license_url="https://creativecommons.org/licenses/by-nc-sa/2.0/",
        creator="markustrois",
        attribution='"Warsy (église) • 7433" by markustrois on Flickr, CC BY-NC-SA 2.0',
    )
    assert [c.page_url.rsplit("/", 1)[1] for c in candidates[:3] if c.page_url] == [
        "49514337848",
        "49514327393",
        "49515058172",
    ]
    # No url_l for this one: the next size down, with its own dimensions.
    third = candidates[2]
    assert third.url == "https://live.staticflickr.com/65535/49515058172_e52c8df29f.jpg"
    assert (third.width, third.height) == (480, 360)
    assert third.creator == "www.librolasemilla.com"
    assert candidates[-1].title == "2012-WFM-149"
    assert (candidates[-1].width, candidates[-1].height) == (1024, 576)
    assert {c.license for c in candidates} == {"CC BY-NC-SA 2.0"}


# ------------------------------------------------------------------ parser, odd answers


def test_parser_picks_the_largest_size_and_skips_unusable_photos() -> None:
    data = _answer(
        "not a photo",
        {"id": "2", "owner": "2@N02", "title": "no size URL at all"},
        _photo(url_t="https://live.example/t.jpg", width_t="75", height_t=100),
        {
            "id": 3,
            "owner": "3@N03",
            "url_l": "javascript:alert(1)",
            "url_s": "https://live.example/3_m.jpg",
            "width_s": 240.0,
            "height_s": "160",
            "license": 4,
        },
    )
    first, second = parse_search(data)[0]
    assert (first.url, first.width, first.height) == ("https://live.example/1.jpg", None, None)
    assert first.thumbnail_url == "https://live.example/t.jpg"
    assert (second.url, second.width, second.height) == ("https://live.example/3_m.jpg", 240, 160)
    assert second.page_url == "https://www.flickr.com/photos/3@N03/3"
    assert (second.license, second.creator, second.attribution) == ("CC BY 2.0", None, None)


def test_parser_credits_untitled_photos_and_unknown_licences() -> None:
    data = _answer(
        _photo(title="  ", ownername="Ann", license="9"),
        _photo(title="Owl", ownername="Bo", license="99", owner=""),
    )
    untitled, unknown = parse_search(data)[0]
    assert untitled.title is None
    assert untitled.attribution == "Photo by Ann on Flickr, CC0 1.0"
    assert (unknown.license, unknown.license_url, unknown.page_url) == (None, None, None)
    assert unknown.attribution == '"Owl" by Bo on Flickr'


@pytest.mark.parametrize(
    ("envelope", "following"),
    [
        ({"page": 1, "pages": 3}, 2),
        ({"page": "2", "pages": "3"}, 3),
        ({"page": 3, "pages": 3}, None),
        ({"page": 39, "pages": 900}, 40),
        ({"page": 40, "pages": 900}, None),  # Flickr serves the first 4,000 results only
    ],
)
def test_parser_pages_until_the_last_page_or_the_4000th_result(
    envelope: dict[str, Any], following: int | None
) -> None:
    data = _answer(_photo())
    data["photos"].update(envelope)
    assert parse_search(data)[1] == following


def test_parser_zero_results_are_an_empty_last_page() -> None:
    assert parse_search(_answer(pages=0)) == ([], None)


def test_parser_stat_fail_raises_the_reported_error() -> None:
    refused = {"stat": "fail", "code": 100, "message": "Invalid API Key (Key not found)"}
    with pytest.raises(
        EngineBlocked,
        match=r"^flickr: API key refused \(Invalid API Key \(Key not found\)\); "
        r"check PIXCRAWLER_FLICKR_API_KEY$",
    ):
        parse_search(refused)
    down = {"stat": "fail", "code": 105, "message": "Service currently unavailable"}
    with pytest.raises(EngineError, match=r"^flickr: API error 105 \(Service currently") as err:
        parse_search(down)
    assert not isinstance(err.value, EngineBlocked)


@pytest.mark.parametrize(
    "data",
    [
        "jsonFlickrApi({})",
        {"stat": "ok"},
        {"stat": "ok", "photos": {"photo": "none"}},
        {"stat": "ok", "data": {"search": {"edges": []}}},
        {"photos": {"photo": []}},
        _answer({"id": "1", "owner": "1@N01", "title": "extras were not applied"}),
    ],
    ids=["not-json-object", "no-photos", "photo-not-list", "other-shape", "no-stat", "no-sizes"],
)
def test_parser_unknown_answers_are_format_errors(data: object) -> None:
    with pytest.raises(EngineFormatError, match=r"^flickr: result page format not recognised$"):
        parse_search(data)


def test_licence_table_names_every_flickr_licence_id() -> None:
    assert sorted(LICENSES, key=int) == [str(i) for i in range(11)]
    assert LICENSES["4"] == ("CC BY 2.0", "https://creativecommons.org/licenses/by/2.0/")
    assert LICENSES["10"][0] == "Public Domain Mark 1.0"


# ------------------------------------------------------------------ filters


def test_search_params_ask_for_a_relevant_photo_search_in_plain_json() -> None:
    assert search_params("red fox", 3, SearchFilters()) == {
        "method": "flickr.photos.search",
        "text": "red fox",
        "sort": "relevance",
        "media": "photos",
        "extras": "license,owner_name,o_dims,url_t,url_s,url_m,url_l",
        "per_page": "500",
        "page": "3",
        "format": "json",
        "nojsoncallback": "1",
        "safe_search": "1",
    }


@pytest.mark.parametrize(
    ("license", "ids"),
    [
        ("commercial", "4,5,6,9,10"),
        ("modify", "1,2,4,5,9,10"),
        ("commercial_modify", "4,5,9,10"),
        ("public_domain", "9,10"),
    ],
)
def test_search_params_map_licence_filters_to_licence_ids(license: str, ids: str) -> None:
    params = search_params("owl", 1, SearchFilters(license=license, safe_search=False))
    assert params["license"] == ids
    assert "safe_search" not in params


def test_search_params_map_photo_type_to_content_types() -> None:
    assert search_params("owl", 1, SearchFilters(image_type="photo"))["content_types"] == "0"
    assert "content_types" not in search_params("owl", 1, SearchFilters(image_type="clipart"))


def test_unapplied_names_the_filters_flickr_cannot_apply() -> None:
    filters = SearchFilters(license="public_domain", image_type="clipart", color="red")
    assert FlickrEngine("http://x", api_key="k", filters=filters).unapplied() == [
        "flickr: cannot filter by image type 'clipart'; results are not filtered by it",
        "flickr: cannot filter by colour 'red'; results are not filtered by it",
    ]
    photos = SearchFilters(license="commercial", image_type="photo")
    assert FlickrEngine("http://x", api_key="k", filters=photos).unapplied() == []


# ------------------------------------------------------------------ against the fake web


def test_licence_filter_reaches_the_api(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(license="commercial_modify")
    engine = make_engine("flickr", fakeweb.base_url, api_key=FAKE_API_KEY, filters=filters)

    candidates = run(_search(engine, "owl")).candidates

    assert len(candidates) == 60
    licences = {c.license for c in candidates}
    assert licences == {"CC BY 2.0", "CC BY-SA 2.0", "CC0 1.0", "Public Domain Mark 1.0"}
    assert all(c.page_url and c.page_url.startswith(FLICKR_PHOTOS) for c in candidates)
