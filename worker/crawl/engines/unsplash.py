"""Unsplash photo search through the official API.

GET ``/search/photos?query=..&page=N&per_page=30`` with ``Authorization: Client-ID <access key>``
and ``Accept-Version: v1``. The answer is ``{"total", "total_pages", "results": [...]}``; each
photo has ``width``/``height`` (of the full image), ``urls.full``/``urls.thumb``, ``links.html``,
``description`` or ``alt_description`` and ``user.name``. A wrong key gets HTTP 401 with
``{"errors": ["OAuth error: The access token is invalid"]}``; a key past its hourly budget (50
requests for demo apps, 5,000 in production) gets HTTP 403 "Rate Limit Exceeded".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.filters import FREE_TO_USE_AND_CHANGE, SearchFilters
from worker.crawl.types import Candidate, EngineError, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)
PAGE_SIZE = 30  # the most Unsplash gives per page
LICENSE = "Unsplash License"
LICENSE_URL = "https://unsplash.com/license"
# Our colour names -> Unsplash's ``color`` values (its "magenta" is not our "pink").
COLORS = {
    "grayscale": "black_and_white",
    "black": "black",
    "white": "white",
    "yellow": "yellow",
    "orange": "orange",
    "red": "red",
    "purple": "purple",
    "green": "green",
    "teal": "teal",
    "blue": "blue",
}
_NOT_RECOGNISED = "unsplash: result page format not recognised"


def search_params(keyword: str, page: int, filters: SearchFilters) -> dict[str, str]:
    """Query parameters of one search page, filters mapped on."""
    params = {"query": keyword, "page": str(page), "per_page": str(PAGE_SIZE)}
    if filters.safe_search:
        params["content_filter"] = "high"  # the default "low" only keeps out explicit content
    if filters.color in COLORS:
        params["color"] = COLORS[filters.color]
    return params


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _candidate(item: object) -> Candidate | None:
    if not isinstance(item, Mapping):
        return None
    urls = _mapping(item.get("urls"))
    url = absolute_http_url(urls.get("full"), None)
    if url is None:
        return None
    creator = _text(_mapping(item.get("user")).get("name"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(_mapping(item.get("links")).get("html"), None),
        title=_text(item.get("description")) or _text(item.get("alt_description")),
        width=positive_int(item.get("width")),
        height=positive_int(item.get("height")),
        thumbnail_url=absolute_http_url(urls.get("thumb"), None),
        license=LICENSE,
        license_url=LICENSE_URL,
        creator=creator,
        attribution=f"Photo by {creator} on Unsplash" if creator else None,
        ping_url=absolute_http_url(_mapping(item.get("links")).get("download_location"), None),
    )


def parse_search(data: object, page: int = 1) -> tuple[list[Candidate], int | None]:
    """Candidates of the ``/search/photos`` answer for ``page`` and the next page (None: last)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise EngineFormatError(_NOT_RECOGNISED)
    items = data["results"]
    candidates = [c for c in map(_candidate, items) if c is not None]
    if items and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    total_pages = positive_int(data.get("total_pages")) or 0
    return candidates, page + 1 if items and page < total_pages else None


class UnsplashEngine(Engine):
    name = "unsplash"
    label = "Unsplash"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://api.unsplash.com"
    key_setting = "unsplash_access_key"
    # All of it is photography under the Unsplash License: commercial use and changes allowed.
    supports = {
        "safe_search": frozenset({True}),
        "license": FREE_TO_USE_AND_CHANGE,
        "image_type": frozenset({"photo"}),
        "color": frozenset(COLORS),
    }
    rate_limit_retries = 0  # the budget is per hour: waiting seconds never ends it

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Client-ID {self.api_key}", "Accept-Version": "v1"}

    async def kept(self, session: aiohttp.ClientSession, candidate: Candidate) -> None:
        """Unsplash's API guidelines: call a photo's download_location when it is downloaded
        (it counts the download for the photographer; it does not count against the search
        budget)."""
        import aiohttp  # at run time only: the API process imports engines without it

        if candidate.ping_url is None:
            return
        try:
            await self.fetch_json(session, candidate.ping_url, headers=self._headers())
        except (EngineError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.info("unsplash: could not report a download (%s)", exc)

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 1-based number of the next page."""
        page = int(cursor) if cursor else 1
        headers = self._headers()
        data = await self.fetch_json(
            session,
            self.base_url + "/search/photos",
            params=search_params(keyword, page, self.filters),
            headers=headers,
        )
        candidates, next_page = parse_search(data, page)
        return ResultPage(candidates=candidates, next_cursor=next_page)

    def _raise_for_status(self, status: int) -> None:
        # Unsplash refuses a wrong key with 401 but an exhausted budget with 403.
        if status == 403:
            raise self.blocked("rate limit exceeded (HTTP 403): the key's hourly budget is used up")
        super()._raise_for_status(status)
