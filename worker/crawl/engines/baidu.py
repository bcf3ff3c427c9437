"""Baidu Images, through the JSON endpoint its own result page calls.

The result page ``/search/index?tn=baiduimage&word=..`` hands out the session cookies Baidu's
anti-spider check looks for; results then come from
``/search/acjson?tn=resultjson_com&ipn=rj&word=..&pn=..&rn=30`` with that page as Referer
(``pn`` is the 0-based offset, ``rn`` the page size, ``listNum`` the total). Each ``data[]`` item
has the full-size image and its page decoded in ``replaceUrl[0]`` (``ObjURL``, ``FromURL``) and
ciphered in ``objURL``/``fromURL``, Baidu-hosted previews (``thumbURL``, ``middleURL``),
``width``/``height`` and the page title (``fromPageTitleEnc``; ``fromPageTitle`` carries
``<strong>`` highlights); the list ends with an empty ``{}``. Baidu's encoder escapes ``'`` as
``\\'``, which JSON does not allow. A refused client gets
``{"antiFlag":1,"message":"Forbid spider access"}`` or a redirect to wappass.baidu.com's captcha.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from yarl import URL

from worker.crawl.engines.base import Engine, absolute_http_url, positive_int
from worker.crawl.types import Candidate, EngineBlocked, EngineFormatError, ResultPage

if TYPE_CHECKING:
    import aiohttp

PAGE_SIZE = 30  # what Baidu's own page asks for per request
_NOT_RECOGNISED = "baidu: result page format not recognised"
_CAPTCHA = "redirected to the wappass captcha page"
_BAD_QUOTE = re.compile(r"(?<!\\)((?:\\\\)*)\\'")  # \' after an even run of backslashes
_TAG = re.compile(r"<[^>]*>")

# Baidu's URL cipher: three tokens, then a character substitution (ciphered "http" is "ippr").
_CIPHER_TOKENS = (("_z2C$q", ":"), ("_z&e3B", "."), ("AzdH3F", "/"))
_CIPHER_CHARS = str.maketrans(
    "wkv1ju2it3hs4g5rq6fp7eo8dn9cm0bla", "abcdefghijklmnopqrstuvw1234567890"
)

IMAGE_TYPES = {"animated": {"lm": "6"}, "clipart": {"st": "1"}, "lineart": {"st": "2"}}
COLORS = {
    "red": 1, "yellow": 2, "green": 4, "teal": 8, "blue": 16, "purple": 32, "pink": 64,
    "orange": 256, "black": 512, "white": 1024, "grayscale": 2048,
}  # fmt: skip


def search_params(keyword: str, offset: int, wanted: Mapping[str, object]) -> dict[str, str]:
    """Query of one ``acjson`` request; ``wanted`` holds the filter values to apply."""
    params = {
        "tn": "resultjson_com",
        "ipn": "rj",
        "ct": "201326592",
        "fp": "result",
        "word": keyword,
        "queryWord": keyword,
        "cl": "2",
        "lm": "-1",
        "st": "-1",
        "ie": "utf-8",
        "oe": "utf-8",
        "nc": "1",
        "pn": str(offset),
        "rn": str(PAGE_SIZE),
    }
    params.update(IMAGE_TYPES.get(str(wanted.get("image_type")), {}))
    color = COLORS.get(str(wanted.get("color")))
    if color is not None:
        params["ic"] = str(color)
    return params


def decode_url(value: object) -> str | None:
    """A ciphered ``objURL``/``fromURL`` in plain text; other strings are returned as they are."""
    if not isinstance(value, str):
        return None
    if not value.startswith("ippr"):
        return value
    for token, plain in _CIPHER_TOKENS:
        value = value.replace(token, plain)
    return value.translate(_CIPHER_CHARS)


def is_captcha_redirect(url: URL) -> bool:
    return (url.host or "").startswith("wappass.") or "/static/captcha" in url.path


def _title(item: Mapping[str, Any]) -> str | None:
    for key in ("fromPageTitleEnc", "fromPageTitle"):
        value = item.get(key)
        if isinstance(value, str):
            text = html.unescape(_TAG.sub("", value)).strip()
            if text:
                return text
    return None


def _candidate(item: Mapping[str, Any], base_url: str | None) -> Candidate | None:
    replaced = item.get("replaceUrl")
    first = replaced[0] if isinstance(replaced, list) and replaced else {}
    first = first if isinstance(first, Mapping) else {}
    url = absolute_http_url(first.get("ObjURL") or decode_url(item.get("objURL")), base_url)
    if url is None:
        return None
    page = first.get("FromURL") or decode_url(item.get("fromURL"))
    thumbnail = item.get("thumbURL") or item.get("middleURL") or item.get("hoverURL")
    return Candidate(
        url=url,
        page_url=absolute_http_url(page, base_url),
        title=_title(item),
        width=positive_int(item.get("width")),
        height=positive_int(item.get("height")),
        thumbnail_url=absolute_http_url(thumbnail, base_url),
    )


def parse_acjson(body: str, base_url: str | None = None) -> tuple[list[Candidate], int | None]:
    """Candidates of one ``acjson`` answer and the total Baidu reports (``listNum``), if any.

    Items without a full-size image URL are skipped (the previews are thumbnails); the
    anti-spider answer raises ``EngineBlocked``, any other unknown shape ``EngineFormatError``.
    """
    try:
        data = json.loads(_BAD_QUOTE.sub(r"\1'", body), strict=False)
    except ValueError:
        raise EngineFormatError(_NOT_RECOGNISED) from None
    if not isinstance(data, Mapping):
        raise EngineFormatError(_NOT_RECOGNISED)
    if data.get("antiFlag"):
        message = data.get("message") or "no reason given"
        raise EngineBlocked(f"baidu: refused by its anti-spider check ({message})")
    items = data.get("data")
    if not isinstance(items, list):
        raise EngineFormatError(_NOT_RECOGNISED)
    entries = [item for item in items if isinstance(item, Mapping) and item]
    found = [_candidate(item, base_url) for item in entries]
    candidates = [c for c in found if c is not None]
    if entries and not candidates:
        raise EngineFormatError(_NOT_RECOGNISED)
    return candidates, positive_int(data.get("listNum"))


class BaiduEngine(Engine):
    name = "baidu"
    label = "Baidu Images"
    page_size = PAGE_SIZE
    default_url = "https://image.baidu.com"
    # Baidu has no safe-search switch and no licence filter; its type and colour filters below.
    supports = {"image_type": frozenset(IMAGE_TYPES), "color": frozenset(COLORS)}

    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """``cursor`` is the ``pn`` offset of the next page; the first call opens the result
        page once for its cookies."""
        offset = int(cursor) if cursor else 0
        page_url = URL(self.base_url + "/search/index").with_query(tn="baiduimage", word=keyword)
        headers = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
        if cursor is None:
            final_url, _ = await self.fetch_text(session, str(page_url), headers=headers)
            self._check_redirect(final_url)
        wanted = {n: self.wants(n) for n in ("image_type", "color")}
        final_url, body = await self.fetch_text(
            session,
            self.base_url + "/search/acjson",
            params=search_params(keyword, offset, wanted),
            headers={**headers, "Referer": str(page_url), "X-Requested-With": "XMLHttpRequest"},
        )
        self._check_redirect(final_url)
        candidates, total = parse_acjson(body, self.base_url)
        following = offset + PAGE_SIZE
        done = not candidates or (total is not None and following >= total)
        return ResultPage(candidates=candidates, next_cursor=None if done else following)

    def _check_redirect(self, url: URL) -> None:
        if is_captcha_redirect(url):
            raise self.blocked(_CAPTCHA)
