"""Engines: parsers against real recorded pages, then each engine end to end against FakeWeb."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from html import escape
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from tests.fakeweb.sites import FAKE_API_KEY
from worker.crawl.engines import (
    ENGINES,
    BingEngine,
    DuckDuckGoEngine,
    Engine,
    UnknownEngineError,
    make_engine,
)
from worker.crawl.engines.bing import parse_results_page
from worker.crawl.engines.duckduckgo import (
    DuckDuckGoCursor,
    _with_vqd,
    extract_vqd,
    parse_ijs,
)
from worker.crawl.filters import SearchFilters, describe
from worker.crawl.types import (
    Candidate,
    EngineBlocked,
    EngineError,
    EngineFormatError,
    ResultPage,
)

T = TypeVar("T")


def engine_for(name: str, base_url: str, **options: Any) -> Engine:
    """The engine ``name`` pointed at ``base_url``, with the fake web's key if it needs one."""
    key = FAKE_API_KEY if ENGINES[name].key_setting else None
    return make_engine(name, base_url, api_key=key, **options)


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def _search_once(engine: Engine, keyword: str, cursor: Any = None) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword, cursor)


async def _all_pages(engine: Engine, keyword: str, max_pages: int = 20) -> list[ResultPage]:
    """Follow next_cursor like the chunk runner does, until the engine says it is done."""
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        for _ in range(max_pages):
            page = await engine.search(session, keyword, cursor)
            pages.append(page)
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor
    raise AssertionError(f"{engine.name} never reached a last page in {max_pages} pages")


# ------------------------------------------------------------------ Bing parser, real page


def test_bing_parser_reads_the_real_recorded_page(search_pages: Path) -> None:
    html = (search_pages / "bing_search_getimgs.html").read_text(encoding="utf-8")
    candidates = parse_results_page(html, "https://www.bing.com")

    assert len(candidates) == 35
    assert candidates[0] == Candidate(
        url=(
            "https://images.pexels.com/photos/76966/"
            "crab-red-klippenkrabbe-grapsus-grapsus-shellfish-76966.jpeg"
            "?cs=srgb&dl=pexels-pixabay-76966.jpg&fm=jpg"
        ),
        page_url="https://www.pexels.com/search/crab/",
        title="Crab Photos, Download The BEST Free Crab Stock Photos & HD Images",
        width=3008,
        height=2000,
        thumbnail_url="https://ts2.mm.bing.net/th?id=OIP.8-W8eRFHXR24dItrXU2z7AHaE7&pid=15.1",
    )
    second = candidates[1]
    assert second.url == "https://snargl.com/images/crab/crab-with-a-large.webp"
    assert second.page_url == "https://snargl.com/animals/crab/"
    assert (second.width, second.height) == (1080, 1080)
    assert (
        candidates[-1].url == "https://wallpapers.com/images/hd/crab-in-beach-vcmcautpj9u47b92.jpg"
    )
    assert (candidates[-1].width, candidates[-1].height) == (1920, 1228)
    for c in candidates:
        assert c.url.startswith(("http://", "https://"))
        assert c.page_url and c.page_url.startswith(("http://", "https://"))
        assert c.title and "\ue000" not in c.title
        assert c.width and c.height
    assert len({c.url for c in candidates}) == 35


def test_bing_parser_reports_a_page_cut_before_the_grid(search_pages: Path) -> None:
    html = (search_pages / "bing_search_getimgs.html").read_text(encoding="utf-8")
    head_only = html[: html.index('id="b_content"')] + "></body></html>"
    with pytest.raises(EngineError, match=r"^bing: result page format not recognised$"):
        parse_results_page(head_only)


# ------------------------------------------------------------------ Bing parser, edge cases


def _anchor(m: dict[str, Any], href: str = "/images/search?view=detailV2&expw=640&exph=480") -> str:
    m_attr = escape(json.dumps(m), quote=True)
    return f'<a class="iusc" m="{m_attr}" href="{escape(href, quote=True)}"></a>'


def test_bing_parser_resolves_relative_urls_against_the_base() -> None:
    html = (
        '<ul class="dgControl_list">'
        + _anchor({"murl": "/img/a.jpg", "purl": "page/a.html", "turl": "//cdn.example/t.jpg"})
        + "</ul>"
    )
    [c] = parse_results_page(html, "http://127.0.0.1:8999")
    assert c.url == "http://127.0.0.1:8999/img/a.jpg"
    assert c.page_url == "http://127.0.0.1:8999/page/a.html"
    assert c.thumbnail_url == "http://cdn.example/t.jpg"
    assert (c.width, c.height) == (640, 480)


def test_bing_parser_skips_unusable_anchors_and_strips_highlights() -> None:
    html = (
        '<ul class="dgControl_list">'
        + '<a class="iusc" m="not json" href="/x"></a>'
        + _anchor({"murl": "javascript:alert(1)"})
        + _anchor({"murl": "https://e.example/b.png", "desc": "\ue000Crab\ue001 roe"}, href="/x")
        + "</ul>"
    )
    [c] = parse_results_page(html)
    assert c == Candidate(url="https://e.example/b.png", title="Crab roe")


def test_bing_parser_reads_only_markup() -> None:
    """Only start tags are scanned: a ">" inside a quoted value does not end the tag, and
    anchors in scripts, styles or comments are not results."""
    title = "a > b < c"
    html = (
        '<ul class="dgControl_list">'
        + _anchor({"murl": "https://e.example/1.jpg", "t": title}).replace(
            "<a ", "<a data-note='1 > 0' ", 1)
        + "<script>var tpl = '" + _anchor({"murl": "https://e.example/script.jpg"}) + "';"
        + "</script><!-- " + _anchor({"murl": "https://e.example/comment.jpg"}) + " -->"
        + "<style>a.iusc { color: red }</style>"
        + _anchor({"murl": "https://e.example/2.jpg"})
        + "</ul>"
    )
    found = parse_results_page(html)
    assert [c.url for c in found] == ["https://e.example/1.jpg", "https://e.example/2.jpg"]
    assert found[0].title == title


def test_bing_parser_anchors_without_any_usable_result_are_a_format_error() -> None:
    html = '<ul class="dgControl_list"><a class="iusc" m="{}" href="/x"></a></ul>'
    with pytest.raises(EngineError, match="format not recognised"):
        parse_results_page(html)


@pytest.mark.parametrize(
    "html",
    [
        '<div id="mmComponent_images_36"><ul class="dgControl_list "></ul></div>',
        '<div id="b_no"><div class="dg_nores">There are no results for <b>x</b></div></div>',
    ],
    ids=["empty-grid", "no-results-page"],
)
def test_bing_parser_empty_but_recognised_pages_give_no_candidates(html: str) -> None:
    assert parse_results_page(html) == []


def test_bing_parser_tells_a_captcha_from_an_unknown_page() -> None:
    captcha = '<form action="/turing/captcha/challenge"><p>One last step</p></form>'
    with pytest.raises(EngineError, match=r"^bing: blocked by a captcha page$"):
        parse_results_page(captcha)
    with pytest.raises(EngineError, match=r"^bing: result page format not recognised$"):
        parse_results_page("<html><body><div id='app'></div></body></html>")


# ------------------------------------------------------------------ DuckDuckGo parsers, real data


def test_ddg_parse_ijs_reads_the_real_recorded_answer(search_pages: Path) -> None:
    raw = (search_pages / "ddg_ijs_duck-duck-scrape_default.json").read_bytes()
    candidates, following = parse_ijs(raw)

    assert len(candidates) == 100
    assert following == "i.js?q=minecraft&o=json&p=-1&s=100&u=bing&f=,,,,,&l=us-en"
    assert candidates[0] == Candidate(
        url="https://www.gamepur.com/files/images/2019-11/minecraft-earth-how-to-craft-and-smelt.jpg",
        page_url="https://www.gamepur.com/guide/44494-minecraft-earth-how-craft-smelt.html",
        title="Minecraft Earth - How to Craft and Smelt",
        width=1214,
        height=933,
        thumbnail_url=(
            "https://tse2.explicit.bing.net/th?id=OIP.Gs1jkAe-9iVFH4-sNHSQoQHaFs&pid=Api"
        ),
    )
    assert candidates[1].page_url == "https://www.youtube.com/channel/UCPFEvlEIx4EyldIqNNe2x2g"
    assert (candidates[1].width, candidates[1].height) == (900, 900)
    assert all(c.url.startswith("http") and c.width and c.height for c in candidates)


def test_ddg_extract_vqd_reads_the_real_recorded_page(search_pages: Path) -> None:
    html = (search_pages / "ddg_vqd_page_duck-duck-scrape.html").read_text(encoding="utf-8")
    assert extract_vqd(html) == (
        "3-320068370671196460038575011587633753929-199869977846294510399902480995708132308"
    )


# ------------------------------------------------------------------ DuckDuckGo parsers, edge cases


@pytest.mark.parametrize(
    ("html", "token"),
    [
        ('<script>rl="us-en";vqd="4-1234-5678";safe=0</script>', "4-1234-5678"),
        ("<script>vqd='3-111-222';</script>", "3-111-222"),
        ('<script>x.fetch("/d.js?q=a&vqd=4-9-8&p=1")</script>', "4-9-8"),
        ('<form><input type="hidden" name="vqd" value="4-55-66"></form>', "4-55-66"),
        ('<form><input value="4-77-88" name="vqd" type="hidden"></form>', "4-77-88"),
    ],
)
def test_ddg_extract_vqd_finds_every_known_placement(html: str, token: str) -> None:
    assert extract_vqd(html) == token


def test_ddg_extract_vqd_without_token_names_the_problem() -> None:
    with pytest.raises(EngineError, match=r"^duckduckgo: no vqd token in the search page$"):
        extract_vqd("<html><script>var rl='us-en';</script></html>")


@pytest.mark.parametrize(
    "body",
    ["<!DOCTYPE html><html><body>window.execDeep=function(){}</body></html>", '{"ads": null}'],
    ids=["html", "json-without-results"],
)
def test_ddg_parse_ijs_unknown_answers_are_format_errors(body: str) -> None:
    with pytest.raises(EngineError, match=r"^duckduckgo: result page format not recognised$"):
        parse_ijs(body)


def test_ddg_parse_ijs_last_and_empty_pages() -> None:
    item = {"image": "/img/a.jpg", "url": "/page/a.html", "width": "64", "height": 48.0}
    candidates, following = parse_ijs({"results": [item]}, "http://127.0.0.1:1")
    assert following is None
    assert candidates == [
        Candidate(
            url="http://127.0.0.1:1/img/a.jpg",
            page_url="http://127.0.0.1:1/page/a.html",
            width=64,
            height=48,
        )
    ]
    assert parse_ijs('{"results": [], "next": ""}') == ([], None)


def test_ddg_next_url_gets_the_token_only_when_missing() -> None:
    recorded = "i.js?q=minecraft&o=json&p=-1&s=100&u=bing&f=,,,,,&l=us-en"
    assert _with_vqd(recorded, "3-1-2") == recorded + "&vqd=3-1-2"
    assert _with_vqd(recorded + "&vqd=4-5-6", "3-1-2") == recorded + "&vqd=4-5-6"


# ------------------------------------------------------------------ registry


def test_registry_makes_each_engine_with_default_or_given_url() -> None:
    assert {"bing", "duckduckgo"} <= set(ENGINES)
    assert isinstance(make_engine("bing", None), BingEngine)
    assert make_engine("bing", None).base_url == "https://www.bing.com"
    assert make_engine("duckduckgo", None).base_url == "https://duckduckgo.com"
    engine = make_engine("duckduckgo", "http://127.0.0.1:8999/")
    assert isinstance(engine, DuckDuckGoEngine)
    assert engine.base_url == "http://127.0.0.1:8999"


def test_registry_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"unknown engine 'altavista' \(known: .*bing.*\)"):
        make_engine("altavista", None)
    with pytest.raises(KeyError):
        make_engine("", None)
    assert issubclass(UnknownEngineError, ValueError)


# ------------------------------------------------------------------ end to end against FakeWeb


@pytest.mark.parametrize(
    ("name", "expected_sizes"),
    [("bing", [35, 35, 10, 0]), ("duckduckgo", [100, 100, 30])],
)
def test_engine_pages_through_all_results(
    fakeweb: FakeWeb, name: str, expected_sizes: list[int]
) -> None:
    fakeweb.config.results_per_keyword = 80 if name == "bing" else 230
    fakeweb.config.image_size = (200, 150)
    keyword = "red panda & co"
    engine = make_engine(name, fakeweb.engine_urls()[name])

    pages = run(_all_pages(engine, keyword))

    assert [len(p.candidates) for p in pages] == expected_sizes
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [
        fakeweb.result_image_url(keyword, i) for i in range(len(found))
    ]
    assert all(c.width == 200 and c.height == 150 for c in found)
    assert found[7].title == result_title(keyword, 7)
    assert found[7].page_url == f"{fakeweb.base_url}/page/{fakeweb.result_name(keyword, 7)}.html"
    assert found[7].thumbnail_url and found[7].thumbnail_url.startswith(fakeweb.base_url)


def test_bing_uses_the_search_page_then_the_async_grid(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 40
    run(_all_pages(make_engine("bing", fakeweb.base_url), "owl"))
    assert fakeweb.hits("/images/search") == 1
    assert fakeweb.hits("/images/async") == 2  # 5 more results, then the empty grid


def test_duckduckgo_reads_the_token_once_and_follows_next(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 150
    pages = run(_all_pages(make_engine("duckduckgo", fakeweb.base_url), "owl"))
    assert isinstance(pages[0].next_cursor, DuckDuckGoCursor)
    assert fakeweb.hits("/i.js") == 2
    assert fakeweb.hits() - fakeweb.hits("/i.js") == 1  # one vqd page


def test_faults_configured_for_a_result_reach_its_candidate_url(fakeweb: FakeWeb) -> None:
    fakeweb.config.faults = {"cat": {2: "status429=1&retry_after=1"}}
    for name in ENGINES:
        page = run(_search_once(engine_for(name, fakeweb.base_url), "cat"))
        assert page.candidates[2].url.endswith("/img/cat-2.jpg?status429=1&retry_after=1")


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_zero_results_is_an_empty_last_page_not_an_error(fakeweb: FakeWeb, name: str) -> None:
    fakeweb.config.keyword_results = {"nothing at all": 0}
    page = run(_search_once(engine_for(name, fakeweb.base_url), "nothing at all"))
    assert page.candidates == []
    assert page.next_cursor is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bing", "^bing: blocked by a captcha page$"),
        ("duckduckgo", r"^duckduckgo: blocked \(HTTP 403\)$"),
    ],
)
def test_blocked_engine_says_so(fakeweb: FakeWeb, name: str, message: str) -> None:
    fakeweb.config.blocked = {name}
    with pytest.raises(EngineBlocked, match=message):
        run(_search_once(make_engine(name, fakeweb.base_url), "cat"))


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_blocked_engine_raises_engine_blocked(fakeweb: FakeWeb, name: str) -> None:
    fakeweb.config.blocked = {name}
    with pytest.raises(EngineBlocked, match=rf"^{name}: "):
        run(_search_once(engine_for(name, fakeweb.base_url), "cat"))


def test_bing_blocked_on_a_later_page_raises_too(fakeweb: FakeWeb) -> None:
    engine = make_engine("bing", fakeweb.base_url)
    first = run(_search_once(engine, "cat"))
    fakeweb.config.blocked = {"bing"}
    with pytest.raises(EngineError, match="captcha"):
        run(_search_once(engine, "cat", first.next_cursor))


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_broken_engine_says_format_not_recognised(fakeweb: FakeWeb, name: str) -> None:
    fakeweb.config.broken = {name}
    with pytest.raises(EngineFormatError, match=rf"^{name}: result page format not recognised$"):
        run(_search_once(engine_for(name, fakeweb.base_url), "cat"))


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_unreachable_engine_raises_engine_error(fakeweb: FakeWeb, name: str) -> None:
    dead_base = fakeweb.dead_url().removesuffix("/img/dead.jpg")
    with pytest.raises(EngineError, match=rf"^{name}: search request failed"):
        run(_search_once(engine_for(name, dead_base), "cat"))


def test_search_timeout_is_an_engine_error(fakeweb: FakeWeb) -> None:
    fakeweb.config.search_latency = 5.0
    engine = make_engine("bing", fakeweb.base_url, timeout=0.2)
    with pytest.raises(EngineError, match=r"^bing: search request timed out$"):
        run(_search_once(engine, "cat"))


# ------------------------------------------------------------------ filters


def test_bing_maps_filters_to_qft_and_adlt() -> None:
    assert make_engine("bing").filter_params() == {"adlt": "strict"}
    filters = SearchFilters(safe_search=False, min_width=800, min_height=600,
                            license="commercial_modify", image_type="lineart", color="grayscale")
    assert make_engine("bing", filters=filters).filter_params() == {
        "adlt": "off",
        "qft": "+filterui:license-L2_L3+filterui:photo-linedrawing+filterui:color2-bw"
               "+filterui:imagesize-custom_800_600",
    }
    assert make_engine("bing", filters=SearchFilters(color="teal")).filter_params()["qft"] == (
        "+filterui:color2-FGcls_TEAL")


def test_duckduckgo_maps_filters_to_f_and_p() -> None:
    assert make_engine("duckduckgo").filter_params() == {"f": ",,,,,", "p": "1"}
    filters = SearchFilters(safe_search=False, license="public_domain", image_type="animated",
                            color="pink")
    assert make_engine("duckduckgo", filters=filters).filter_params() == {
        "f": ",,color:Pink,type:gif,,license:Public", "p": "-1"}


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_unapplied_filters_are_named_per_engine(name: str) -> None:
    wanted = SearchFilters(license="public_domain", image_type="lineart", color="brown")
    engine = engine_for(name, "http://127.0.0.1:9", filters=wanted)
    warnings = engine.unapplied()
    for filter_name, value in wanted.requested().items():
        applied = engine.can_apply(filter_name, value)
        mentioned = any(describe(filter_name, value) in w for w in warnings)
        assert applied != mentioned, (filter_name, value, warnings)
    assert all(w.startswith(f"{name}: cannot filter by ") for w in warnings)
