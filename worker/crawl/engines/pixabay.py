"""Pixabay image search through the official API.

GET ``/api/?key=<API key>&q=..&page=N&per_page=200`` (``q`` at most 100 characters). The answer
is ``{"total", "totalHits", "hits": [...]}``; only ``totalHits`` (500 at most) can be paged
through, and asking past them is an error. Each hit has ``largeImageURL`` (the image scaled to
fit 1280 px), ``imageWidth``/``imageHeight`` (of the original), ``pageURL``, ``tags``,
``previewURL`` and ``user``. Errors are plain text with a fitting status: a wrong key gets HTTP
400 ``[ERROR 400] "key" is ...``, past the budget (100 requests a minute) HTTP 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import Engine, absolute_http_url, env_name, positive_int
from worker.crawl.filters import FREE_TO_USE_AND_CHANGE, SearchFilters, describe
from worker.crawl.types import Candidate, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

KEY_SETTING = "pixabay_api_key"
PAGE_SIZE = 200  # the most Pixabay gives per page
MAX_QUERY = 100  # characters Pixabay accepts in ``q``
LARGE_SIDE = 1280  # largeImageURL fits the image in this square
LICENSE = "Pixabay Content License"
LICENSE_URL = "https://pixabay.com/service/license-summary/"
# Our image types -> Pixabay's ``image_type`` (its "vector" graphics are clip art; "illustration"
# is digital painting, which none of ours means). Transparency is a ``colors`` value there.
IMAGE_TYPES = {"photo": "photo", "clipart": "vector"}
# Our colour names -> Pixabay's ``colors`` values.
COLORS = {
    "grayscale": "grayscale",
    "red": "red",
    "orange": "orange",
    "yellow": "yellow",
    "green": "green",
    "teal": "turquoise",
    "blue": "blue",
    "purple": "lilac",
    "pink": "pink",
    "white": "white",
    "gray": "gray",
    "black": "black",
    "brown": "brown",
}
_NOT_RECOGNISED = "pixabay: result page format not recognised"


def search_params(keyword: str, page: int, filters: SearchFilters) -> dict[str, str]:
    """Query parameters of one search page (without the API key), filters mapped on.

    ``colors`` gets one value: Pixabay does not say whether a list means all or any of them, so
    transparency and a colour are not sent together; transparency wins (``unapplied`` says so).
    """
    params = {"q": keyword, "page": str(page), "per_page": str(PAGE_SIZE)}
    if filters.safe_search:
        params["safesearch"] = "true"
    if filters.image_type in IMAGE_TYPES:
        params["image_type"] = IMAGE_TYPES[filters.image_type]
    if filters.image_type == "transparent":
        params["colors"] = "transparent"
    elif filters.color in COLORS:
        params["colors"] = COLORS[filters.color]
    # Minimums apply to the original, so they only narrow: the scaled large image can still fall
    # short, which the chunk runner checks.
    if filters.min_width:
        params["min_width"] = str(filters.min_width)
    if filters.min_height:
        params["min_height"] = str(filters.min_height)
    return params


def large_size(width: int | None, height: int | None) -> tuple[int | None, int | None]:
    """Size of ``largeImageURL`` from the original's: scaled down to fit ``LARGE_SIDE`` (the API
    does not give it, so this is an estimate that may be a pixel off)."""
    if width is None or height is None:
        return None, None
    scale = min(1.0, LARGE_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _candidate(item: object) -> Candidate | None:
    if not isinstance(item, Mapping):
        return None
    url = absolute_http_url(item.get("largeImageURL"), None)
    if url is None:
        return None
    width, height = large_size(
        positive_int(item.get("imageWidth")), positive_int(item.get("imageHeight"))
    )
    creator = _text(item.get("user"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(item.get("pageURL"), None),
        title=_text(item.get("tags")),
        width=width,
        height=height,
        thumbnail_url=absolute_http_url(item.get("previewURL"), None),
        license=LICENSE,
        license_url=LICENSE_URL,
        creator=creator,
        attribution=f"Image by {creator} from Pixabay" if creator else None,
    )


def parse_search(
    data: object, page: int = 1, per_page: int = PAGE_SIZE
) -> tuple[list[Candidate], int | None]:
    """Candidates of the ``/api/`` answer for ``page`` and the next page (None: last)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("hits"), list):
        raise EngineFormatError(_NOT_RECOGNISED)
    items = data["hits"]
    candidates = [c for c in map(_candidate, items) if c is not None]
    if items and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    total_hits = positive_int(data.get("totalHits")) or 0
    return candidates, page + 1 if items and page * per_page < total_hits else None


class PixabayEngine(Engine):
    name = "pixabay"
    label = "Pixabay"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://pixabay.com"
    key_setting = KEY_SETTING
    # All of it is under the Pixabay Content License: commercial use and changes allowed.
    supports = {
        "safe_search": frozenset({True}),
        "license": FREE_TO_USE_AND_CHANGE,
        "image_type": frozenset({*IMAGE_TYPES, "transparent"}),
        "color": frozenset(COLORS),
    }
    rate_limit_retries = 0  # a 429 lasts the rest of the minute, longer than the backoff

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 1-based number of the next page."""
        if len(keyword) > MAX_QUERY:
            raise self.error(f"keyword longer than {MAX_QUERY} characters, which Pixabay refuses")
        page = int(cursor) if cursor else 1
        url, params = self.base_url + "/api/", search_params(keyword, page, self.filters)
        data = self.answers.get(url, params) if self.answers else None
        if data is None:  # the terms: answers are kept for 24 hours, not asked again
            data = await self.fetch_json(session, url, params={**params,
                                                                "key": self.api_key or ""})
            if self.answers:
                self.answers.put(url, params, data)
        candidates, next_page = parse_search(data, page)
        return ResultPage(candidates=candidates, next_cursor=next_page)

    def unapplied(self) -> list[str]:
        warnings = super().unapplied()
        if self.filters.image_type == "transparent" and self.filters.color in COLORS:
            warnings.append(
                f"{self.name}: cannot filter by {describe('color', self.filters.color)} together "
                "with transparency; results are not filtered by colour"
            )
        return warnings

    def _raise_for_status(self, status: int) -> None:
        # Pixabay refuses a wrong key with 400; the other 400s (page past totalHits, q too long,
        # per_page out of range) are ones this engine never sends.
        if status == 400:
            raise self.blocked(f"API key refused (HTTP 400); check {env_name(KEY_SETTING)}")
        super()._raise_for_status(status)
