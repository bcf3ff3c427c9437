"""Fake Baidu Images: the result page (cookies) and the ``/search/acjson`` JSON it calls.

Like Baidu, ``acjson`` refuses a request without a Referer with its anti-spider answer, escapes
``/`` and ``'`` (the latter in a way JSON does not allow), ciphers ``objURL``/``fromURL`` and ends
``data`` with an empty object.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from aiohttp import web

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

MAX_PAGE = 60  # the largest rn served
ANTI_SPIDER = '{"antiFlag":1,"message":"Forbid spider access"}'

_TOKENS = ((":", "_z2C$q"), (".", "_z&e3B"), ("/", "AzdH3F"))
_CHARS = str.maketrans("abcdefghijklmnopqrstuvw1234567890", "wkv1ju2it3hs4g5rq6fp7eo8dn9cm0bla")


def cipher(url: str) -> str:
    """Baidu's ``objURL`` cipher: substitute characters, then write : . / as tokens."""
    text = url.translate(_CHARS)
    for plain, token in _TOKENS:
        text = text.replace(plain, token)
    return text


def _item(keyword: str, r: Result) -> dict[str, Any]:
    marked = html.escape(r.title).replace(
        html.escape(keyword), f"<strong>{html.escape(keyword)}</strong>", 1
    )
    return {
        "adType": "0",
        "thumbURL": r.thumbnail_url,
        "middleURL": r.thumbnail_url,
        "hoverURL": r.thumbnail_url,
        "width": r.width,
        "height": r.height,
        "type": "jpg",
        "fromURLHost": urlsplit(r.page_url).netloc,
        "fromPageTitle": marked,
        "fromPageTitleEnc": r.title,
        "objURL": cipher(r.image_url),
        "fromURL": cipher(r.page_url),
        "replaceUrl": [{"ObjURL": r.image_url, "FromURL": r.page_url}],
        "di": hashlib.sha256(r.image_url.encode()).hexdigest()[:19],
        "bdImgnewsDate": "2024-05-01 12:00",
    }


def acjson_answer(keyword: str, results: list[Result], total: int, offset: int) -> str:
    payload = {
        "queryEnc": quote(keyword),
        "queryExt": keyword,
        "listNum": total,
        "displayNum": total,
        "gsm": format(offset + len(results), "x"),
        "bdFmtDispNum": f"约{total:,}",
        "bdSearchTime": "",
        "isNeedAsyncRequest": 0,
        "bdIsClustered": "1",
        "data": [*(_item(keyword, r) for r in results), {}],
    }
    return json.dumps(payload, ensure_ascii=False).replace("/", "\\/").replace("'", "\\'")


def html_page(keyword: str) -> str:
    """Baidu's script-built result page: no results in the markup."""
    title = html.escape(keyword)
    return (
        f"<!DOCTYPE html><html><head><title>{title}_百度图片搜索</title></head>"
        '<body><div id="root"></div><script src="/static/js/main.js"></script></body></html>'
    )


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def index(request: web.Request) -> web.Response:
        await fake.search_delay()
        resp = web.Response(text=html_page(request.query.get("word", "")), content_type="text/html")
        resp.set_cookie("BAIDUID", "FAKE0123456789:FG=1")
        return resp

    async def acjson(request: web.Request) -> web.Response:
        await fake.search_delay()
        q = request.query
        if "baidu" in fake.config.blocked or not request.headers.get("Referer"):
            return web.Response(text=ANTI_SPIDER, content_type="text/html")
        if "baidu" in fake.config.broken or q.get("tn") != "resultjson_com":
            return web.Response(text=html_page(q.get("word", "")), content_type="text/html")
        keyword = q.get("word", "")
        offset = max(int(q.get("pn", "0") or 0), 0)
        count = min(max(int(q.get("rn", "30") or 30), 1), MAX_PAGE)
        results = fake.results(keyword, offset, count)
        text = acjson_answer(keyword, results, fake.total(keyword), offset)
        return web.Response(text=text, content_type="text/html")

    router.add_get("/search/index", index)
    router.add_get("/search/acjson", acjson)
