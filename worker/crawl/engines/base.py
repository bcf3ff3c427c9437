"""What every search engine offers the chunk runner: one page of candidates per call.

Engines are thin network wrappers around pure parse functions (kept in each engine's module),
so the parsers can be proved against recorded real pages and the network part stays small.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

from worker.crawl.types import EngineError, ResultPage

# Search sites serve their result markup to browsers; other agents get other layouts or a block.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DEFAULT_TIMEOUT = 30.0


class Engine(ABC):
    """Turns (keyword, cursor) into one page of candidate images.

    ``search`` is called first with ``cursor=None`` and then with each returned
    ``next_cursor`` until that is None. Zero results is an empty page, not an error; a page the
    engine cannot read, a block or a network failure raises ``EngineError``.
    """

    name: ClassVar[str]
    default_url: ClassVar[str]

    def __init__(
        self,
        base_url: str | None = None,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = (base_url or self.default_url).rstrip("/")
        self.user_agent = user_agent
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    @abstractmethod
    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """One page of results for ``keyword``; pass back ``next_cursor`` for the next page."""

    def error(self, message: str) -> EngineError:
        return EngineError(f"{self.name}: {message}")

    async def fetch_text(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[URL, str]:
        """GET ``url``; returns (final URL after redirects, body). HTTP and network failures
        become ``EngineError`` so the chunk's error names the engine and the cause."""
        sent = {"User-Agent": self.user_agent, "Accept-Language": "en-US,en;q=0.9"}
        sent.update(headers or {})
        try:
            async with session.get(url, params=params, headers=sent, timeout=self.timeout) as resp:
                if resp.status == 403:
                    raise self.error("blocked (HTTP 403)")
                if resp.status == 429:
                    raise self.error("rate limited (HTTP 429)")
                if resp.status >= 400:
                    raise self.error(f"search request failed (HTTP {resp.status})")
                return resp.url, await resp.text(errors="replace")
        except aiohttp.ClientError as exc:
            raise self.error(f"search request failed ({type(exc).__name__}: {exc})") from exc
        except TimeoutError as exc:
            raise self.error("search request timed out") from exc


def absolute_http_url(value: object, base_url: str | None) -> str | None:
    """``value`` as an absolute http(s) URL (relative ones resolved against ``base_url``),
    or None when it is missing or not a web address (``data:``, ``javascript:``...)."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = value.strip()
    if base_url:
        url = urljoin(base_url.rstrip("/") + "/", url)
    elif url.startswith("//"):
        url = "https:" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url


def positive_int(value: object) -> int | None:
    """Width/height as engines send them (int, float or numeric string); None if unusable."""
    if isinstance(value, bool):
        return None
    try:
        number = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None
