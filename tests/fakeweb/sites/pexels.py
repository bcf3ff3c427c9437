"""Fake Pexels API: ``/v1/search`` in the documented format.

The key must come as a bare ``Authorization: <key>`` header; a wrong or missing one is a 401.
``per_page`` is capped at 80, ``next_page``/``prev_page`` are present only when there is such a
page, and a ``size``, ``orientation`` or ``color`` value Pexels does not know is a 400.
Throttling is Pexels' 429, which (as documented) carries no rate limit headers.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakeweb import sites  # the package: it imports this module before FAKE_API_KEY exists

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

NAME = "pexels"
MAX_PER_PAGE = 80
COLORS = {
    "red", "orange", "yellow", "green", "turquoise", "blue", "violet", "pink", "brown", "black",
    "gray", "white",
}  # fmt: skip
CHOICES = {"size": {"large", "medium", "small"}, "orientation": {"landscape", "portrait", "square"}}
PHOTOGRAPHERS = (("Joey Farina", "joey"), ("Lukas Rodriguez", "lukas-rodriguez-1845331"))
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _photo(r: Result) -> dict[str, Any]:
    ident = int(hashlib.sha256(r.image_url.encode()).hexdigest()[:7], 16)
    name, handle = PHOTOGRAPHERS[r.index % len(PHOTOGRAPHERS)]
    scaled = dict.fromkeys(
        ("large2x", "large", "medium", "small", "portrait", "landscape", "tiny"), r.thumbnail_url
    )
    return {
        "id": ident,
        "width": r.width,
        "height": r.height,
        "url": r.page_url,
        "photographer": name,
        "photographer_url": f"https://www.pexels.com/@{handle}",
        "photographer_id": ident % 1_000_000,
        "avg_color": "#978E82",
        "src": {"original": r.image_url, **scaled},
        "liked": False,
        "alt": r.title,
    }


def _invalid(q: Any) -> str | None:
    for key, allowed in CHOICES.items():
        if key in q and q[key] not in allowed:
            return key
    if "color" in q and q["color"] not in COLORS and not _HEX_COLOR.fullmatch(q["color"]):
        return "color"
    return None


MONTHLY_LIMIT = 20_000
MONTH_ENDS = 1_798_761_600  # 2027-01-01T00:00:00Z, when the fake month rolls over


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def search(request: web.Request) -> web.Response:
        await fake.search_delay()
        if request.headers.get("Authorization") != sites.FAKE_API_KEY:
            return web.json_response({"error": "Unauthorized"}, status=401)
        if NAME in fake.config.blocked:
            return web.Response(status=429, text="Too Many Requests")
        if NAME in fake.config.broken:
            return web.json_response({"media": [], "pagination": {"cursor": None}})
        q = request.query
        wrong = _invalid(q)
        if wrong:
            return web.json_response({"error": f"Invalid {wrong}"}, status=400)
        keyword = q.get("query", "")
        page = max(int(q.get("page", "1")), 1)
        per_page = min(max(int(q.get("per_page", "15")), 1), MAX_PER_PAGE)
        total = fake.total(keyword)
        results = fake.results(keyword, (page - 1) * per_page, per_page)
        answer: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            "photos": [_photo(r) for r in results],
            "total_results": total,
        }

        def page_url(number: int) -> str:
            query = urlencode({"page": number, "per_page": per_page, "query": keyword})
            return f"{fake.base_url}/v1/search/?{query}"

        if page < math.ceil(total / per_page):
            answer["next_page"] = page_url(page + 1)
        if page > 1:
            answer["prev_page"] = page_url(page - 1)
        # The key's monthly budget, as Pexels sends it with every successful answer.
        used = fake.hits("/v1/search")
        headers = {"X-Ratelimit-Limit": str(MONTHLY_LIMIT),
                   "X-Ratelimit-Remaining": str(max(MONTHLY_LIMIT - used, 0)),
                   "X-Ratelimit-Reset": str(MONTH_ENDS)}
        return web.json_response(answer, headers=headers)

    router.add_get("/v1/search", search)
