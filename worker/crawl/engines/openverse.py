"""Openverse (openly licensed media index), through its public API without a key.

``/v1/images/?q=..&page=N&page_size=20`` answers ``result_count``, ``page_count`` and
``results[]`` with ``url``, ``foreign_landing_url``, ``title``, ``creator``, ``license`` (a code
such as ``by-sa`` or ``cc0``), ``license_version``, ``license_url`` and ``thumbnail``; newer
answers add ``width``, ``height`` and a ready ``attribution``. Anonymous clients get at most 20
per page and 20 pages (``page_count`` is capped to match); throttling is HTTP 429 with a
Retry-After. Sensitive results are left out unless ``mature=true`` is asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.engines.wikimedia import credit_line
from worker.crawl.types import Candidate, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

SEARCH_PATH = "/v1/images/"
PAGE_SIZE = 20  # the anonymous maximum; more is refused with 401
_NOT_RECOGNISED = "openverse: result page format not recognised"

LICENSE_PARAMS = {
    "commercial": ("license_type", "commercial"),
    "modify": ("license_type", "modification"),
    "commercial_modify": ("license_type", "commercial,modification"),
    "public_domain": ("license", "cc0,pdm"),
}
CATEGORIES = {"photo": "photograph", "clipart": "illustration"}
# Openverse's size bands by pixel count: small below 640x480, large from 1600x900.
SIZE_BANDS = ((1600 * 900, "large"), (640 * 480, "medium,large"))


def license_name(code: object, version: object) -> str | None:
    """``by-nc-nd`` + ``2.0`` -> ``CC BY-NC-ND 2.0``; ``pdm`` -> ``Public Domain Mark``."""
    if not isinstance(code, str) or not code.strip():
        return None
    code = code.strip().lower()
    named = {"cc0": "CC0", "pdm": "Public Domain Mark"}.get(code)
    name = named or "CC " + code.upper().replace("SAMPLING", "Sampling")
    return f"{name} {version}" if isinstance(version, str) and version else name


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _candidate(item: Mapping[str, Any], base_url: str | None) -> Candidate | None:
    url = absolute_http_url(item.get("url"), base_url)
    if url is None:
        return None
    title = _text(item.get("title"))
    creator = _text(item.get("creator"))
    license = license_name(item.get("license"), item.get("license_version"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(item.get("foreign_landing_url"), base_url),
        title=title,
        width=positive_int(item.get("width")),
        height=positive_int(item.get("height")),
        thumbnail_url=absolute_http_url(item.get("thumbnail"), base_url),
        license=license,
        license_url=absolute_http_url(item.get("license_url"), None),
        creator=creator,
        attribution=_text(item.get("attribution")) or credit_line(title, creator, license),
    )


def parse_openverse(
    data: str | bytes | Mapping[str, Any], page: int = 1, base_url: str | None = None
) -> tuple[list[Candidate], int | None]:
    """Candidates of the answer for ``page`` and the next page number (None on the last)."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise EngineFormatError(_NOT_RECOGNISED) from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise EngineFormatError(_NOT_RECOGNISED)
    items = [item for item in data["results"] if isinstance(item, Mapping)]
    candidates = [c for c in (_candidate(item, base_url) for item in items) if c is not None]
    if data["results"] and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    page_count = positive_int(data.get("page_count")) or 0
    return candidates, page + 1 if candidates and page < page_count else None


class OpenverseEngine(Engine):
    name = "openverse"
    label = "Openverse"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://api.openverse.org"
    supports = {
        "safe_search": frozenset({True}),  # the API leaves sensitive results out by default
        "license": frozenset(LICENSE_PARAMS),
        "image_type": frozenset(CATEGORIES),
    }

    def search_params(self, keyword: str, page: int) -> dict[str, str]:
        """The API's parameters for ``keyword``, ``page`` and this engine's filters."""
        params = {"q": keyword, "page": str(page), "page_size": str(PAGE_SIZE)}
        if not self.filters.safe_search:
            params["mature"] = "true"
        license = self.wants("license")
        if license is not None:
            key, value = LICENSE_PARAMS[str(license)]
            params[key] = value
        image_type = self.wants("image_type")
        if image_type is not None:
            params["category"] = CATEGORIES[str(image_type)]
        pixels = self.filters.min_width * self.filters.min_height
        size = next((band for floor, band in SIZE_BANDS if pixels >= floor), None)
        if size is not None:  # narrows only: the chunk runner still checks each image
            params["size"] = size
        return params

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 1-based page number to fetch."""
        page = int(cursor) if cursor else 1
        data = await self.fetch_json(
            session, self.base_url + SEARCH_PATH, params=self.search_params(keyword, page)
        )
        candidates, following = parse_openverse(data, page, self.base_url)
        return ResultPage(candidates=candidates, next_cursor=following)
