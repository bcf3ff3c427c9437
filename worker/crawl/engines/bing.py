"""Bing image search, scraped the way its own result grid loads.

First page: ``/images/search?q=..&first=1&count=35&form=HDRSC2`` (full HTML page). Further pages:
``/images/async?q=..&first=N&count=35&mmasync=1`` (HTML fragment of the grid). Each result is an
``a.iusc`` anchor whose ``m`` attribute is JSON (image ``murl``, page ``purl``, title ``t``,
thumbnail ``turl``); the image size is only in the anchor's ``href`` (``expw``/``exph``).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

PAGE_SIZE = 35  # what Bing's own grid asks for per request
_HIGHLIGHT = re.compile("[\ue000\ue001]")  # Bing wraps matched words in these in "desc"
_CAPTCHA = re.compile(r"captcha", re.IGNORECASE)


class _GridScanner(HTMLParser):
    """Collects result anchors and the markers that tell an empty grid from an unknown page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []  # (m, href), attribute-unescaped
        self.has_grid = False
        self.says_no_results = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        classes = attributes.get("class", "").split()
        element_id = attributes.get("id", "")
        if tag == "a" and "iusc" in classes:
            self.anchors.append((attributes.get("m", ""), attributes.get("href", "")))
        if "dgControl_list" in classes or element_id.startswith("mmComponent_images"):
            self.has_grid = True
        if element_id == "b_no" or "dg_nores" in classes:
            self.says_no_results = True


def _title(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return _HIGHLIGHT.sub("", value).strip() or None


def _candidate(m: str, href: str, base_url: str | None) -> Candidate | None:
    try:
        meta = json.loads(m)
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    url = absolute_http_url(meta.get("murl"), base_url)
    if url is None:
        return None
    query = parse_qs(urlsplit(href).query)
    return Candidate(
        url=url,
        page_url=absolute_http_url(meta.get("purl"), base_url),
        title=_title(meta.get("t") or meta.get("desc")),
        width=positive_int(query.get("expw", [None])[0]),
        height=positive_int(query.get("exph", [None])[0]),
        thumbnail_url=absolute_http_url(meta.get("turl"), base_url),
    )


# Scripts, styles and comments, whose text is not markup; start tags, with quoted values that
# may hold ">"; and what a start tag must contain to matter to _GridScanner.
_NOT_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_START_TAG = re.compile(r"""<[a-zA-Z][^\s/>]*(?:[^>"']|"[^"]*"|'[^']*')*>""")
_MARKERS = re.compile("iusc|dgControl_list|mmComponent_images|b_no|dg_nores")


def _scan(html: str) -> _GridScanner:
    """Run the scanner over the start tags that can matter, not the whole page: a result
    page is about 430 KB, and HTMLParser took some 55 ms over it, holding the GIL that the
    other chunks' downloads share. Each tag still goes through HTMLParser, so attributes
    are read (and unescaped) exactly as before."""
    scanner = _GridScanner()
    for match in _START_TAG.finditer(_NOT_MARKUP.sub("", html)):
        tag = match.group()
        if _MARKERS.search(tag):
            scanner.feed(tag)
    scanner.close()
    return scanner


def parse_results_page(html: str, base_url: str | None = None) -> list[Candidate]:
    """Candidates from a Bing search page or async grid fragment, in result order.

    An empty grid or Bing's "no results" page gives ``[]``; a captcha page or markup this parser
    does not know raises ``EngineError`` (so a layout change is reported, never a silent 0).
    """
    scanner = _scan(html)
    if not scanner.anchors:
        if _CAPTCHA.search(html):
            raise EngineBlocked("bing: blocked by a captcha page")
        if scanner.has_grid or scanner.says_no_results:
            return []
        raise EngineFormatError("bing: result page format not recognised")
    found = [_candidate(m, href, base_url) for m, href in scanner.anchors]
    candidates = [c for c in found if c is not None]
    if not candidates:
        raise EngineFormatError("bing: result page format not recognised")
    return candidates


_LICENSES = {  # Bing's "usage rights" menu
    "public_domain": "L1",
    "commercial": "L2_L3_L4",
    "modify": "L2_L3_L5_L6",
    "commercial_modify": "L2_L3",
}
_TYPES = {
    "photo": "photo-photo",
    "clipart": "photo-clipart",
    "lineart": "photo-linedrawing",
    "animated": "photo-animatedgif",
    "transparent": "photo-transparent",
}
_COLORS = {"color": "color2-color", "grayscale": "color2-bw"} | {
    name: f"color2-FGcls_{name.upper()}"
    for name in ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown",
                 "black", "gray", "white")
}


class BingEngine(Engine):
    name = "bing"
    label = "Bing Images"
    page_size = PAGE_SIZE
    default_url = "https://www.bing.com"
    supports = {
        "safe_search": frozenset({True}),
        "license": frozenset(_LICENSES),
        "image_type": frozenset(_TYPES),
        "color": frozenset(_COLORS),
    }

    def filter_params(self) -> dict[str, str]:
        """Bing's ``qft`` filter terms and ``adlt`` safe-search level for the job's filters."""
        terms = []
        if (license_ := self.wants("license")) is not None:
            terms.append(f"+filterui:license-{_LICENSES[str(license_)]}")
        if (kind := self.wants("image_type")) is not None:
            terms.append(f"+filterui:{_TYPES[str(kind)]}")
        if (color := self.wants("color")) is not None:
            terms.append(f"+filterui:{_COLORS[str(color)]}")
        f = self.filters
        if f.min_width or f.min_height:
            terms.append(f"+filterui:imagesize-custom_{f.min_width}_{f.min_height}")
        params = {"adlt": "strict" if f.safe_search else "off"}
        if terms:
            params["qft"] = "".join(terms)
        return params

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is Bing's 1-based ``first`` offset of the next page."""
        first = int(cursor) if cursor else 1
        if first <= 1:
            path = "/images/search"
            params = {"q": keyword, "first": "1", "count": str(PAGE_SIZE), "form": "HDRSC2"}
        else:
            path = "/images/async"
            params = {"q": keyword, "first": str(first), "count": str(PAGE_SIZE), "mmasync": "1"}
        params.update(self.filter_params())
        final_url, html = await self.fetch_text(
            session, self.base_url + path, params=params, headers={"Referer": self.base_url + "/"}
        )
        if _CAPTCHA.search(final_url.path):
            raise self.blocked("blocked by a captcha page")
        candidates = parse_results_page(html, self.base_url)
        # Bing signals the end with an empty grid; stop there rather than loop.
        next_first = first + len(candidates) if candidates else None
        return ResultPage(candidates=candidates, next_cursor=next_first)
