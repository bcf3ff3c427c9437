"""Fake Pixabay API: image search at ``/api/`` in the documented format.

Errors are plain text with the fitting status, as Pixabay sends them: a wrong or missing ``key``,
a ``q`` over 100 characters, a ``per_page`` outside 3-200, a page past ``totalHits`` (at most 500)
or an unknown ``image_type``/``colors``/``safesearch`` value is a 400 ``[ERROR 400] ...``.
Throttling is the documented 429 "API rate limit exceeded" with the X-RateLimit headers. The hit
``type`` follows ``image_type``, so the filter can be seen to reach the API.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakeweb import sites  # the package: it imports this module before FAKE_API_KEY exists

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

NAME = "pixabay"
MAX_HITS = 500
MAX_QUERY = 100
PER_PAGE_RANGE = range(3, 201)
# image_type asked for -> the hit "type" answered
IMAGE_TYPES = {
    "all": "photo",
    "photo": "photo",
    "illustration": "illustration",
    "vector": "vector/svg",
}
COLORS = {
    "grayscale", "transparent", "red", "orange", "yellow", "green", "turquoise", "blue", "lilac",
    "pink", "white", "gray", "black", "brown",
}  # fmt: skip
USERS = ("Josch13", "Couleur")
THUMB_SIZE = (80, 60)  # what the fake web's /th serves


def _error(message: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=f"[ERROR {status}] {message}")


def _hit(r: Result, kind: str) -> dict[str, Any]:
    ident = int(hashlib.sha256(r.image_url.encode()).hexdigest()[:7], 16)
    user = USERS[r.index % len(USERS)]
    return {
        "id": ident,
        "pageURL": r.page_url,
        "type": kind,
        "tags": r.title,
        "previewURL": r.thumbnail_url,
        "previewWidth": THUMB_SIZE[0],
        "previewHeight": THUMB_SIZE[1],
        "webformatURL": r.thumbnail_url,
        "webformatWidth": THUMB_SIZE[0],
        "webformatHeight": THUMB_SIZE[1],
        "largeImageURL": r.image_url,
        "imageWidth": r.width,
        "imageHeight": r.height,
        "imageSize": r.width * r.height // 4,
        "views": 7671,
        "downloads": 6439,
        "likes": 5,
        "comments": 2,
        "user_id": ident % 100_000,
        "user": user,
        "userImageURL": f"https://cdn.pixabay.com/user/2013/11/05/{user}_250x250.jpg",
    }


def _invalid(q: Any) -> str | None:
    """The error Pixabay would report for these parameters, if any."""
    if len(q.get("q", "")) > MAX_QUERY:
        return '"q" is too long.'
    if not q.get("per_page", "20").isdigit() or int(q.get("per_page", "20")) not in PER_PAGE_RANGE:
        return '"per_page" is out of valid range.'
    if q.get("image_type", "all") not in IMAGE_TYPES:
        return '"image_type" is invalid.'
    if any(c not in COLORS for c in q.get("colors", "").split(",") if c):
        return '"colors" is invalid.'
    if q.get("safesearch", "false") not in ("true", "false"):
        return '"safesearch" is invalid.'
    return None


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def images(request: web.Request) -> web.Response:
        await fake.search_delay()
        q = request.query
        if q.get("key") != sites.FAKE_API_KEY:
            return _error('"key" is wrong or missing.')
        if NAME in fake.config.blocked:
            headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
            return web.Response(
                status=429,
                text="API rate limit exceeded",
                headers={**headers, "X-RateLimit-Reset": "60"},
            )
        if NAME in fake.config.broken:
            return web.json_response({"count": 0, "results": []})
        wrong = _invalid(q)
        if wrong:
            return _error(wrong)
        keyword = q.get("q", "")
        page = max(int(q.get("page", "1")), 1)
        per_page = int(q.get("per_page", "20"))
        total = fake.total(keyword)
        total_hits = min(total, MAX_HITS)
        start = (page - 1) * per_page
        if start and start >= total_hits:
            return _error('"page" is out of valid range.')
        results = fake.results(keyword, start, min(per_page, total_hits - start))
        kind = IMAGE_TYPES[q.get("image_type", "all")]
        return web.json_response(
            {"total": total, "totalHits": total_hits, "hits": [_hit(r, kind) for r in results]}
        )

    router.add_get("/api/", images)
