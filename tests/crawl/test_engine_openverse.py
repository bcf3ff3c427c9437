"""Openverse: the parser on a recorded real answer, a current-format answer and odd ones, the
filter mapping, then the engine end to end against the fake ``/v1/images/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from worker.crawl.engines import OpenverseEngine, make_engine
from worker.crawl.engines.openverse import license_name, parse_openverse
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

RECORDED = "openverse_images_openverse-frontend_mock_data.json"
API = "https://api.openverse.org"


async def _pages(engine: OpenverseEngine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while len(pages) < 25:
            pages.append(await engine.search(session, keyword, cursor))
            cursor = pages[-1].next_cursor
            if cursor is None:
                return pages
    raise AssertionError("openverse never reached a last page")


def _current_item(**changes: Any) -> dict[str, Any]:
    """One result in today's format (with width, height and attribution)."""
    ident = "4bc43a04-ef46-4544-a0c1-63c63f56e276"
    item = {
        "id": ident,
        "indexed_on": "2023-11-02T14:10:21Z",
        "title": "Tabby cat on a wall",
        "foreign_landing_url": "https://commons.wikimedia.org/w/index.php?curid=12127693",
        "url": "https://upload.wikimedia.org/wikipedia/commons/4/4d/Cat_November_2010-1a.jpg",
        "creator": "Joaquim Alves Gaspar",
        "creator_url": "https://commons.wikimedia.org/wiki/User:Alvesgaspar",
        "license": "by-sa",
        "license_version": "3.0",
        "license_url": "https://creativecommons.org/licenses/by-sa/3.0/",
        "provider": "wikimedia",
        "source": "wikimedia",
        "category": "photograph",
        "filesize": 2833605,
        "filetype": "jpg",
        "tags": [{"name": "cat", "accuracy": None}],
        "attribution": (
            '"Tabby cat on a wall" by Joaquim Alves Gaspar is licensed under CC BY-SA 3.0. '
            "To view a copy of this license, visit https://creativecommons.org/licenses/by-sa/3.0/."
        ),
        "fields_matched": ["title"],
        "mature": False,
        "height": 2397,
        "width": 1795,
        "thumbnail": f"{API}/v1/images/{ident}/thumb/",
        "detail_url": f"{API}/v1/images/{ident}/",
        "related_url": f"{API}/v1/images/{ident}/related/",
        "unstable__sensitivity": [],
    }
    item.update(changes)
    return item


def _answer(results: list[Any], page: int = 1, page_count: int = 20) -> dict[str, Any]:
    return {
        "result_count": 400,
        "page_count": page_count,
        "page_size": 20,
        "page": page,
        "results": results,
    }


# ------------------------------------------------------------------ parser, real and current data


def test_parser_reads_the_real_recorded_answer(search_pages: Path) -> None:
    raw = (search_pages / RECORDED).read_bytes()
    candidates, following = parse_openverse(raw, 1, API)

    assert len(candidates) == 20
    assert following == 2
    assert candidates[0] == Candidate(
        url="https://live.staticflickr.com/3094/3089483288_a1825f858e_b.jpg",
        page_url="https://www.flickr.com/photos/11911997@N04/3089483288",
        title="Cat Face",
        thumbnail_url=(
            "https://api.openverse.engineering/v1/thumbs/20708f1c-0978-47ab-8855-e01f3a392ab3"
        ),
        license="CC BY-NC-ND 2.0",
        license_url="https://creativecommons.org/licenses/by-nd-nc/2.0/jp/",
        creator="pricklysarah",
        attribution="“Cat Face” by pricklysarah, licensed under CC BY-NC-ND 2.0",
    )  # this older format has no width, height or attribution
    assert candidates[1].url == "https://live.staticflickr.com/3082/3088646527_8e49412cba_b.jpg"
    last = candidates[-1]
    assert (last.title, last.creator) == ("CAT", "domosed")
    assert last.license == "Public Domain Mark 1.0"
    assert last.attribution == "“CAT” by domosed, marked with Public Domain Mark 1.0"
    assert [c.license for c in candidates].count("CC BY 2.0") == 2
    assert all(c.page_url and c.thumbnail_url and c.license_url for c in candidates)


def test_parser_takes_size_and_the_api_credit_from_current_answers() -> None:
    candidates, following = parse_openverse(_answer([_current_item()], page=20), page=20)
    [c] = candidates
    assert (c.width, c.height) == (1795, 2397)
    assert c.license == "CC BY-SA 3.0"
    assert c.attribution is not None
    assert c.attribution.startswith('"Tabby cat on a wall" by Joaquim Alves Gaspar is licensed')
    assert following is None  # page 20 of 20


@pytest.mark.parametrize(
    ("code", "version", "name"),
    [
        ("by", "4.0", "CC BY 4.0"),
        ("BY-NC-SA", "2.0", "CC BY-NC-SA 2.0"),
        ("cc0", "1.0", "CC0 1.0"),
        ("pdm", "1.0", "Public Domain Mark 1.0"),
        ("sampling+", "1.0", "CC Sampling+ 1.0"),
        ("by", None, "CC BY"),
        ("", "4.0", None),
        (None, None, None),
    ],
)
def test_license_names(code: Any, version: Any, name: str | None) -> None:
    assert license_name(code, version) == name


# ------------------------------------------------------------------ parser, odd answers


def test_parser_copes_with_missing_fields() -> None:
    results = [
        "not an object",
        _current_item(url=None),
        _current_item(
            title=None, creator=None, license=None, license_url=None, attribution=None, width="0"
        ),
        _current_item(title="", attribution="", license="cc0", license_version="1.0"),
    ]
    candidates, following = parse_openverse(_answer(results), page=3)
    assert following == 4
    no_licence, pd = candidates
    assert (no_licence.title, no_licence.license, no_licence.attribution) == (None, None, None)
    assert no_licence.width is None and no_licence.height == 2397
    assert pd.attribution == "This work by Joaquim Alves Gaspar, marked with CC0 1.0"


def test_parser_zero_results_and_the_last_page() -> None:
    assert parse_openverse(_answer([], page_count=0)) == ([], None)
    assert parse_openverse(json.dumps(_answer([_current_item()], page_count=1)))[1] is None


@pytest.mark.parametrize(
    "data",
    [
        "<html><body>502 Bad Gateway</body></html>",
        {"detail": "Request was throttled."},
        {"data": {"media": []}},
        _answer([{"id": "x", "title": "no url"}]),
    ],
    ids=["html", "detail-only", "other-json", "results-without-urls"],
)
def test_parser_unknown_answers_are_format_errors(data: Any) -> None:
    with pytest.raises(EngineFormatError, match=r"^openverse: result page format not recognised$"):
        parse_openverse(data if isinstance(data, str) else json.dumps(data))


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {}),
        ({"safe_search": False}, {"mature": "true"}),
        ({"license": "commercial"}, {"license_type": "commercial"}),
        ({"license": "modify"}, {"license_type": "modification"}),
        ({"license": "commercial_modify"}, {"license_type": "commercial,modification"}),
        ({"license": "public_domain"}, {"license": "cc0,pdm"}),
        ({"image_type": "photo"}, {"category": "photograph"}),
        ({"image_type": "clipart"}, {"category": "illustration"}),
        ({"image_type": "lineart", "color": "red"}, {}),
        ({"min_width": 640, "min_height": 480}, {"size": "medium,large"}),
        ({"min_width": 1920, "min_height": 1080}, {"size": "large"}),
        ({"min_width": 4000}, {}),  # no height asked: any size band may hold it
    ],
)
def test_search_params_map_filters(filters: dict[str, Any], expected: dict[str, str]) -> None:
    engine = OpenverseEngine(filters=SearchFilters(**filters))
    base = {"q": "owl", "page": "2", "page_size": "20"}
    assert engine.search_params("owl", 2) == base | expected


def test_unapplied_names_what_openverse_cannot_filter() -> None:
    engine = OpenverseEngine(filters=SearchFilters(image_type="animated", color="gray"))
    assert engine.unapplied() == [
        "openverse: cannot filter by image type 'animated'; results are not filtered by it",
        "openverse: cannot filter by colour 'gray'; results are not filtered by it",
    ]
    assert OpenverseEngine(filters=SearchFilters(license="public_domain")).unapplied() == []


# ------------------------------------------------------------------ end to end against FakeWeb


def test_engine_pages_through_all_results(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 50
    fakeweb.config.image_size = (200, 150)
    keyword = "red panda & co"

    pages = run(_pages(make_engine("openverse", fakeweb.base_url), keyword))

    assert [len(p.candidates) for p in pages] == [20, 20, 10]
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [fakeweb.result_image_url(keyword, i) for i in range(50)]
    assert all((c.width, c.height) == (200, 150) for c in found)
    first = found[0]
    assert (first.title, first.license, first.creator) == (
        result_title(keyword, 0),
        "CC BY 4.0",
        "pricklysarah",
    )
    assert first.license_url == "https://creativecommons.org/licenses/by/4.0/"
    assert first.attribution == (
        f'"{result_title(keyword, 0)}" by pricklysarah is licensed under CC BY 4.0. '
        "To view a copy of this license, visit https://creativecommons.org/licenses/by/4.0/."
    )


def test_engine_stops_at_the_anonymous_depth_limit(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 1000
    pages = run(_pages(make_engine("openverse", fakeweb.base_url), "owl"))
    assert len(pages) == 20  # page 21 would be refused with 400
    assert sum(len(p.candidates) for p in pages) == 400


def test_filters_reach_the_api(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(
        safe_search=False,
        license="public_domain",
        image_type="clipart",
        min_width=2000,
        min_height=1000,
    )
    engine = make_engine("openverse", fakeweb.base_url, filters=filters)
    page = run(_pages(engine, "owl"))[0]
    assert {c.license for c in page.candidates} == {"CC0 1.0", "Public Domain Mark 1.0"}
    commercial = make_engine(
        "openverse", fakeweb.base_url, filters=SearchFilters(license="commercial_modify")
    )
    licences = {c.license for p in run(_pages(commercial, "owl")) for c in p.candidates}
    assert licences == {"CC BY 4.0", "CC BY-SA 4.0", "CC0 1.0", "Public Domain Mark 1.0"}


def test_throttling_that_does_not_end_is_a_block_without_waiting(fakeweb: FakeWeb) -> None:
    fakeweb.config.blocked = {"openverse"}
    engine = make_engine("openverse", fakeweb.base_url, timeout=5)
    with pytest.raises(
        EngineBlocked, match=r"^openverse: rate limited \(HTTP 429\) and it did not end$"
    ):
        run(_pages(engine, "cat"))
    assert fakeweb.hits("/v1/images/") == 1  # a day-long Retry-After is not waited out
