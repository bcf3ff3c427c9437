"""Wikimedia Commons, through the MediaWiki Action API (no key).

``/w/api.php?action=query&generator=search&gsrsearch=..&gsrnamespace=6`` finds files; the same
request asks ``prop=imageinfo`` with ``iiprop=url|size|mime|extmetadata`` for the original, its
size and type, a thumbnail (``iiurlwidth``) and the licence and author (``extmetadata``). In the
default JSON format ``query.pages`` is keyed by page id in no useful order; ``index`` is the
search rank. A ``continue`` object (``gsroffset``, sometimes ``iicontinue``) is sent back as is
for the next page. API errors come as HTTP 200 with an ``error`` object.

Commons hosts only freely licensed files: commercial use and modification are always allowed
(attribution or share-alike may be required), so those licence filters hold without a parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from worker.crawl.engines.base import (
    DEFAULT_USER_AGENT,
    Engine,
    absolute_http_url,
    positive_int,
)
from worker.crawl.filters import FREE_TO_USE_AND_CHANGE
from worker.crawl.types import Candidate, EngineBlocked, EngineError, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

API_PATH = "/w/api.php"
PAGE_SIZE = 50  # gsrlimit; extmetadata for 50 files stays well inside one answer
THUMB_WIDTH = 320
# Wikimedia's User-Agent policy asks scripts to name themselves with a way to reach them.
CLIENT_USER_AGENT = "PixCrawler/0.1 (+https://github.com/alaamer12/pixcrawler) aiohttp"
# Raster formats the downloader can verify; SVG, DjVu, PDF and media files are skipped.
RASTER_MIMES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/tiff",
        "image/bmp",
        "image/avif",
        "image/heic",
    }
)
_NOT_RECOGNISED = "wikimedia: result page format not recognised"
_SPACES = re.compile(r"\s+")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(value: object) -> str | None:
    """Text of an extmetadata value, which is HTML (``Artist`` is usually a link)."""
    if not isinstance(value, str):
        return None
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    return _SPACES.sub(" ", "".join(parser.parts)).strip() or None


def credit_line(title: str | None, creator: str | None, license: str | None) -> str | None:
    """``“Title” by Creator, licensed under X``; None without a licence to credit."""
    if not license:
        return None
    subject = f"“{title}”" if title else "This work"
    by = f" by {creator}" if creator else ""
    public = license.lower().startswith(("cc0", "public domain", "pdm"))
    return f"{subject}{by}, {'marked with' if public else 'licensed under'} {license}"


def commons_params(keyword: str, cursor: Mapping[str, str] | None = None) -> dict[str, str]:
    """Query parameters of one search page; ``cursor`` is the last answer's ``continue``."""
    params = {
        "action": "query",
        "format": "json",
        "generator": "search",
        "gsrsearch": f"{keyword} filetype:bitmap",  # CirrusSearch: raster files only
        "gsrnamespace": "6",  # File:
        "gsrlimit": str(PAGE_SIZE),
        "prop": "imageinfo",
        "iiprop": "url|size|mime|extmetadata",
        "iiurlwidth": str(THUMB_WIDTH),
        "iiextmetadatafilter": "ObjectName|LicenseShortName|LicenseUrl|Artist",
    }
    params.update(cursor or {})
    return params


def _meta(extmetadata: object, key: str) -> object:
    entry = extmetadata.get(key) if isinstance(extmetadata, Mapping) else None
    return entry.get("value") if isinstance(entry, Mapping) else None


def _file_title(page_title: object) -> str | None:
    """``File:Cat 1.jpg`` -> ``Cat 1``, the name Commons shows when nothing better is known."""
    if not isinstance(page_title, str):
        return None
    name = page_title.partition(":")[2] or page_title
    return (name.rpartition(".")[0] or name).strip() or None


def _candidate(page: Mapping[str, Any], base_url: str | None) -> Candidate | None:
    infos = page.get("imageinfo")
    info = infos[0] if isinstance(infos, list) and infos else None
    if not isinstance(info, Mapping):
        return None
    mime = info.get("mime")
    if isinstance(mime, str) and mime.lower() not in RASTER_MIMES:
        return None
    url = absolute_http_url(info.get("url"), base_url)
    if url is None:
        return None
    extmetadata = info.get("extmetadata")
    title = plain_text(_meta(extmetadata, "ObjectName")) or _file_title(page.get("title"))
    creator = plain_text(_meta(extmetadata, "Artist"))
    license = plain_text(_meta(extmetadata, "LicenseShortName"))
    return Candidate(
        url=url,
        page_url=absolute_http_url(info.get("descriptionurl"), base_url),
        title=title,
        width=positive_int(info.get("width")),
        height=positive_int(info.get("height")),
        thumbnail_url=absolute_http_url(info.get("thumburl"), base_url),
        license=license,
        license_url=absolute_http_url(_meta(extmetadata, "LicenseUrl"), None),
        creator=creator,
        attribution=credit_line(title, creator, license),
    )


def _rank(page: Mapping[str, Any]) -> float:
    index = page.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else math.inf


def _api_error(error: object) -> EngineError:
    code = error.get("code") if isinstance(error, Mapping) else None
    info = error.get("info") if isinstance(error, Mapping) else None
    detail = f"{code}: {info}" if info else str(code)
    if code == "ratelimited":
        return EngineBlocked(f"wikimedia: rate limited by the API ({detail})")
    return EngineError(f"wikimedia: API error ({detail})")


def parse_commons(
    data: str | bytes | Mapping[str, Any], base_url: str | None = None
) -> tuple[list[Candidate], dict[str, str] | None]:
    """Candidates of one answer in search rank order, and its ``continue`` (None at the end).

    Files that are not raster images are left out, so a page can be short or even empty while
    more follow.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise EngineFormatError(_NOT_RECOGNISED) from exc
    if not isinstance(data, Mapping):
        raise EngineFormatError(_NOT_RECOGNISED)
    if "error" in data:
        raise _api_error(data["error"])
    following = data.get("continue")
    cursor = {k: str(v) for k, v in following.items()} if isinstance(following, Mapping) else None
    query = data.get("query")
    if query is None:  # a search without matches has no "query" at all
        if "batchcomplete" in data or cursor:
            return [], cursor or None
        raise EngineFormatError(_NOT_RECOGNISED)
    pages = query.get("pages", {}) if isinstance(query, Mapping) else None
    if isinstance(pages, Mapping):
        pages = list(pages.values())  # formatversion=1: keyed by page id
    if not isinstance(pages, list):
        raise EngineFormatError(_NOT_RECOGNISED)
    found = sorted((p for p in pages if isinstance(p, Mapping)), key=_rank)
    if found and not any(isinstance(p.get("imageinfo"), list) for p in found):
        raise EngineFormatError(_NOT_RECOGNISED)
    candidates = [c for c in (_candidate(p, base_url) for p in found) if c is not None]
    return candidates, cursor or None


class WikimediaEngine(Engine):
    name = "wikimedia"
    label = "Wikimedia Commons"
    page_size = PAGE_SIZE
    kind = "api"
    default_url = "https://commons.wikimedia.org"
    supports = {"license": FREE_TO_USE_AND_CHANGE}

    def request_agent(self) -> str:
        """The browser default would break Wikimedia's User-Agent policy; a chosen one stays."""
        return CLIENT_USER_AGENT if self.user_agent == DEFAULT_USER_AGENT else self.user_agent

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the previous answer's ``continue`` object."""
        data = await self.fetch_json(
            session,
            self.base_url + API_PATH,
            params=commons_params(keyword, cursor if isinstance(cursor, Mapping) else None),
            headers={"User-Agent": self.request_agent()},
        )
        candidates, following = parse_commons(data, self.base_url)
        return ResultPage(candidates=candidates, next_cursor=following)
