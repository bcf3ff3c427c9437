"""Google Images, through the JSON answer Google's own app asks for.

``/search?q=..&tbm=isch&asearch=isch&async=_fmt:json,p:1,ijn:N`` answers ``)]}'`` (Google's
anti-hijacking prefix) followed by one object ``{"ischj": {"metadata": [...]}}``. Each item has the
full-size image in ``original_image`` (url, width, height), the page in ``result``
(``referrer_url``, ``page_title``) and Google's thumbnail in ``thumbnail.url``. ``ijn`` is the
0-based page; a page without ``metadata`` is the end. The HTML result page needs JavaScript since
2025, this answer does not, and the app's user agent gets about 50 results a page instead of 10.

Filters go in ``safe=active`` and ``tbs`` (``itp:`` type, ``ic:``/``isc:`` colour, ``isz:lt,islt:``
"larger than"). A client Google takes for a bot is redirected to ``/sorry/index`` ("unusual
traffic", HTTP 429); one without a consent cookie may land on ``consent.google.com``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yarl import URL

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.filters import describe
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

# The Google Go app's user agent: Google answers it with about 50 results a page.
APP_USER_AGENT = "NSTN/3.60.474802233.release Dalvik/2.1.0 (Linux; U; Android 12; US) gzip"

_NOT_RECOGNISED = "google: result page format not recognised"
_SORRY = 'blocked by the "unusual traffic" captcha page'
_CONSENT = "stopped at the cookie consent page"
_ANSWER = re.compile(r'\{\s*"ischj"\s*:')
_SORRY_MARKERS = re.compile(r'unusual traffic|id="captcha-form"|/sorry/index', re.IGNORECASE)

IMAGE_TYPES = {
    "photo": "itp:photo",
    "clipart": "itp:clipart",
    "lineart": "itp:lineart",
    "animated": "itp:animated",
    "transparent": "ic:trans",  # a colour option in Google's tools, so it excludes a colour
}
_NAMED_COLORS = (
    "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "white", "gray",
    "black", "brown",
)  # fmt: skip
COLORS = {
    "color": "ic:color",
    "grayscale": "ic:gray",
    **{name: f"ic:specific,isc:{name}" for name in _NAMED_COLORS},
}

_MP = 1 << 20  # counted generously, so a tier never asks for more than the minimum
# Google's "larger than" steps, strictest first: (islt value, min width, min height, min pixels).
_LARGER_THAN = (
    *((f"{n}mp", 0, 0, n * _MP) for n in (70, 40, 20, 15, 12, 10, 8, 6, 4, 2)),
    ("xga", 1024, 768, 0),
    ("svga", 800, 600, 0),
    ("vga", 640, 480, 0),
    ("qsvga", 400, 300, 0),
)


def size_token(min_width: int, min_height: int) -> str | None:
    """The strictest "larger than" step every image of the minimum size passes, if any."""
    for value, width, height, pixels in _LARGER_THAN:
        if width <= min_width and height <= min_height and pixels <= min_width * min_height:
            return f"isz:lt,islt:{value}"
    return None


def search_params(
    keyword: str,
    page: int,
    wanted: Mapping[str, object],
    min_width: int = 0,
    min_height: int = 0,
) -> dict[str, str]:
    """Query of one ``/search`` request; ``wanted`` holds the filter values to apply."""
    params = {
        "q": keyword,
        "tbm": "isch",
        "asearch": "isch",
        "async": f"_fmt:json,p:1,ijn:{page}",
        "hl": "en",
    }
    if wanted.get("safe_search"):
        params["safe"] = "active"
    image_type = IMAGE_TYPES.get(str(wanted.get("image_type")))
    color = None if image_type == "ic:trans" else COLORS.get(str(wanted.get("color")))
    tbs = [t for t in (size_token(min_width, min_height), image_type, color) if t]
    if tbs:
        params["tbs"] = ",".join(tbs)
    return params


def redirect_block(url: URL) -> str | None:
    """Why a final URL means Google refused the search, or None if it did not."""
    host = url.host or ""
    if host.startswith("sorry.") or url.path.startswith("/sorry"):
        return _SORRY
    if host.startswith("consent."):
        return _CONSENT
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _candidate(item: Mapping[str, Any], base_url: str | None) -> Candidate | None:
    original = _mapping(item.get("original_image"))
    url = absolute_http_url(original.get("url"), base_url)
    if url is None:
        return None
    result = _mapping(item.get("result"))
    grid = _mapping(item.get("text_in_grid"))
    title = _text(result.get("page_title")) or _text(grid.get("snippet"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(result.get("referrer_url"), base_url),
        title=title,
        width=positive_int(original.get("width")),
        height=positive_int(original.get("height")),
        thumbnail_url=absolute_http_url(_mapping(item.get("thumbnail")).get("url"), base_url),
    )


def parse_results(body: str, base_url: str | None = None) -> list[Candidate]:
    """Candidates of one async answer, in result order; ``[]`` once Google has no more.

    A captcha or consent page raises ``EngineBlocked``; anything else without the ``ischj``
    object (the JavaScript-only HTML page, a changed format) raises ``EngineFormatError``.
    """
    start = _ANSWER.search(body)
    if start is None:
        if _SORRY_MARKERS.search(body):
            raise EngineBlocked(f"google: {_SORRY}")
        if "consent.google." in body:
            raise EngineBlocked(f"google: {_CONSENT}")
        raise EngineFormatError(_NOT_RECOGNISED)
    try:
        data, _ = json.JSONDecoder().raw_decode(body, start.start())
    except ValueError:
        raise EngineFormatError(_NOT_RECOGNISED) from None
    answer = data.get("ischj")
    metadata = answer.get("metadata", []) if isinstance(answer, Mapping) else None
    if not isinstance(metadata, list):
        raise EngineFormatError(_NOT_RECOGNISED)
    found = [_candidate(item, base_url) for item in metadata if isinstance(item, Mapping)]
    candidates = [c for c in found if c is not None]
    if metadata and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    return candidates


class GoogleEngine(Engine):
    name = "google"
    label = "Google Images"
    page_size = 50  # results in one answer to the app's user agent
    default_url = "https://www.google.com"
    supports = {
        "safe_search": frozenset({True}),
        "image_type": frozenset(IMAGE_TYPES),
        "color": frozenset(COLORS),
    }
    # Google's 429 is its captcha page; waiting a few seconds does not lift it.
    rate_limit_retries = 0

    def __init__(
        self, base_url: str | None = None, *, user_agent: str = APP_USER_AGENT, **options: Any
    ) -> None:
        super().__init__(base_url, user_agent=user_agent, **options)

    def unapplied(self) -> list[str]:
        """Also warns that a colour is dropped when transparent images are asked for."""
        warnings = super().unapplied()
        color = self.wants("color")
        if color is not None and self.wants("image_type") == "transparent":
            warnings.append(
                f"{self.name}: cannot filter by {describe('color', color)} together with "
                "transparent images; results are not filtered by it"
            )
        return warnings

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 0-based ``ijn`` page number of the next page."""
        page = int(cursor) if cursor else 0
        wanted = {n: self.wants(n) for n in ("safe_search", "image_type", "color")}
        params = search_params(
            keyword, page, wanted, self.filters.min_width, self.filters.min_height
        )
        final_url, body = await self.fetch_text(
            session,
            self.base_url + "/search",
            params=params,
            headers={"Accept": "*/*", "Cookie": "CONSENT=YES+"},
        )
        reason = redirect_block(final_url)
        if reason:
            raise self.blocked(reason)
        candidates = parse_results(body, self.base_url)
        return ResultPage(candidates=candidates, next_cursor=page + 1 if candidates else None)

    def _raise_for_status(self, status: int) -> None:
        if status == 429:
            raise self.blocked(f"{_SORRY} (HTTP 429)")
        super()._raise_for_status(status)
