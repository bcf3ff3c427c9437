"""What every search engine offers the chunk runner: one page of candidates per call.

Engines are thin network wrappers around pure parse functions (kept in each engine's module),
so the parsers can be proved against recorded real pages and the network part stays small.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit

from yarl import URL

from worker.crawl.filters import SearchFilters, describe
from worker.crawl.types import (
    Candidate,
    EngineBlocked,
    EngineError,
    EngineFormatError,
    EngineUnavailable,
    ResultPage,
)
from worker.crawl.usage import Usage
from worker.crawl.usage import record as record_usage

if TYPE_CHECKING:
    import aiohttp

    from worker.crawl.answer_cache import AnswerCache

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
    engine cannot read, a block or a network failure raises ``EngineError`` (the subclass says
    which).

    Class attributes describe the engine to users: ``label`` and ``kind`` for lists,
    ``key_setting`` names the Settings field that holds its API key (None: needs none), and
    ``supports`` maps each filter (see worker.crawl.filters) to the values it can apply.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    kind: ClassVar[str] = "scraped"  # "scraped" (a search site's pages) or "api"
    default_url: ClassVar[str]
    key_setting: ClassVar[str | None] = None
    page_size: ClassVar[int]  # results one query gives: the most its endpoint allows
    supports: ClassVar[Mapping[str, frozenset[object]]] = {}
    # Times a 429 answer is waited out (Retry-After, else backoff) before calling it a block.
    rate_limit_retries: ClassVar[int] = 2

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        filters: SearchFilters | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if self.key_setting and not api_key:
            raise EngineUnavailable(f"{self.name}: {missing_key_reason(self.key_setting)}")
        self.base_url = (base_url or self.default_url).rstrip("/")
        self.api_key = api_key
        self.filters = filters or SearchFilters()
        self.user_agent = user_agent
        self.timeout = timeout
        # Answers kept for the sources whose terms ask for it (see worker.crawl.terms)
        self.answers: AnswerCache | None = None
        # Where to keep what the source says is left of the key's budget (worker.crawl.usage)
        self.usage_file: Path | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    @abstractmethod
    async def search(
        self, session: aiohttp.ClientSession, keyword: str, cursor: Any = None
    ) -> ResultPage:
        """One page of results for ``keyword``; pass back ``next_cursor`` for the next page."""

    async def kept(self, session: aiohttp.ClientSession, candidate: Candidate) -> None:  # noqa: B027
        """The image of ``candidate`` was stored: tell the source if its terms ask for it
        (Unsplash counts downloads). Best effort; most sources want nothing, so it is not
        abstract."""

    def save_cursor(self, cursor: Any) -> Any:
        """The cursor as JSON, kept while a chunk waits for its search quota."""
        return cursor

    def load_cursor(self, saved: Any) -> Any:
        return saved

    @classmethod
    def can_apply(cls, name: str, value: object) -> bool:
        return value in cls.supports.get(name, frozenset())

    def wants(self, name: str) -> object | None:
        """The requested value of filter ``name`` if this engine applies it, else None."""
        value = self.filters.requested().get(name)
        return value if value is not None and self.can_apply(name, value) else None

    def unapplied(self) -> list[str]:
        """One warning per requested filter this engine cannot apply, for the chunk."""
        return [
            f"{self.name}: cannot filter by {describe(name, value)}; results are not filtered by it"
            for name, value in self.filters.requested().items()
            if not self.can_apply(name, value)
        ]

    def error(self, message: str) -> EngineError:
        return EngineError(f"{self.name}: {message}")

    def blocked(self, message: str) -> EngineBlocked:
        return EngineBlocked(f"{self.name}: {message}")

    def format_error(self, message: str = "result page format not recognised") -> EngineFormatError:
        return EngineFormatError(f"{self.name}: {message}")

    async def fetch_text(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[URL, str]:
        """GET ``url``; returns (final URL after redirects, body). HTTP and network failures
        become ``EngineError`` so the chunk's error names the engine and the cause; 429 is
        waited out ``rate_limit_retries`` times before it counts as a block."""
        import aiohttp  # here, not at the top: the API lists engines without the HTTP client

        sent = {"User-Agent": self.user_agent, "Accept-Language": "en-US,en;q=0.9"}
        sent.update(headers or {})
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        for attempt in range(self.rate_limit_retries + 1):
            try:
                async with session.get(url, params=params, headers=sent, timeout=timeout) as resp:
                    if resp.status == 429 and attempt < self.rate_limit_retries:
                        wait = parse_retry_after(resp.headers.get("Retry-After"))
                        delay = 2.0 * 2**attempt if wait is None else wait
                        if delay <= MAX_RATE_LIMIT_WAIT:
                            await asyncio.sleep(delay)
                            continue
                    self._raise_for_status(resp.status)
                    self._answered(resp.headers)
                    return resp.url, await resp.text(errors="replace")
            except aiohttp.ClientError as exc:
                raise self.error(f"search request failed ({type(exc).__name__}: {exc})") from exc
            except TimeoutError as exc:
                raise self.error("search request timed out") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def fetch_json(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``url`` and parse JSON; a body that is not JSON is a format error."""
        _, body = await self.fetch_text(
            session, url, params=params, headers={"Accept": "application/json", **(headers or {})}
        )
        try:
            return json.loads(body)
        except ValueError:
            raise self.format_error("answer is not JSON (format not recognised)") from None

    def _answered(self, headers: Mapping[str, str]) -> None:
        """A successful answer's headers: where a source states the key's budget, keep it."""
        if self.usage_file is not None and (used := Usage.from_headers(headers)) is not None:
            record_usage(self.usage_file, used)

    def _raise_for_status(self, status: int) -> None:
        if status in (401, 403) and self.key_setting:
            raise self.blocked(
                f"API key refused (HTTP {status}); check {env_name(self.key_setting)}"
            )
        if status == 403:
            raise self.blocked("blocked (HTTP 403)")
        if status == 429:
            raise self.blocked("rate limited (HTTP 429) and it did not end")
        if status >= 400:
            raise self.error(f"search request failed (HTTP {status})")


MAX_RATE_LIMIT_WAIT = 30.0  # a longer Retry-After on a search is a block, not a pause


def env_name(setting: str) -> str:
    return f"PIXCRAWLER_{setting.upper()}"


def missing_key_reason(setting: str) -> str:
    return f"needs an API key: set {env_name(setting)}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given as a number (dates count as unknown here)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


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
