"""Each source's terms that matter for a dataset, and the crawl's own choices users must know.

GET /engines shows them per engine; a job that uses an engine with a ``warning`` gets it in
its create response, and the export's README and dataset card repeat it. Each engine's
``search_rate`` here is its default search quota (overridable per engine with
PIXCRAWLER_ENGINE_<NAME>_SEARCH_RATE; engines without one share PIXCRAWLER_SEARCH_RATE_LIMIT).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Terms:
    summary: str  # the terms in a sentence or two
    url: str | None = None
    warning: str | None = None  # what a job using it must be told (create response, card)
    search_rate: str | None = None  # default search quota; None: the common one
    keep_answers_hours: float = 0  # how long search answers must be kept and reused
    states_budget: bool = False  # its answers say what is left of the key's budget
    notes: tuple[str, ...] = field(default_factory=tuple)  # how we follow them


SCRAPED = ("A web search: each image belongs to its site and keeps its owner's licence, which "
           "the engine does not give; check the source page before use.")

TERMS: dict[str, Terms] = {
    "bing": Terms(SCRAPED),
    "duckduckgo": Terms(SCRAPED),
    "google": Terms(SCRAPED),
    "baidu": Terms(SCRAPED),
    "unsplash": Terms(
        "Photos under the Unsplash License, which does not allow using them to train "
        "machine-learning or AI models, nor compiling them into a similar service; its API "
        "asks that each downloaded photo's download endpoint be called.",
        url="https://unsplash.com/license",
        warning="Unsplash: its licence does not allow using the photos to train machine-"
                "learning models (https://unsplash.com/license); do not use the Unsplash "
                "images of this dataset for ML without Unsplash's permission.",
        search_rate="50/hour",
        notes=("Each stored photo's download_location is called, per the API guidelines.",),
    ),
    "pixabay": Terms(
        "Images under the Pixabay Content License; API answers must be cached for 24 hours "
        "and the key allows 100 requests per minute.",
        url="https://pixabay.com/api/docs/",
        search_rate="100/minute",
        keep_answers_hours=24,
        notes=("Search answers are kept for 24 hours and reused, as the terms ask.",),
    ),
    "openverse": Terms(
        "Openly licensed images (each keeps its licence); anonymous API clients may make 20 "
        "requests per minute and 200 per day.",
        url="https://docs.openverse.org/api/reference/authentication_and_throttling.html",
        search_rate="20/minute;200/day",
    ),
    "pexels": Terms(
        "Photos under the Pexels License; the API allows 200 requests per hour and 20,000 per "
        "month.",
        url="https://www.pexels.com/api/documentation/",
        search_rate="200/hour",
        states_budget=True,
        notes=("What is left of the key's monthly 20,000 requests is shown with the engine.",),
    ),
    "wikimedia": Terms(
        "Freely licensed media (each keeps its licence and needs its attribution); clients "
        "must send a User-Agent with a way to contact them (PIXCRAWLER_CONTACT).",
        url="https://meta.wikimedia.org/wiki/User-Agent_policy",
    ),
    "flickr": Terms(
        "Each photo keeps its owner's licence (many are all rights reserved: use the licence "
        "filter); the API is for non-commercial use without a commercial key.",
        url="https://www.flickr.com/services/api/tos/",
    ),
}


def terms_of(engine: str) -> Terms:
    return TERMS.get(engine) or Terms(SCRAPED)


def engine_warnings(engines: Iterable[str]) -> list[str]:
    """The warnings a job using these engines must carry."""
    return [w for e in dict.fromkeys(engines) if (w := terms_of(e).warning)]


def crawl_notices(options: Mapping[str, Any], engines: Iterable[str]) -> tuple[str, ...]:
    """What an export of a job says of how it was crawled: its sources' warnings, and the
    politeness it turned off."""
    notices = engine_warnings(engines)
    if not options.get("respect_optout", True):
        notices.append(
            "Owners' opt-outs were not respected (respect_optout=false): the dataset may hold "
            "images whose owners asked, with X-Robots-Tag noai, noimageai, noindex or "
            "noimageindex, that they not be used or indexed.")
    if not options.get("respect_robots", True):
        notices.append("robots.txt was not respected (respect_robots=false).")
    return tuple(notices)
