"""Fake Flickr REST API: ``flickr.photos.search`` in its JSON format.

Like the real API it answers every failure with HTTP 200 and ``{"stat": "fail", "code", ...}``
(100 for a wrong or missing ``api_key``, 112 for an unknown method), wraps JSON in
``jsonFlickrApi(...)`` unless ``nojsoncallback=1``, and adds to each photo only the ``extras`` it
was asked for. The licence ids handed out come from the ``license`` parameter when given, so a
licence filter can be seen to reach the API. Throttling is the HTML 429 Flickr sends.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakeweb import sites  # the package: it imports this module before FAKE_API_KEY exists

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

NAME = "flickr"
MAX_PER_PAGE = 500
ALL_LICENSES = tuple(str(i) for i in range(11))
OWNERS = (("7478087@N06", "markustrois"), ("129621946@N07", "Claude Lafontaine"))
THUMB_SIZE = (80, 60)  # what the fake web's /th serves
THROTTLED = (
    "<html><body><h1>429 Too Many Requests</h1>\n"
    "You have sent too many requests in a given amount of time.\n</body></html>\n"
)


def _fail(code: int, message: str) -> dict[str, Any]:
    return {"stat": "fail", "code": code, "message": message}


def _photo(r: Result, license_id: str, extras: set[str]) -> dict[str, Any]:
    digest = hashlib.sha256(r.image_url.encode()).hexdigest()
    owner, owner_name = OWNERS[r.index % len(OWNERS)]
    photo: dict[str, Any] = {
        "id": str(int(digest[:10], 16)),
        "owner": owner,
        "secret": digest[10:20],
        "server": "65535",
        "farm": 66,
        "title": r.title,
        "ispublic": 1,
        "isfriend": 0,
        "isfamily": 0,
    }
    if "license" in extras:
        photo["license"] = license_id
    if "owner_name" in extras:
        photo["ownername"] = owner_name
    if "o_dims" in extras:
        photo.update(o_width=str(r.width), o_height=str(r.height))
    if "url_l" in extras:
        photo.update(url_l=r.image_url, width_l=r.width, height_l=r.height)
    if "url_s" in extras:
        photo.update(url_s=r.thumbnail_url, width_s=THUMB_SIZE[0], height_s=THUMB_SIZE[1])
    return photo


def _search(fake: Any, q: Any) -> dict[str, Any]:
    keyword = q.get("text", "")
    per_page = min(max(int(q.get("per_page", "100")), 1), MAX_PER_PAGE)
    page = max(int(q.get("page", "1")), 1)
    licenses = [i for i in q.get("license", "").split(",") if i] or ALL_LICENSES
    extras = set(q.get("extras", "").split(","))
    total = fake.total(keyword)
    results = fake.results(keyword, (page - 1) * per_page, per_page)
    photos = [_photo(r, licenses[r.index % len(licenses)], extras) for r in results]
    return {
        "photos": {
            "page": page,
            "pages": math.ceil(total / per_page),
            "perpage": per_page,
            "total": str(total),
            "photo": photos,
        },
        "stat": "ok",
    }


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def rest(request: web.Request) -> web.Response:
        await fake.search_delay()
        if NAME in fake.config.blocked:
            return web.Response(status=429, text=THROTTLED, content_type="text/html")
        q = request.query
        if q.get("format") != "json":  # Flickr's REST default is XML
            return web.Response(
                text='<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="ok">\n</rsp>\n',
                content_type="text/xml",
            )
        method = q.get("method", "")
        if not q.get("api_key"):
            answer = _fail(100, "Invalid API Key (Key has invalid format)")
        elif q["api_key"] != sites.FAKE_API_KEY:
            answer = _fail(100, "Invalid API Key (Key not found)")
        elif method != "flickr.photos.search":
            answer = _fail(112, f'Method "{method}" not found')
        elif NAME in fake.config.broken:
            answer = {"stat": "ok", "data": {"search": {"edges": []}}}
        else:
            answer = _search(fake, q)
        body = json.dumps(answer)
        if q.get("nojsoncallback") != "1":
            body = f"jsonFlickrApi({body})"
        return web.Response(text=body, content_type="application/json")

    router.add_get("/services/rest/", rest)
