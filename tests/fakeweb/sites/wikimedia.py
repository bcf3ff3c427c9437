"""Fake Wikimedia Commons: ``/w/api.php`` answering a search generator with imageinfo.

Answers follow the real default JSON format (see the recorded MediaSearch fixture): pages keyed
by page id in page-id order, ``index`` for the rank, ``imageinfo`` with only the fields
``iiprop`` asked for, ``extmetadata`` values as ``{"value", "source", "hidden"}`` with HTML in
``Artist``, and ``continue.gsroffset`` while results remain. A request without the parameters
the engine must send gets MediaWiki's own answer to a bad request: HTTP 200 with ``error``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from tests.fakeweb.pages import Result

NAME = "wikimedia"
REQUIRED = {"action": "query", "generator": "search", "gsrnamespace": "6", "prop": "imageinfo"}
LICENSES = (
    ("CC BY-SA 4.0", "https://creativecommons.org/licenses/by-sa/4.0"),
    ("CC BY 2.0", "https://creativecommons.org/licenses/by/2.0"),
    ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/deed.en"),
    ("Public domain", None),
)
ARTISTS = (
    '<a href="//commons.wikimedia.org/wiki/User:Ansel_Example" title="User:Ansel Example">'
    "Ansel Example</a>",
    '<bdi><a href="https://www.wikidata.org/wiki/Q4233718" class="extiw">Anonymous</a>\n</bdi>',
    '<span class="fn value">Mar&iacute;a L&oacute;pez</span> (uploaded by '
    '<a href="//commons.wikimedia.org/wiki/User:Uploader">Uploader</a>)',
)
BLOCK_TEXT = (
    "Please set a user-agent and respect our robot policy "
    "https://meta.wikimedia.org/wiki/User-Agent_policy"
)


def _page_id(r: Result) -> int:
    return 10_000_000 + int(hashlib.sha256(r.image_url.encode()).hexdigest()[:6], 16)


def _meta(value: str, source: str = "commons-desc-page") -> dict[str, str]:
    return {"value": value, "source": source, "hidden": ""}


def _imageinfo(r: Result, props: set[str], thumb: bool) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if "size" in props:
        info.update(size=r.width * r.height // 4, width=r.width, height=r.height)
    if "url" in props:
        if thumb:
            info.update(thumburl=r.thumbnail_url, thumbwidth=r.width, thumbheight=r.height)
        info.update(url=r.image_url, descriptionurl=r.page_url)
    if "mime" in props:
        info["mime"] = "image/jpeg"
    if "extmetadata" in props:
        short_name, url = LICENSES[r.index % len(LICENSES)]
        meta = {
            "ObjectName": _meta(r.title),
            "LicenseShortName": _meta(short_name),
            "Artist": _meta(ARTISTS[r.index % len(ARTISTS)]),
        }
        if url:
            meta["LicenseUrl"] = _meta(url)
        info["extmetadata"] = meta
    return info


def _page(r: Result, props: set[str], thumb: bool) -> dict[str, Any]:
    page_id = _page_id(r)
    return {
        "pageid": page_id,
        "ns": 6,
        "title": f"File:{r.title}.jpg",
        "index": r.index + 1,
        "imagerepository": "local",
        "imageinfo": [_imageinfo(r, props, thumb)],
    }


def _bad_request(problem: str) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": "badvalue",
                "info": problem,
                "*": "See https://commons.wikimedia.org/w/api.php for API usage.",
            },
            "servedby": "mw-api-ext.fake",
        },
        headers={"MediaWiki-API-Error": "badvalue"},
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def api(request: web.Request) -> web.StreamResponse:
        await fake.search_delay()
        agent = request.headers.get("User-Agent", "")
        if NAME in fake.config.blocked or not agent or agent.startswith("Python/"):
            return web.Response(status=403, text=BLOCK_TEXT)
        if NAME in fake.config.broken:
            return web.json_response({"batch": {"complete": True}, "files": {"items": []}})
        q = request.query
        for key, value in REQUIRED.items():
            if q.get(key) != value:
                return _bad_request(f'Unrecognized or missing value for parameter "{key}".')
        keyword = q.get("gsrsearch", "").removesuffix(" filetype:bitmap")
        offset = max(_int(q.get("gsroffset"), 0), 0)
        limit = min(max(_int(q.get("gsrlimit"), 10), 1), 500)
        props = set(q.get("iiprop", "timestamp|user").split("|"))
        results = fake.results(keyword, offset, limit)
        if not results:
            return web.json_response({"batchcomplete": ""})
        pages = sorted(
            (_page(r, props, "iiurlwidth" in q) for r in results), key=lambda p: p["pageid"]
        )
        payload: dict[str, Any] = {"batchcomplete": ""}
        if offset + len(results) < fake.total(keyword):
            payload["continue"] = {"gsroffset": offset + len(results), "continue": "gsroffset||"}
        payload["query"] = {
            "searchinfo": {"totalhits": fake.total(keyword)},
            "pages": {str(p["pageid"]): p for p in pages},
        }
        return web.json_response(payload)

    router.add_get("/w/api.php", api)
