"""Google Images: the async JSON parser, block detection, filter mapping, then the fake web."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from worker.crawl.engines import GoogleEngine, make_engine
from worker.crawl.engines.google import (
    APP_USER_AGENT,
    parse_results,
    redirect_block,
    search_params,
    size_token,
)
from worker.crawl.filters import SearchFilters
from worker.crawl.types import (
    Candidate,
    EngineBlocked,
    EngineFormatError,
    ResultPage,
)

# An answer in the documented shape: prefix, then {"ischj": {"metadata": [...]}}.
ANSWER = (
    ")]}'\n"
    '{"ischj":{"metadata":['
    '{"image_docid":"x1Y2z3","original_image":{"url":"https://cdn.example.org/owls/snowy.jpg",'
    '"width":2048,"height":1365},"thumbnail":{"url":"https://encrypted-tbn0.gstatic.com/images'
    '?q=tbn:ANd9GcT1\\u0026s","width":275,"height":183},"result":{"referrer_url":'
    '"https://birds.example.org/snowy-owl","page_title":"Snowy owl - Bird guide",'
    '"site_title":"birds.example.org"},"text_in_grid":{"snippet":"Snowy owl in flight"}},'
    '{"original_image":{"url":"http://img.example.net/barn%20owl.png","width":"800",'
    '"height":600.0},"thumbnail":{"url":"https://encrypted-tbn0.gstatic.com/images?q=tbn:2"},'
    '"result":{"referrer_url":"http://img.example.net/","page_title":"  "},'
    '"text_in_grid":{"snippet":"Barn owl"}}'
    "]}}"
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _search(engine: GoogleEngine, keyword: str, cursor: Any = None) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword, cursor)


async def _pages(engine: GoogleEngine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while True:
            page = await engine.search(session, keyword, cursor)
            pages.append(page)
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


def _item(**fields: Any) -> dict[str, Any]:
    return {"original_image": {"url": "https://e.example/a.jpg"}, **fields}


def _answer(*items: dict[str, Any]) -> str:
    return ")]}'\n" + json.dumps({"ischj": {"metadata": list(items)}})


# ------------------------------------------------------------------ parser


def test_parser_reads_the_documented_answer() -> None:
    first, second = parse_results(ANSWER, "https://www.google.com")
    assert first == Candidate(
        url="https://cdn.example.org/owls/snowy.jpg",
        page_url="https://birds.example.org/snowy-owl",
        title="Snowy owl - Bird guide",
        width=2048,
        height=1365,
        thumbnail_url="https://encrypted-tbn0.gstatic.com/images?q=tbn:ANd9GcT1&s",
    )
    # A blank page title falls back to the grid snippet; sizes come as strings or floats too.
    assert second == Candidate(
        url="http://img.example.net/barn%20owl.png",
        page_url="http://img.example.net/",
        title="Barn owl",
        width=800,
        height=600,
        thumbnail_url="https://encrypted-tbn0.gstatic.com/images?q=tbn:2",
    )


def test_parser_finds_the_answer_without_the_prefix_and_ignores_trailing_bytes() -> None:
    body = 'garbage {"ischj":{"metadata":[' + json.dumps(_item()) + "]}} <!-- trailer -->"
    assert [c.url for c in parse_results(body)] == ["https://e.example/a.jpg"]


def test_parser_resolves_relative_urls_and_skips_unusable_items() -> None:
    body = _answer(
        {"original_image": {"url": "data:image/jpeg;base64,AAAA"}},
        {"original_image": {"url": "javascript:void(0)"}},
        {"thumbnail": {"url": "https://t.example/only-a-thumbnail.jpg"}},
        "not an item",  # type: ignore[arg-type]
        {
            "original_image": {"url": "/img/a.jpg", "width": 0, "height": "tall"},
            "thumbnail": {"url": "//cdn.example/t.jpg"},
            "result": {"referrer_url": "page/a.html"},
        },
    )
    [c] = parse_results(body, "http://127.0.0.1:8999")
    assert c == Candidate(
        url="http://127.0.0.1:8999/img/a.jpg",
        page_url="http://127.0.0.1:8999/page/a.html",
        thumbnail_url="http://cdn.example/t.jpg",
    )


@pytest.mark.parametrize(
    "body",
    [')]}\'\n{"ischj":{}}', ')]}\'\n{"ischj":{"metadata":[]}}'],
    ids=["no-metadata", "empty-metadata"],
)
def test_parser_empty_answer_means_no_more_results(body: str) -> None:
    assert parse_results(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body><noscript>Please click here</noscript></body></html>",
        ')]}\'\n{"ischj":{"metadata":[{"original_image":{"url":',
        ')]}\'\n{"ischj":[]}',
        ')]}\'\n{"ischj":{"metadata":{"0":{}}}}',
        _answer({"original_image": {}}, {"result": {"page_title": "x"}}),
    ],
    ids=["script-only-page", "truncated", "ischj-not-object", "metadata-not-list", "no-usable"],
)
def test_parser_unknown_answers_are_format_errors(body: str) -> None:
    with pytest.raises(EngineFormatError, match=r"^google: result page format not recognised$"):
        parse_results(body)


def test_parser_tells_block_pages_from_unknown_ones() -> None:
    sorry = (
        '<form id="captcha-form" action="index" method="post"></form><div>Our systems have '
        "detected unusual traffic from your computer network.</div>"
    )
    with pytest.raises(EngineBlocked, match=r'^google: blocked by the "unusual traffic"'):
        parse_results(sorry)
    consent = '<form action="https://consent.google.com/save" method="POST"></form>'
    with pytest.raises(EngineBlocked, match=r"^google: stopped at the cookie consent page$"):
        parse_results(consent)


SORRY = 'blocked by the "unusual traffic" captcha page'


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://www.google.com/sorry/index?continue=x", SORRY),
        ("https://sorry.google.com/sorry/Captcha", SORRY),
        ("https://consent.google.com/ml?continue=x", "stopped at the cookie consent page"),
        ("https://www.google.com/search?q=owl", None),
    ],
)
def test_redirect_block_names_the_block(url: str, reason: str | None) -> None:
    assert redirect_block(URL(url)) == reason


# ------------------------------------------------------------------ filters


def test_search_params_without_filters_ask_for_the_app_answer_only() -> None:
    assert search_params("snowy owl", 0, {}) == {
        "q": "snowy owl",
        "tbm": "isch",
        "asearch": "isch",
        "async": "_fmt:json,p:1,ijn:0",
        "hl": "en",
    }


@pytest.mark.parametrize(
    ("wanted", "size", "safe", "tbs"),
    [
        ({"safe_search": True}, (0, 0), "active", None),
        ({"image_type": "photo", "color": "grayscale"}, (0, 0), None, "itp:photo,ic:gray"),
        (
            {"image_type": "animated", "color": "red"},
            (0, 0),
            None,
            "itp:animated,ic:specific,isc:red",
        ),
        ({"color": "color"}, (0, 0), None, "ic:color"),
        ({"image_type": "transparent", "color": "blue"}, (0, 0), None, "ic:trans"),
        ({"image_type": "lineart"}, (1024, 768), None, "isz:lt,islt:xga,itp:lineart"),
        ({}, (3000, 2000), None, "isz:lt,islt:4mp"),
    ],
)
def test_search_params_map_filters_to_safe_and_tbs(
    wanted: dict[str, object], size: tuple[int, int], safe: str | None, tbs: str | None
) -> None:
    params = search_params("owl", 2, wanted, *size)
    assert params["async"] == "_fmt:json,p:1,ijn:2"
    assert params.get("safe") == safe
    assert params.get("tbs") == tbs


@pytest.mark.parametrize(
    ("size", "token"),
    [
        ((0, 0), None),
        ((399, 1000), None),  # every step needs 400 x 300: too strict
        ((400, 300), "isz:lt,islt:qsvga"),
        ((700, 500), "isz:lt,islt:vga"),
        ((800, 600), "isz:lt,islt:svga"),
        ((4000, 500), "isz:lt,islt:vga"),  # 2 MP would drop 4000 x 500 images
        ((1920, 1080), "isz:lt,islt:xga"),
        ((2000, 1200), "isz:lt,islt:2mp"),
        ((10000, 8000), "isz:lt,islt:70mp"),
    ],
)
def test_size_token_never_asks_for_more_than_the_minimum(
    size: tuple[int, int], token: str | None
) -> None:
    assert size_token(*size) == token


def test_unapplied_reports_licence_and_a_colour_lost_to_transparency() -> None:
    assert make_engine("google", None).unapplied() == []
    filters = SearchFilters(license="commercial", image_type="transparent", color="red")
    assert make_engine("google", None, filters=filters).unapplied() == [
        "google: cannot filter by licence 'commercial'; results are not filtered by it",
        "google: cannot filter by colour 'red' together with transparent images; "
        "results are not filtered by it",
    ]


def test_search_sends_the_filters_and_the_app_user_agent() -> None:
    filters = SearchFilters(image_type="clipart", color="teal", min_width=640, min_height=480)
    engine = make_engine("google", "http://google.test", filters=filters)
    assert engine.user_agent == APP_USER_AGENT
    calls: list[tuple[str, dict[str, str]]] = []

    async def fetch_text(session: Any, url: str, **kwargs: Any) -> tuple[URL, str]:
        calls.append((url, kwargs["params"]))
        return URL(url), _answer(_item())

    engine.fetch_text = fetch_text  # type: ignore[method-assign]
    page = run(engine.search(None, "owl", 3))  # type: ignore[arg-type]
    assert page.next_cursor == 4
    [(url, params)] = calls
    assert url == "http://google.test/search"
    assert params["async"] == "_fmt:json,p:1,ijn:3"
    assert params["safe"] == "active"
    assert params["tbs"] == "isz:lt,islt:vga,itp:clipart,ic:specific,isc:teal"
    assert make_engine("google", None, user_agent="Custom/1").user_agent == "Custom/1"


# ------------------------------------------------------------------ against the fake web


def test_google_pages_through_all_results(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 250
    fakeweb.config.image_size = (640, 480)
    keyword = "snowy owl & co"
    engine = make_engine("google", fakeweb.base_url)

    pages = run(_pages(engine, keyword))

    assert [len(p.candidates) for p in pages] == [100, 100, 50, 0]
    assert [p.next_cursor for p in pages] == [1, 2, 3, None]
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [fakeweb.result_image_url(keyword, i) for i in range(250)]
    name = fakeweb.result_name(keyword, 7)
    assert found[7] == Candidate(
        url=f"{fakeweb.base_url}/img/{name}.jpg",
        page_url=f"{fakeweb.base_url}/page/{name}.html",
        title=result_title(keyword, 7),
        width=640,
        height=480,
        thumbnail_url=f"{fakeweb.base_url}/th?id=OIP.{name}&pid=15.1",
    )
    assert fakeweb.hits("/search") == 4


def test_google_with_filters_still_gets_results(fakeweb: FakeWeb) -> None:
    filters = SearchFilters(image_type="photo", color="grayscale", min_width=800, min_height=600)
    engine = make_engine("google", fakeweb.base_url, filters=filters)
    pages = run(_pages(engine, "owl"))
    assert sum(len(p.candidates) for p in pages) == fakeweb.config.results_per_keyword


def test_google_block_redirects_to_the_sorry_page(fakeweb: FakeWeb) -> None:
    engine = make_engine("google", fakeweb.base_url)
    first = run(_search(engine, "owl"))
    fakeweb.config.blocked = {"google"}
    with pytest.raises(
        EngineBlocked, match=r'^google: blocked by the "unusual traffic" captcha page \(HTTP 429\)$'
    ):
        run(_search(engine, "owl", first.next_cursor))
    assert fakeweb.hits("/sorry/index") == 1  # no waiting out a 429 that will not end


def test_google_plain_search_page_is_not_mistaken_for_results(fakeweb: FakeWeb) -> None:
    async def plain() -> str:
        async with aiohttp.ClientSession() as session:
            url = f"{fakeweb.base_url}/search"
            async with session.get(url, params={"q": "owl", "tbm": "isch"}) as resp:
                return await resp.text()

    with pytest.raises(EngineFormatError):
        parse_results(run(plain()))
