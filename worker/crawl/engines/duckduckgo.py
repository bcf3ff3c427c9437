"""DuckDuckGo image search, through the JSON endpoint its own page calls.

The search page ``/?q=..&iax=images&ia=images`` carries a per-query ``vqd`` token (in a script as
``vqd="4-..."`` / ``vqd='3-...'``, in URLs as ``&vqd=...&``, or in a hidden input). Results
come from ``/i.js?l=us-en&o=json&q=..&vqd=..&f=,,,,,&p=1`` with a Referer from the site; each
answer has ``results[]`` and, unless it is the last, a relative ``next`` URL to follow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.types import Candidate, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

_TOKEN = r"(\d+-[\d-]+)"
_VQD_PATTERNS = (
    re.compile(r"""\bvqd["']?\s*[=:]\s*["']""" + _TOKEN + r"""["']"""),  # script / JSON
    re.compile(r"[?&;]vqd=" + _TOKEN),  # inside a preloaded URL
    re.compile(r"""<input[^>]*\bname=["']vqd["'][^>]*\bvalue=["']""" + _TOKEN, re.IGNORECASE),
    re.compile(
        r"""<input[^>]*\bvalue=["']""" + _TOKEN + r"""["'][^>]*\bname=["']vqd["']""", re.IGNORECASE
    ),
)
_NOT_RECOGNISED = "duckduckgo: result page format not recognised"


def extract_vqd(html: str) -> str:
    """The ``vqd`` token DuckDuckGo demands back on ``i.js``."""
    for pattern in _VQD_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1)
    raise EngineFormatError("duckduckgo: no vqd token in the search page")


def parse_ijs(
    data: str | bytes | Mapping[str, Any], base_url: str | None = None
) -> tuple[list[Candidate], str | None]:
    """Candidates of one ``i.js`` answer and its ``next`` (None on the last page)."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise EngineFormatError(_NOT_RECOGNISED) from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise EngineFormatError(_NOT_RECOGNISED)
    candidates: list[Candidate] = []
    for item in data["results"]:
        if not isinstance(item, Mapping):
            continue
        url = absolute_http_url(item.get("image"), base_url)
        if url is None:
            continue
        title = item.get("title")
        title = title.strip() if isinstance(title, str) else None
        candidates.append(
            Candidate(
                url=url,
                page_url=absolute_http_url(item.get("url"), base_url),
                title=title or None,
                width=positive_int(item.get("width")),
                height=positive_int(item.get("height")),
                thumbnail_url=absolute_http_url(item.get("thumbnail"), base_url),
            )
        )
    if data["results"] and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    following = data.get("next")
    return candidates, following if isinstance(following, str) and following else None


@dataclass(frozen=True, slots=True)
class DuckDuckGoCursor:
    """Where the next page is: the query's token and the ``next`` URL the last answer gave."""

    vqd: str
    next_url: str


def _with_vqd(url: str, vqd: str) -> str:
    """``next`` URLs do not always carry the token; the site's own script adds it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "vqd" for key, _ in query):
        return url
    query.append(("vqd", vqd))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


_LICENSES = {  # the image search's "license" menu
    "public_domain": "Public",
    "commercial": "ShareCommercially",
    "modify": "Modify",
    "commercial_modify": "ModifyCommercially",
}
_TYPES = {"photo": "photo", "clipart": "clipart", "lineart": "line", "animated": "gif",
          "transparent": "transparent"}
_COLORS = {"color": "color", "grayscale": "Monochrome"} | {
    name: name.capitalize()
    for name in ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown",
                 "black", "gray", "white")
}


class DuckDuckGoEngine(Engine):
    name = "duckduckgo"
    label = "DuckDuckGo Images"
    page_size = 100  # results in one i.js answer
    default_url = "https://duckduckgo.com"
    supports = {
        "safe_search": frozenset({True}),
        "license": frozenset(_LICENSES),
        "image_type": frozenset(_TYPES),
        "color": frozenset(_COLORS),
    }

    def filter_params(self) -> dict[str, str]:
        """``f`` (time,size,color,type,layout,license) and ``p`` (safe search: 1 on, -1 off)."""
        color, kind, license_ = (self.wants(n) for n in ("color", "image_type", "license"))
        fields = [
            "",
            "",
            f"color:{_COLORS[str(color)]}" if color is not None else "",
            f"type:{_TYPES[str(kind)]}" if kind is not None else "",
            "",
            f"license:{_LICENSES[str(license_)]}" if license_ is not None else "",
        ]
        return {"f": ",".join(fields), "p": "1" if self.filters.safe_search else "-1"}

    def save_cursor(self, cursor: Any) -> Any:
        if isinstance(cursor, DuckDuckGoCursor):
            return {"vqd": cursor.vqd, "next_url": cursor.next_url}
        return cursor

    def load_cursor(self, saved: Any) -> Any:
        if isinstance(saved, dict):
            return DuckDuckGoCursor(str(saved["vqd"]), str(saved["next_url"]))
        return saved

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is a ``DuckDuckGoCursor`` from the previous page."""
        referer = {"Referer": self.base_url + "/"}
        json_headers = {**referer, "Accept": "application/json, text/javascript, */*; q=0.01"}
        if isinstance(cursor, DuckDuckGoCursor):
            vqd = cursor.vqd
            url = _with_vqd(urljoin(self.base_url + "/", cursor.next_url), vqd)
            _, body = await self.fetch_text(session, url, headers=json_headers)
        else:
            _, page = await self.fetch_text(
                session,
                self.base_url + "/",
                params={"q": keyword, "iax": "images", "ia": "images"},
                headers=referer,
            )
            vqd = extract_vqd(page)
            params = {"l": "us-en", "o": "json", "q": keyword, "vqd": vqd, **self.filter_params()}
            _, body = await self.fetch_text(
                session, self.base_url + "/i.js", params=params, headers=json_headers
            )
        candidates, following = parse_ijs(body, self.base_url)
        if not candidates or following is None:
            return ResultPage(candidates=candidates, next_cursor=None)
        return ResultPage(candidates=candidates, next_cursor=DuckDuckGoCursor(vqd, following))
