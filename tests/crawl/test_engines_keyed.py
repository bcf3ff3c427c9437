"""What the four keyed API engines (Flickr, Unsplash, Pexels, Pixabay) share: the key is required
and checked, a throttled API blocks at once, and each pages through the fake web to the end.
Each engine's parser and parameters are proved in its own test_engine_<name>.py."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import engine_for, run
from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from worker.crawl.engines import Engine, engine_status, make_engine
from worker.crawl.types import EngineBlocked, EngineUnavailable, ResultPage

KEYED = {
    "flickr": ("https://api.flickr.com", "PIXCRAWLER_FLICKR_API_KEY", "/services/rest/"),
    "unsplash": ("https://api.unsplash.com", "PIXCRAWLER_UNSPLASH_ACCESS_KEY", "/search/photos"),
    "pexels": ("https://api.pexels.com", "PIXCRAWLER_PEXELS_API_KEY", "/v1/search"),
    "pixabay": ("https://pixabay.com", "PIXCRAWLER_PIXABAY_API_KEY", "/api/"),
}
# Licence and credit of result 4 as each fake API hands it out (made-up creators).
PROVENANCE = {
    "flickr": ("CC BY 2.0", "markustrois", '"{title}" by markustrois on Flickr, {license}'),
    "unsplash": ("Unsplash License", "Lukasz Szmigiel", "Photo by Lukasz Szmigiel on Unsplash"),
    "pexels": ("Pexels License", "Joey Farina", "Photo by Joey Farina on Pexels"),
    "pixabay": ("Pixabay Content License", "Josch13", "Image by Josch13 from Pixabay"),
}


async def _pages(engine: Engine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while len(pages) < 20:
            pages.append(await engine.search(session, keyword, cursor))
            cursor = pages[-1].next_cursor
            if cursor is None:
                return pages
    raise AssertionError(f"{engine.name} never reached a last page")


async def _search(engine: Engine, keyword: str) -> ResultPage:
    async with aiohttp.ClientSession() as session:
        return await engine.search(session, keyword)


@pytest.mark.parametrize("name", sorted(KEYED))
def test_keyed_engine_describes_its_real_api(name: str) -> None:
    base_url, env, _ = KEYED[name]
    engine = make_engine(name, None, api_key="k")
    assert engine.kind == "api"
    assert engine.base_url == base_url
    assert engine.key_setting and env.endswith(engine.key_setting.upper())


@pytest.mark.parametrize("name", sorted(KEYED))
def test_missing_key_makes_the_engine_unavailable_naming_the_variable(name: str) -> None:
    _, env, _ = KEYED[name]
    with pytest.raises(EngineUnavailable, match=rf"^{name}: needs an API key: set {env}$"):
        make_engine(name, None)
    with pytest.raises(EngineUnavailable, match=env):
        make_engine(name, None, api_key="")
    status = engine_status(name, lambda setting: None)
    assert not status.available and status.reason and env in status.reason
    assert engine_status(name, lambda setting: "configured").available


@pytest.mark.parametrize("name", sorted(KEYED))
def test_wrong_key_is_a_block_naming_the_variable(fakeweb: FakeWeb, name: str) -> None:
    _, env, _ = KEYED[name]
    engine = make_engine(name, fakeweb.base_url, api_key="not-the-key")
    with pytest.raises(EngineBlocked, match=rf"^{name}: API key refused .*check {env}$"):
        run(_search(engine, "cat"))


@pytest.mark.parametrize("name", sorted(KEYED))
def test_throttled_api_blocks_at_once_without_retrying(fakeweb: FakeWeb, name: str) -> None:
    _, _, path = KEYED[name]
    fakeweb.config.blocked = {name}
    with pytest.raises(EngineBlocked, match=rf"^{name}: .*rate limit"):
        run(_search(engine_for(name, fakeweb.base_url), "cat"))
    assert fakeweb.hits(path) == 1  # per-minute to per-month budgets: a short wait cannot help


@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        ("flickr", [230]),  # 500 a page: one query
        ("unsplash", [30] * 7 + [20]),
        ("pexels", [80, 80, 70]),
        ("pixabay", [200, 30]),
    ],
)
def test_keyed_engine_pages_through_all_results(
    fakeweb: FakeWeb, name: str, sizes: list[int]
) -> None:
    fakeweb.config.results_per_keyword = 230
    fakeweb.config.image_size = (200, 150)
    keyword = "red panda & co"

    pages = run(_pages(engine_for(name, fakeweb.base_url), keyword))

    assert [len(p.candidates) for p in pages] == sizes
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [fakeweb.result_image_url(keyword, i) for i in range(230)]
    assert all((c.width, c.height) == (200, 150) for c in found)
    assert all(c.thumbnail_url and c.thumbnail_url.startswith(fakeweb.base_url) for c in found)
    fifth = found[4]
    assert fifth.title == result_title(keyword, 4)
    license_name, creator, credit = PROVENANCE[name]
    assert (fifth.license, fifth.creator) == (license_name, creator)
    assert fifth.attribution == credit.format(title=fifth.title, license=license_name)
    assert fifth.license_url and fifth.license_url.startswith("https://")
    if name != "flickr":  # Flickr's page URL is built on www.flickr.com from owner and id
        assert fifth.page_url == f"{fakeweb.base_url}/page/{fakeweb.result_name(keyword, 4)}.html"
