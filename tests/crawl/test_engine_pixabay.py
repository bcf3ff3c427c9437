"""Pixabay: the parser on answers built in the documented ``/api/`` format and on odd ones, the
filter parameters, then the engine against the fake API."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.answer_cache import AnswerCache
from worker.crawl.engines import Engine, PixabayEngine, make_engine
from worker.crawl.engines.pixabay import large_size, parse_search, search_params
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineError, EngineFormatError, ResultPage
from worker.engine_config import configured_engine
from worker.settings import Settings


async def _pages(engine: Engine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while len(pages) < 10:
            pages.append(await engine.search(session, keyword, cursor))
            cursor = pages[-1].next_cursor
            if cursor is None:
                return pages
    raise AssertionError("pixabay never reached a last page")


def _documented_hit() -> dict[str, Any]:
    """A hit as the Pixabay API documentation shows one."""
    return {
        "id": 195893,
        "pageURL": "https://pixabay.com/en/blossom-bloom-flower-195893/",
        "type": "photo",
        "tags": "blossom, bloom, flower",
        "previewURL": "https://cdn.pixabay.com/photo/2013/10/15/09/12/flower-195893_150.jpg",
        "previewWidth": 150,
        "previewHeight": 84,
        "webformatURL": "https://pixabay.com/get/35bbf209e13e39d2_640.jpg",
        "webformatWidth": 640,
        "webformatHeight": 360,
        "largeImageURL": "https://pixabay.com/get/ed6a99fd0a76647_1280.jpg",
        "imageWidth": 4000,
        "imageHeight": 2250,
        "imageSize": 4731420,
        "views": 7671,
        "downloads": 6439,
        "likes": 5,
        "comments": 2,
        "user_id": 48777,
        "user": "Josch13",
        "userImageURL": "https://cdn.pixabay.com/user/2013/11/05/02-10-23-764_250x250.jpg",
    }


def _answer(*hits: Any, total_hits: int = 500) -> dict[str, Any]:
    return {"total": 4692, "totalHits": total_hits, "hits": list(hits)}


# ------------------------------------------------------------------ parser


def test_parser_reads_the_documented_answer() -> None:
    candidates, following = parse_search(_answer(_documented_hit()))
    assert following == 2
    assert candidates == [
        Candidate(
            url="https://pixabay.com/get/ed6a99fd0a76647_1280.jpg",
            page_url="https://pixabay.com/en/blossom-bloom-flower-195893/",
            title="blossom, bloom, flower",
            width=1280,  # the 4000x2250 original fitted into 1280 px
            height=720,
            thumbnail_url="https://cdn.pixabay.com/photo/2013/10/15/09/12/flower-195893_150.jpg",
            license="Pixabay Content License",
            license_url="https://pixabay.com/service/license-summary/",
            creator="Josch13",
            attribution="Image by Josch13 from Pixabay",
        )
    ]


@pytest.mark.parametrize(
    ("page", "per_page", "total_hits", "following"),
    [(1, 200, 500, 2), (2, 200, 500, 3), (3, 200, 500, None), (1, 20, 20, None), (4, 20, 90, 5)],
)
def test_parser_pages_only_through_total_hits(
    page: int, per_page: int, total_hits: int, following: int | None
) -> None:
    data = _answer(_documented_hit(), total_hits=total_hits)
    assert parse_search(data, page, per_page)[1] == following


def test_parser_zero_results_are_an_empty_last_page() -> None:
    assert parse_search({"total": 0, "totalHits": 0, "hits": []}) == ([], None)


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        (4000, 2250, (1280, 720)),
        (1000, 3000, (427, 1280)),
        (640, 480, (640, 480)),
        (1280, 1280, (1280, 1280)),
        (None, 480, (None, None)),
    ],
)
def test_large_size_fits_the_original_into_1280_px(
    width: int | None, height: int | None, size: tuple[int | None, int | None]
) -> None:
    assert large_size(width, height) == size


def test_parser_skips_unusable_hits_and_tolerates_missing_fields() -> None:
    data = _answer(
        7,
        {"id": 1, "webformatURL": "https://pixabay.com/get/1_640.jpg"},
        {"id": 2, "largeImageURL": "https://pixabay.com/get/2_1280.jpg", "imageWidth": "800"},
    )
    [only] = parse_search(data)[0]
    assert only == Candidate(
        url="https://pixabay.com/get/2_1280.jpg",
        license="Pixabay Content License",
        license_url="https://pixabay.com/service/license-summary/",
    )


@pytest.mark.parametrize(
    "data",
    [
        '[ERROR 400] "key" is wrong or missing.',
        {"total": 3, "totalHits": 3},
        {"hits": {"0": {}}},
        {"count": 0, "results": []},
        _answer({"id": 1, "pageURL": "https://pixabay.com/en/x-1/"}),
    ],
    ids=["error-text", "no-hits", "hits-not-list", "other-shape", "no-image-urls"],
)
def test_parser_unknown_answers_are_format_errors(data: object) -> None:
    with pytest.raises(EngineFormatError, match=r"^pixabay: result page format not recognised$"):
        parse_search(data)


# ------------------------------------------------------------------ filters


def test_search_params_ask_for_full_safe_pages() -> None:
    assert search_params("red fox", 2, SearchFilters()) == {
        "q": "red fox",
        "page": "2",
        "per_page": "200",
        "safesearch": "true",
    }


def test_search_params_map_type_colour_and_minimum_size() -> None:
    filters = SearchFilters(
        safe_search=False, image_type="clipart", color="purple", min_width=800, min_height=600
    )
    assert search_params("fox", 1, filters) == {
        "q": "fox",
        "page": "1",
        "per_page": "200",
        "image_type": "vector",
        "colors": "lilac",
        "min_width": "800",
        "min_height": "600",
    }
    photo = search_params("fox", 1, SearchFilters(image_type="photo", color="grayscale"))
    assert (photo["image_type"], photo["colors"]) == ("photo", "grayscale")


def test_transparency_takes_the_colours_parameter_over_a_colour() -> None:
    params = search_params("fox", 1, SearchFilters(image_type="transparent", color="red"))
    assert params["colors"] == "transparent"
    assert "image_type" not in params


def test_unapplied_reports_a_colour_lost_to_transparency() -> None:
    both = SearchFilters(image_type="transparent", color="red", license="public_domain")
    assert PixabayEngine("http://x", api_key="k", filters=both).unapplied() == [
        "pixabay: cannot filter by licence 'public_domain'; results are not filtered by it",
        "pixabay: cannot filter by colour 'red' together with transparency; "
        "results are not filtered by colour",
    ]
    lineart = SearchFilters(image_type="lineart", color="color")
    assert PixabayEngine("http://x", api_key="k", filters=lineart).unapplied() == [
        "pixabay: cannot filter by image type 'lineart'; results are not filtered by it",
        "pixabay: cannot filter by colour 'color'; results are not filtered by it",
    ]
    applied = SearchFilters(license="commercial_modify", image_type="transparent")
    assert PixabayEngine("http://x", api_key="k", filters=applied).unapplied() == []


# ------------------------------------------------------------------ against the fake web


def test_engine_stops_at_the_500_hits_pixabay_serves(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 700
    engine = make_engine("pixabay", fakeweb.base_url, api_key=FAKE_API_KEY)
    pages = run(_pages(engine, "owl"))
    assert [len(p.candidates) for p in pages] == [200, 200, 100]  # asking on is a 400
    assert fakeweb.hits("/api/") == 3


def test_filters_are_accepted_by_the_api(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(image_type="transparent", color="red", min_width=100, min_height=80)
    engine = make_engine("pixabay", fakeweb.base_url, api_key=FAKE_API_KEY, filters=filters)
    assert len(run(_pages(engine, "owl"))[0].candidates) == 60


def test_overlong_keyword_is_refused_before_asking(fakeweb: FakeWeb) -> None:
    engine = make_engine("pixabay", fakeweb.base_url, api_key=FAKE_API_KEY)
    with pytest.raises(EngineError, match=r"^pixabay: keyword longer than 100 characters"):
        run(_pages(engine, "owl " * 26))
    assert fakeweb.hits("/api/") == 0


def test_answers_are_kept_24_hours_and_reused_as_the_terms_ask(
        fakeweb: FakeWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXCRAWLER_ENGINE_PIXABAY_URL", fakeweb.base_url)
    settings = Settings(_env_file=None, mode="embedded", data_dir=tmp_path,
                        pixabay_api_key=FAKE_API_KEY)
    engine = configured_engine(settings, "pixabay")
    again = configured_engine(settings, "pixabay")  # another chunk, another worker
    assert engine.answers is not None and engine.answers.seconds == 24 * 3600
    first = run(_pages(engine, "owl"))
    assert fakeweb.hits("/api/") == 1
    assert run(_pages(again, "owl")) == first  # from the cache: Pixabay is not asked again
    assert fakeweb.hits("/api/") == 1
    run(_pages(again, "heron"))  # another request is asked
    assert fakeweb.hits("/api/") == 2
    kept = list((tmp_path / "cache" / "pixabay").iterdir())
    assert len(kept) == 2 and not any(FAKE_API_KEY in p.read_text() for p in kept)

    stale = time.time() - 24 * 3600 - 1  # a day later the answer is asked for afresh
    for path in kept:
        os.utime(path, (stale, stale))
    run(_pages(again, "owl"))
    assert fakeweb.hits("/api/") == 3


def test_an_unreadable_kept_answer_is_asked_again(fakeweb: FakeWeb, tmp_path: Path) -> None:
    engine = make_engine("pixabay", fakeweb.base_url, api_key=FAKE_API_KEY)
    engine.answers = AnswerCache(tmp_path, 3600)
    run(_pages(engine, "owl"))
    for path in tmp_path.iterdir():
        path.write_text("{half", encoding="utf-8")
    assert len(run(_pages(engine, "owl"))[0].candidates) > 0
    assert fakeweb.hits("/api/") == 2
