"""Fake versions of the search sites and APIs beyond Bing and DuckDuckGo, one module each.

Every module exposes ``register(router, web)``: it adds its routes to the aiohttp router and
reads results and knobs from ``web`` (a ``FakeWeb``): ``web.results(keyword, start, count)``,
``web.total(keyword)``, ``await web.search_delay()``, ``web.config.blocked`` / ``.broken``
(engine names), and ``FAKE_API_KEY`` for the engines that need a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakeweb.sites import (
    baidu,
    flickr,
    google,
    openverse,
    pexels,
    pixabay,
    unsplash,
    wikimedia,
)

if TYPE_CHECKING:
    from aiohttp import web

FAKE_API_KEY = "fake-api-key"

Register = Callable[["web.UrlDispatcher", Any], None]

SITES: list[Register] = [
    google.register,
    baidu.register,
    openverse.register,
    wikimedia.register,
    flickr.register,
    unsplash.register,
    pexels.register,
    pixabay.register,
]


def fake_key_env() -> dict[str, str]:
    """PIXCRAWLER_* variables giving every keyed engine the key the fake web accepts."""
    from worker.crawl.engines import ENGINES, env_name

    return {env_name(cls.key_setting): FAKE_API_KEY for cls in ENGINES.values() if cls.key_setting}
