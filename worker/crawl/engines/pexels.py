"""Pexels photo search through the official API.

GET ``/v1/search?query=..&page=N&per_page=80`` with ``Authorization: <API key>``. The answer is
``{"page", "per_page", "total_results", "photos": [...], "next_page"}``, ``next_page`` (a URL)
present only when there is one. Each photo has ``width``/``height`` (the real size), ``url`` (its
page), ``alt``, ``photographer`` and ``src`` with ``original`` and scaled variants. A wrong key gets
HTTP 401; past the budget (200 requests an hour, 20,000 a month by default) HTTP 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.filters import FREE_TO_USE_AND_CHANGE, SearchFilters
from worker.crawl.types import Candidate, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

PAGE_SIZE = 80  # the most Pexels gives per page
LICENSE = "Pexels License"
LICENSE_URL = "https://www.pexels.com/license/"
# Our colour names -> Pexels' ``color`` values.
COLORS = {
    "red": "red",
    "orange": "orange",
    "yellow": "yellow",
    "green": "green",
    "teal": "turquoise",
    "blue": "blue",
    "purple": "violet",
    "pink": "pink",
    "brown": "brown",
    "black": "black",
    "gray": "gray",
    "white": "white",
}
# Pexels' ``size`` values, each a minimum pixel count, largest first.
SIZES = (("large", 24_000_000), ("medium", 12_000_000), ("small", 4_000_000))
_NOT_RECOGNISED = "pexels: result page format not recognised"


def size_param(min_width: int, min_height: int) -> str | None:
    """The largest ``size`` that every image meeting both minimums also meets, so narrowing by
    it never drops an image the job would keep (None: even "small" could)."""
    pixels = min_width * min_height
    return next((name for name, floor in SIZES if pixels >= floor), None)


def search_params(keyword: str, page: int, filters: SearchFilters) -> dict[str, str]:
    """Query parameters of one search page, filters mapped on."""
    params = {"query": keyword, "page": str(page), "per_page": str(PAGE_SIZE)}
    if filters.color in COLORS:
        params["color"] = COLORS[filters.color]
    size = size_param(filters.min_width, filters.min_height)
    if size:
        params["size"] = size
    return params


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _candidate(item: object) -> Candidate | None:
    if not isinstance(item, Mapping):
        return None
    src = item.get("src")
    src = src if isinstance(src, Mapping) else {}
    url = absolute_http_url(src.get("original"), None)
    if url is None:
        return None
    creator = _text(item.get("photographer"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(item.get("url"), None),
        title=_text(item.get("alt")),
        width=positive_int(item.get("width")),
        height=positive_int(item.get("height")),
        thumbnail_url=absolute_http_url(src.get("medium"), None),
        license=LICENSE,
        license_url=LICENSE_URL,
        creator=creator,
        attribution=f"Photo by {creator} on Pexels" if creator else None,
    )


def parse_search(data: object) -> tuple[list[Candidate], int | None]:
    """Candidates of one ``/v1/search`` answer and the next page number (None: last)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("photos"), list):
        raise EngineFormatError(_NOT_RECOGNISED)
    items = data["photos"]
    candidates = [c for c in map(_candidate, items) if c is not None]
    if items and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    page = positive_int(data.get("page")) or 1
    return candidates, page + 1 if items and data.get("next_page") else None


class PexelsEngine(Engine):
    name = "pexels"
    label = "Pexels"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://api.pexels.com"
    key_setting = "pexels_api_key"
    # A curated library of photos, all under the Pexels License (commercial use and changes).
    supports = {
        "safe_search": frozenset({True}),
        "license": FREE_TO_USE_AND_CHANGE,
        "image_type": frozenset({"photo"}),
        "color": frozenset(COLORS),
    }
    rate_limit_retries = 0  # the budget is per hour and month: waiting seconds never ends it

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 1-based number of the next page."""
        page = int(cursor) if cursor else 1
        data = await self.fetch_json(
            session,
            self.base_url + "/v1/search",
            params=search_params(keyword, page, self.filters),
            headers={"Authorization": self.api_key or ""},
        )
        candidates, next_page = parse_search(data)
        return ResultPage(candidates=candidates, next_cursor=next_page)
