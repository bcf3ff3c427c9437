"""Fake Unsplash API: ``/search/photos`` in the format of the recorded real answer.

The key must come as ``Authorization: Client-ID <key>``; a wrong or missing one gets the real
401 ``{"errors": [...]}``. ``per_page`` is capped at 30 as Unsplash does, and a ``color``,
``content_filter`` or ``orientation`` value it does not know is a 400. Throttling is Unsplash's
403 "Rate Limit Exceeded".
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakeweb import sites  # the package: it imports this module before FAKE_API_KEY exists

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

NAME = "unsplash"
MAX_PER_PAGE = 30
CHOICES = {
    "color": {
        "black_and_white", "black", "white", "yellow", "orange", "red", "purple", "magenta",
        "green", "teal", "blue",
    },
    "content_filter": {"low", "high"},
    "orientation": {"landscape", "portrait", "squarish"},
}  # fmt: skip
USERS = (("szmigieldesign", "Lukasz Szmigiel"), ("skamenar", "Steven Kamenar"))


def _photo(fake: Any, r: Result) -> dict[str, Any]:
    ident = hashlib.sha256(r.image_url.encode()).hexdigest()[:11]
    username, name = USERS[r.index % len(USERS)]
    return {
        "id": ident,
        "created_at": "2015-09-11T08:25:26-04:00",
        "width": r.width,
        "height": r.height,
        "color": "#464434",
        "description": r.title,
        "alt_description": "a picture",
        "urls": {
            "raw": r.image_url,
            "full": r.image_url,
            "regular": r.thumbnail_url,
            "small": r.thumbnail_url,
            "thumb": r.thumbnail_url,
        },
        "links": {
            "self": f"{fake.base_url}/photos/{ident}",
            "html": r.page_url,
            "download": f"{r.page_url}/download",
            "download_location": f"{fake.base_url}/photos/{ident}/download",
        },
        "likes": 1505,
        "user": {
            "id": hashlib.sha256(username.encode()).hexdigest()[:11],
            "username": username,
            "name": name,
            "links": {"html": f"https://unsplash.com/@{username}"},
        },
    }


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def search(request: web.Request) -> web.Response:
        await fake.search_delay()
        if request.headers.get("Authorization") != f"Client-ID {sites.FAKE_API_KEY}":
            errors = ["OAuth error: The access token is invalid"]
            return web.json_response({"errors": errors}, status=401)
        if NAME in fake.config.blocked:
            return web.Response(status=403, text="Rate Limit Exceeded")
        if NAME in fake.config.broken:
            return web.json_response({"data": {"photos": {"nodes": []}}})
        q = request.query
        wrong = [key for key, allowed in CHOICES.items() if key in q and q[key] not in allowed]
        if wrong:
            return web.json_response({"errors": [f"{wrong[0]} is invalid"]}, status=400)
        keyword = q.get("query", "")
        page = max(int(q.get("page", "1")), 1)
        per_page = min(max(int(q.get("per_page", "10")), 1), MAX_PER_PAGE)
        total = fake.total(keyword)
        results = fake.results(keyword, (page - 1) * per_page, per_page)
        return web.json_response(
            {
                "total": total,
                "total_pages": math.ceil(total / per_page),
                "results": [_photo(fake, r) for r in results],
            }
        )

    async def download(request: web.Request) -> web.Response:
        """A photo's download_location: Unsplash counts the download and answers the file's
        URL. Tests count calls with ``fake.hits("/photos/")``."""
        if request.headers.get("Authorization") != f"Client-ID {sites.FAKE_API_KEY}":
            errors = ["OAuth error: The access token is invalid"]
            return web.json_response({"errors": errors}, status=401)
        return web.json_response({"url": f"{fake.base_url}/photos/{request.match_info['id']}"})

    router.add_get("/search/photos", search)
    router.add_get("/photos/{id}/download", download)
