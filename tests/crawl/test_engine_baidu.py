"""Baidu Images: the acjson parser and URL cipher, blocks, filter mapping, then the fake web."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from tests.fakeweb.sites.baidu import cipher
from worker.crawl.engines import BaiduEngine, make_engine
from worker.crawl.engines.baidu import (
    decode_url,
    is_captcha_redirect,
    parse_acjson,
    search_params,
)
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

# An answer in the documented shape, with Baidu's escaping: \/ (valid) and \' (not valid JSON).
ANSWER = r"""{"queryEnc":"%E7%8C%AB%E5%A4%B4%E9%B9%B0","queryExt":"猫头鹰","listNum":1680,
"displayNum":245817,"gsm":"1e","bdFmtDispNum":"约245,000","bdSearchTime":"",
"isNeedAsyncRequest":0,"bdIsClustered":"1","data":[
{"adType":"0","thumbURL":"https:\/\/img1.baidu.com\/it\/u=1204,3312&fm=253&fmt=auto?w=800&h=533",
"middleURL":"https:\/\/img1.baidu.com\/it\/u=1204,3312&fm=253&fmt=auto?w=800&h=533",
"width":1920,"height":1280,"type":"jpg","fromURLHost":"www.owls.example.cn",
"fromPageTitle":"<strong>猫头鹰<\/strong>的夜晚 &amp; 月亮",
"fromPageTitleEnc":"猫头鹰的夜晚 & 月亮",
"objURL":"ippr_z2C$qAzdH3FAzdH3Fooo_z&e3Bkwt_z&e3Bv54AzdH3Ff","fromURL":"ippr_z2C$qAzdH3FAzdH3F",
"replaceUrl":[{"ObjURL":"https:\/\/pic.owls.example.cn\/2024\/owl-night.jpg",
"FromURL":"https:\/\/www.owls.example.cn\/gallery\/owl-night"}],"di":"7312945621"},
{"thumbURL":"https:\/\/img2.baidu.com\/it\/u=88,99&fm=253","width":"640","height":480.0,
"fromPageTitleEnc":"","fromPageTitle":"Rock \'n\' <strong>owl<\/strong>",
"replaceUrl":[{"ObjURL":"http:\/\/photos.example.com\/rock-n-owl.png","FromURL":""}]},
{}]}"""


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _search(engine: BaiduEngine, keyword: str, cursor: Any = None) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword, cursor)


async def _pages(engine: BaiduEngine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while True:
            page = await engine.search(session, keyword, cursor)
            pages.append(page)
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


def _answer(*items: dict[str, Any], **top: Any) -> str:
    return json.dumps({**top, "data": [*items, {}]})


# ------------------------------------------------------------------ parser


def test_parser_reads_the_documented_answer() -> None:
    candidates, total = parse_acjson(ANSWER, "https://image.baidu.com")
    assert total == 1680
    assert candidates == [
        Candidate(
            url="https://pic.owls.example.cn/2024/owl-night.jpg",
            page_url="https://www.owls.example.cn/gallery/owl-night",
            title="猫头鹰的夜晚 & 月亮",
            width=1920,
            height=1280,
            thumbnail_url="https://img1.baidu.com/it/u=1204,3312&fm=253&fmt=auto?w=800&h=533",
        ),
        # An empty fromPageTitleEnc falls back to fromPageTitle, highlights stripped.
        Candidate(
            url="http://photos.example.com/rock-n-owl.png",
            title="Rock 'n' owl",
            width=640,
            height=480,
            thumbnail_url="https://img2.baidu.com/it/u=88,99&fm=253",
        ),
    ]


def test_decode_url_undoes_baidu_cipher() -> None:
    assert decode_url("ippr_z2C$qAzdH3FAzdH3Fw_z&e3BkAzdH3Fv_z&e3B3r2") == "http://a.b/c.jpg"
    real = "https://img.example.com/2024/07/owl_9-x.jpeg?w=1080&h=720"
    assert decode_url(cipher(real)) == real
    assert decode_url("https://plain.example/a.jpg") == "https://plain.example/a.jpg"
    assert decode_url(None) is None


def test_parser_falls_back_to_the_ciphered_urls_and_skips_unusable_items() -> None:
    body = _answer(
        {"thumbURL": "https://img0.baidu.com/it/u=1.jpg"},  # a preview only: not full size
        {"replaceUrl": [{"ObjURL": "data:image/png;base64,AAAA"}]},
        {"replaceUrl": "broken", "objURL": "javascript:alert(1)"},
        {
            "replaceUrl": [],
            "objURL": cipher("https://cdn.example/full.jpg"),
            "fromURL": cipher("https://site.example/page"),
            "hoverURL": "//img0.baidu.com/it/u=2.jpg",
        },
        {"replaceUrl": [{"ObjURL": "/img/a.jpg", "FromURL": "page/a.html"}], "width": 0},
    )
    candidates, total = parse_acjson(body, "http://127.0.0.1:8999")
    assert total is None
    assert candidates == [
        Candidate(
            url="https://cdn.example/full.jpg",
            page_url="https://site.example/page",
            thumbnail_url="http://img0.baidu.com/it/u=2.jpg",
        ),
        Candidate(
            url="http://127.0.0.1:8999/img/a.jpg", page_url="http://127.0.0.1:8999/page/a.html"
        ),
    ]


@pytest.mark.parametrize(
    "body",
    ['{"listNum":0,"data":[{}]}', '{"listNum":0,"data":[]}'],
    ids=["trailing-empty-only", "empty-list"],
)
def test_parser_no_results_is_an_empty_list(body: str) -> None:
    assert parse_acjson(body) == ([], None)


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body><div id='root'></div></body></html>",
        '{"queryExt":"owl","data":[{"thumbURL":',
        '["not", "an", "object"]',
        '{"queryExt":"owl","data":"none"}',
        '{"queryExt":"owl"}',
        _answer({"thumbURL": "https://img0.baidu.com/it/u=1.jpg", "width": 10}),
    ],
    ids=["html", "truncated", "array", "data-not-list", "no-data", "previews-only"],
)
def test_parser_unknown_answers_are_format_errors(body: str) -> None:
    with pytest.raises(EngineFormatError, match=r"^baidu: result page format not recognised$"):
        parse_acjson(body)


def test_parser_anti_spider_answer_is_a_block() -> None:
    body = '{"antiFlag":1,"message":"Forbid spider access"}'
    with pytest.raises(
        EngineBlocked, match=r"^baidu: refused by its anti-spider check \(Forbid spider access\)$"
    ):
        parse_acjson(body)


@pytest.mark.parametrize(
    ("url", "captcha"),
    [
        ("https://wappass.baidu.com/static/captcha/tuxing.html?ak=1&backurl=x", True),
        ("http://127.0.0.1:9/static/captcha/tuxing.html", True),
        ("https://image.baidu.com/search/acjson?tn=resultjson_com", False),
    ],
)
def test_captcha_redirects_are_recognised(url: str, captcha: bool) -> None:
    assert is_captcha_redirect(URL(url)) is captcha


# ------------------------------------------------------------------ filters


def test_search_params_without_filters() -> None:
    params = search_params("猫头鹰", 60, {})
    assert params["tn"] == "resultjson_com"
    assert (params["word"], params["queryWord"]) == ("猫头鹰", "猫头鹰")
    assert (params["pn"], params["rn"]) == ("60", "30")
    assert (params["lm"], params["st"]) == ("-1", "-1")
    assert "ic" not in params


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"image_type": "animated"}, {"lm": "6", "st": "-1"}),
        ({"image_type": "clipart"}, {"lm": "-1", "st": "1"}),
        ({"image_type": "lineart", "color": "red"}, {"st": "2", "ic": "1"}),
        ({"color": "orange"}, {"ic": "256"}),
        ({"color": "grayscale"}, {"ic": "2048"}),
    ],
)
def test_search_params_map_type_and_colour(
    wanted: dict[str, object], expected: dict[str, str]
) -> None:
    params = search_params("owl", 0, wanted)
    assert {k: params.get(k) for k in expected} == expected


def test_unapplied_reports_what_baidu_cannot_filter() -> None:
    assert make_engine("baidu", None).unapplied() == [
        "baidu: cannot filter by safe search; results are not filtered by it"
    ]
    filters = SearchFilters(safe_search=False, license="public_domain", image_type="photo")
    assert make_engine("baidu", None, filters=filters).unapplied() == [
        "baidu: cannot filter by licence 'public_domain'; results are not filtered by it",
        "baidu: cannot filter by image type 'photo'; results are not filtered by it",
    ]
    supported = SearchFilters(safe_search=False, image_type="clipart", color="teal")
    assert make_engine("baidu", None, filters=supported).unapplied() == []


def test_search_opens_the_result_page_once_then_asks_acjson_with_it_as_referer() -> None:
    filters = SearchFilters(image_type="animated", color="blue", license="commercial")
    engine = make_engine("baidu", "http://baidu.test", filters=filters)
    calls: list[tuple[str, dict[str, Any]]] = []

    async def fetch_text(session: Any, url: str, **kwargs: Any) -> tuple[URL, str]:
        calls.append((url, kwargs))
        return URL(url), _answer({"replaceUrl": [{"ObjURL": "https://e.example/a.jpg"}]})

    engine.fetch_text = fetch_text  # type: ignore[method-assign]
    first = run(engine.search(None, "雪鸮", None))  # type: ignore[arg-type]
    later = run(engine.search(None, "雪鸮", 30))  # type: ignore[arg-type]

    assert (first.next_cursor, later.next_cursor) == (30, 60)  # no listNum: until a page is empty
    page_url = "http://baidu.test/search/index?tn=baiduimage&word=%E9%9B%AA%E9%B8%AE"
    assert [url for url, _ in calls] == [
        page_url,
        "http://baidu.test/search/acjson",
        "http://baidu.test/search/acjson",
    ]
    acjson = calls[1][1]
    assert acjson["headers"]["Referer"] == page_url
    assert acjson["params"]["pn"] == "0"
    assert (acjson["params"]["lm"], acjson["params"]["ic"]) == ("6", "16")
    assert calls[2][1]["params"]["pn"] == "30"


# ------------------------------------------------------------------ against the fake web


def test_baidu_pages_through_all_results(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 70
    fakeweb.config.image_size = (800, 600)
    keyword = "rock 'n' owl"
    engine = make_engine("baidu", fakeweb.base_url)

    pages = run(_pages(engine, keyword))

    # listNum says 70: the third page is the last, without asking for an empty fourth.
    assert [len(p.candidates) for p in pages] == [30, 30, 10]
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [fakeweb.result_image_url(keyword, i) for i in range(70)]
    name = fakeweb.result_name(keyword, 7)
    assert found[7] == Candidate(
        url=f"{fakeweb.base_url}/img/{name}.jpg",
        page_url=f"{fakeweb.base_url}/page/{name}.html",
        title=result_title(keyword, 7),
        width=800,
        height=600,
        thumbnail_url=f"{fakeweb.base_url}/th?id=OIP.{name}&pid=15.1",
    )
    assert fakeweb.hits("/search/index") == 1
    assert fakeweb.hits("/search/acjson") == 3


def test_baidu_page_size_multiple_ends_on_list_num(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 60
    pages = run(_pages(make_engine("baidu", fakeweb.base_url), "owl"))
    assert [len(p.candidates) for p in pages] == [30, 30]


def test_baidu_blocked_on_a_later_page(fakeweb: FakeWeb) -> None:
    engine = make_engine("baidu", fakeweb.base_url)
    first = run(_search(engine, "owl"))
    fakeweb.config.blocked = {"baidu"}
    with pytest.raises(EngineBlocked, match=r"^baidu: refused by its anti-spider check"):
        run(_search(engine, "owl", first.next_cursor))


def test_fake_baidu_refuses_acjson_without_referer(fakeweb: FakeWeb) -> None:
    async def bare() -> str:
        async with aiohttp.ClientSession() as session:
            url = f"{fakeweb.base_url}/search/acjson"
            params = search_params("owl", 0, {})
            async with session.get(url, params=params) as resp:
                return await resp.text()

    with pytest.raises(EngineBlocked):
        parse_acjson(run(bare()))
