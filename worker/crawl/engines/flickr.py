"""Flickr photo search through the official REST API (``flickr.photos.search``).

GET ``/services/rest/?method=flickr.photos.search&api_key=..&text=..&format=json&nojsoncallback=1``
with ``extras`` naming what each photo should carry: size URLs ``url_t``/``url_s``/``url_m``/
``url_l`` (each with ``width_*``/``height_*``), ``license`` (a numeric id) and ``owner_name``.
The answer is ``{"photos": {"page", "pages", "perpage", "total", "photo": [...]}, "stat": "ok"}``.
Failures also come back as HTTP 200, as ``{"stat": "fail", "code": N, "message": ...}`` (100: the
API key is invalid). Flickr serves at most the first 4,000 results of a query and allows a key
3,600 calls an hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import Engine, absolute_http_url, env_name, positive_int
from worker.crawl.filters import SearchFilters
from worker.crawl.types import Candidate, EngineBlocked, EngineError, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

KEY_SETTING = "flickr_api_key"
PAGE_SIZE = 500  # the most Flickr allows: one query instead of five
MAX_RESULTS = 4000  # past this Flickr repeats earlier results
SIZES = ("l", "m", "s", "t")  # url_l (1024 px) down to url_t (100 px)
EXTRAS = "license,owner_name,o_dims,url_t,url_s,url_m,url_l"
_NOT_RECOGNISED = "flickr: result page format not recognised"

# flickr.photos.licenses.getInfo: id -> (short name, deed URL; none for all rights reserved).
# Ids of the CC 4.0 licences Flickr added in 2025 are not known here: such photos get no licence
# name, and licence filters do not ask for them.
LICENSES: dict[str, tuple[str, str | None]] = {
    "0": ("All Rights Reserved", None),
    "1": ("CC BY-NC-SA 2.0", "https://creativecommons.org/licenses/by-nc-sa/2.0/"),
    "2": ("CC BY-NC 2.0", "https://creativecommons.org/licenses/by-nc/2.0/"),
    "3": ("CC BY-NC-ND 2.0", "https://creativecommons.org/licenses/by-nc-nd/2.0/"),
    "4": ("CC BY 2.0", "https://creativecommons.org/licenses/by/2.0/"),
    "5": ("CC BY-SA 2.0", "https://creativecommons.org/licenses/by-sa/2.0/"),
    "6": ("CC BY-ND 2.0", "https://creativecommons.org/licenses/by-nd/2.0/"),
    "7": ("No known copyright restrictions", "https://www.flickr.com/commons/usage/"),
    "8": ("United States Government Work", "http://www.usa.gov/copyright.shtml"),
    "9": ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "10": ("Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
}

# The licence ids each licence filter allows. "No known copyright restrictions" (7) and
# "United States Government Work" (8) are left out: neither is a grant that holds everywhere.
LICENSE_FILTERS: dict[str, tuple[str, ...]] = {
    "commercial": ("4", "5", "6", "9", "10"),
    "modify": ("1", "2", "4", "5", "9", "10"),
    "commercial_modify": ("4", "5", "9", "10"),
    "public_domain": ("9", "10"),
}


def search_params(keyword: str, page: int, filters: SearchFilters) -> dict[str, str]:
    """Query parameters of one search page (without the API key), filters mapped on."""
    params = {
        "method": "flickr.photos.search",
        "text": keyword,
        "sort": "relevance",  # Flickr's default order is newest first
        "media": "photos",
        "extras": EXTRAS,
        "per_page": str(PAGE_SIZE),
        "page": str(page),
        "format": "json",
        "nojsoncallback": "1",
    }
    if filters.safe_search:
        params["safe_search"] = "1"
    if filters.license in LICENSE_FILTERS:
        params["license"] = ",".join(LICENSE_FILTERS[filters.license])
    if filters.image_type == "photo":
        params["content_types"] = "0"  # photos, not screenshots, "other" or virtual photos
    return params


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def attribution(title: str | None, creator: str | None, license_name: str | None) -> str | None:
    """A credit line in the title-author-source-licence form Creative Commons asks for."""
    if creator is None:
        return None
    line = f'"{title}" by {creator} on Flickr' if title else f"Photo by {creator} on Flickr"
    return f"{line}, {license_name}" if license_name else line


def _page_url(item: Mapping[str, Any]) -> str | None:
    """The photo's page, ``/photos/{owner NSID}/{photo id}`` (the API gives no page URL)."""
    owner, photo_id = _text(item.get("owner")), item.get("id")
    if owner is None or not isinstance(photo_id, (str, int)) or not str(photo_id).strip():
        return None
    return f"https://www.flickr.com/photos/{owner}/{str(photo_id).strip()}"


def _candidate(item: object) -> Candidate | None:
    if not isinstance(item, Mapping):
        return None
    size = next((s for s in SIZES if absolute_http_url(item.get(f"url_{s}"), None)), None)
    if size is None:
        return None
    title = _text(item.get("title"))
    creator = _text(item.get("ownername"))
    license_name, license_url = LICENSES.get(str(item.get("license")), (None, None))
    return Candidate(
        url=str(absolute_http_url(item.get(f"url_{size}"), None)),
        page_url=_page_url(item),
        title=title,
        width=positive_int(item.get(f"width_{size}")),
        height=positive_int(item.get(f"height_{size}")),
        thumbnail_url=absolute_http_url(item.get("url_s") or item.get("url_t"), None),
        license=license_name,
        license_url=license_url,
        creator=creator,
        attribution=attribution(title, creator, license_name),
    )


def _failure(data: Mapping[str, Any]) -> EngineError:
    code, message = data.get("code"), _text(data.get("message")) or "no message"
    if str(code) == "100":
        return EngineBlocked(f"flickr: API key refused ({message}); check {env_name(KEY_SETTING)}")
    return EngineError(f"flickr: API error {code} ({message})")


def _next_page(photos: Mapping[str, Any], count: int) -> int | None:
    page = positive_int(photos.get("page")) or 1
    pages = positive_int(photos.get("pages")) or 0
    per_page = positive_int(photos.get("perpage")) or PAGE_SIZE
    if count == 0 or page >= pages or page * per_page >= MAX_RESULTS:
        return None
    return page + 1


def parse_search(data: object) -> tuple[list[Candidate], int | None]:
    """Candidates of one ``flickr.photos.search`` answer and the next page number (None: last).

    A ``stat: fail`` answer raises the error it reports (code 100, a refused key, as a block).
    """
    if not isinstance(data, Mapping):
        raise EngineFormatError(_NOT_RECOGNISED)
    if data.get("stat") == "fail":
        raise _failure(data)
    photos = data.get("photos")
    if (
        data.get("stat") != "ok"
        or not isinstance(photos, Mapping)
        or not isinstance(photos.get("photo"), list)
    ):
        raise EngineFormatError(_NOT_RECOGNISED)
    items = photos["photo"]
    candidates = [c for c in map(_candidate, items) if c is not None]
    if items and not candidates:  # photos without any size URL: the extras were not applied
        raise EngineFormatError(_NOT_RECOGNISED)
    return candidates, _next_page(photos, len(items))


class FlickrEngine(Engine):
    name = "flickr"
    label = "Flickr"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://api.flickr.com"
    key_setting = KEY_SETTING
    supports = {
        "safe_search": frozenset({True}),
        "license": frozenset(LICENSE_FILTERS),
        "image_type": frozenset({"photo"}),
    }
    rate_limit_retries = 0  # the budget is per hour: waiting seconds never ends a 429

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the 1-based number of the next page."""
        page = int(cursor) if cursor else 1
        params = {**search_params(keyword, page, self.filters), "api_key": self.api_key or ""}
        data = await self.fetch_json(session, self.base_url + "/services/rest/", params=params)
        candidates, next_page = parse_search(data)
        return ResultPage(candidates=candidates, next_cursor=next_page)
