"""Search engines by name, so jobs and settings can refer to them as plain strings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worker.crawl.engines.baidu import BaiduEngine
from worker.crawl.engines.base import Engine, env_name, missing_key_reason
from worker.crawl.engines.bing import BingEngine
from worker.crawl.engines.duckduckgo import DuckDuckGoEngine
from worker.crawl.engines.flickr import FlickrEngine
from worker.crawl.engines.google import GoogleEngine
from worker.crawl.engines.openverse import OpenverseEngine
from worker.crawl.engines.pexels import PexelsEngine
from worker.crawl.engines.pixabay import PixabayEngine
from worker.crawl.engines.unsplash import UnsplashEngine
from worker.crawl.engines.wikimedia import WikimediaEngine
from worker.crawl.filters import SearchFilters

ENGINES: dict[str, type[Engine]] = {
    BingEngine.name: BingEngine,
    DuckDuckGoEngine.name: DuckDuckGoEngine,
    GoogleEngine.name: GoogleEngine,
    BaiduEngine.name: BaiduEngine,
    OpenverseEngine.name: OpenverseEngine,
    WikimediaEngine.name: WikimediaEngine,
    FlickrEngine.name: FlickrEngine,
    UnsplashEngine.name: UnsplashEngine,
    PexelsEngine.name: PexelsEngine,
    PixabayEngine.name: PixabayEngine,
}


class UnknownEngineError(ValueError, KeyError):
    """An engine name nobody registered; a ValueError for validation, a KeyError for lookups."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Whether an engine can be used with the current settings, and if not, why."""

    name: str
    available: bool
    reason: str | None = None


def engine_class(name: str) -> type[Engine]:
    try:
        return ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise UnknownEngineError(f"unknown engine {name!r} (known: {known})") from None


def engine_status(name: str, api_key: Callable[[str], str | None]) -> EngineStatus:
    """``api_key(setting)`` returns the configured key for a Settings field name, or None."""
    cls = engine_class(name)
    if cls.key_setting and not api_key(cls.key_setting):
        return EngineStatus(name, False, missing_key_reason(cls.key_setting))
    return EngineStatus(name, True)


def make_engine(
    name: str,
    base_url: str | None = None,
    *,
    api_key: str | None = None,
    filters: SearchFilters | None = None,
    **options: object,
) -> Engine:
    """The engine called ``name``, talking to ``base_url`` (None: the real site).

    Raises ``EngineUnavailable`` when the engine needs an API key and none is given.
    """
    cls = engine_class(name)
    return cls(base_url, api_key=api_key, filters=filters, **options)  # type: ignore[arg-type]


__all__ = [
    "ENGINES",
    "BaiduEngine",
    "BingEngine",
    "DuckDuckGoEngine",
    "Engine",
    "EngineStatus",
    "FlickrEngine",
    "GoogleEngine",
    "OpenverseEngine",
    "PexelsEngine",
    "PixabayEngine",
    "UnknownEngineError",
    "UnsplashEngine",
    "WikimediaEngine",
    "engine_class",
    "engine_status",
    "env_name",
    "make_engine",
]
