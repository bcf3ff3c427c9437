"""Search engines by name, so jobs and settings can refer to them as plain strings."""

from __future__ import annotations

from worker.crawl.engines.base import Engine
from worker.crawl.engines.bing import BingEngine
from worker.crawl.engines.duckduckgo import DuckDuckGoEngine

ENGINES: dict[str, type[Engine]] = {
    BingEngine.name: BingEngine,
    DuckDuckGoEngine.name: DuckDuckGoEngine,
}


class UnknownEngineError(ValueError, KeyError):
    """An engine name nobody registered; a ValueError for validation, a KeyError for lookups."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def make_engine(name: str, base_url: str | None = None, **options: object) -> Engine:
    """The engine called ``name``, talking to ``base_url`` (None: the real site)."""
    try:
        engine_class = ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise UnknownEngineError(f"unknown engine {name!r} (known: {known})") from None
    return engine_class(base_url, **options)  # type: ignore[arg-type]


__all__ = [
    "ENGINES",
    "BingEngine",
    "DuckDuckGoEngine",
    "Engine",
    "UnknownEngineError",
    "make_engine",
]
