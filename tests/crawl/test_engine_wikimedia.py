"""Wikimedia Commons: the parser on a recorded real answer and odd ones, then the engine end to
end against the fake ``/w/api.php``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.crawl.test_engines import run
from tests.fakeweb import FakeWeb
from tests.fakeweb.pages import result_title
from worker.crawl.engines import WikimediaEngine, make_engine
from worker.crawl.engines.base import DEFAULT_USER_AGENT
from worker.crawl.engines.wikimedia import (
    CLIENT_USER_AGENT,
    commons_params,
    credit_line,
    parse_commons,
    plain_text,
)
from worker.crawl.filters import SearchFilters
from worker.crawl.types import (
    Candidate,
    EngineBlocked,
    EngineError,
    EngineFormatError,
    ResultPage,
)

RECORDED = "wikimedia_commons_gsrsearch_mediasearch_mockImageSearchApiResponse.json"


async def _pages(engine: WikimediaEngine, keyword: str) -> list[ResultPage]:
    pages: list[ResultPage] = []
    cursor: Any = None
    async with aiohttp.ClientSession() as session:
        while len(pages) < 20:
            pages.append(await engine.search(session, keyword, cursor))
            cursor = pages[-1].next_cursor
            if cursor is None:
                return pages
    raise AssertionError("wikimedia never reached a last page")


def _page(index: int, **info: Any) -> dict[str, Any]:
    """One entry of ``query.pages`` as the API writes it."""
    title = f"File:F{index}.jpg"
    return {"pageid": 100 + index, "ns": 6, "title": title, "index": index, "imageinfo": [info]}


def _ext(**values: str) -> dict[str, dict[str, str]]:
    return {k: {"value": v, "source": "commons-desc-page", "hidden": ""} for k, v in values.items()}


# ------------------------------------------------------------------ parser, recorded real answer


def test_parser_reads_the_real_recorded_answer_in_rank_order(search_pages: Path) -> None:
    raw = (search_pages / RECORDED).read_bytes()
    candidates, following = parse_commons(raw, "https://commons.wikimedia.org")

    assert len(candidates) == 40
    assert following == {"gsroffset": "40", "continue": "gsroffset||"}
    upload = "https://upload.wikimedia.org/wikipedia/commons"
    assert candidates[0] == Candidate(
        url=f"{upload}/4/4d/Cat_November_2010-1a.jpg",
        page_url="https://commons.wikimedia.org/wiki/File:Cat_November_2010-1a.jpg",
        title="Cat November 2010-1a",
        width=1795,
        height=2397,
        thumbnail_url=f"{upload}/thumb/4/4d/Cat_November_2010-1a.jpg/135px-Cat_November_2010-1a.jpg",
    )  # the recording asked no extmetadata, so licence and creator are unknown
    # The file keys pages by id in another order (the 3rd rank comes first); rank order wins.
    assert [c.title for c in candidates[:3]] == [
        "Cat November 2010-1a",
        "June odd-eyed-cat cropped",
        "Tired 20-year-old cat",
    ]
    assert candidates[-1].url == f"{upload}/4/43/Siberian_black_tabby_blotched_cat_03.jpg"
    assert (candidates[-1].width, candidates[-1].height) == (5616, 3744)
    assert len({c.url for c in candidates}) == 40
    assert all(c.page_url and c.thumbnail_url and c.width and c.height for c in candidates)


def test_parser_reads_licence_and_author_from_extmetadata() -> None:
    artist = (
        '<a href="//commons.wikimedia.org/wiki/User:Alvesgaspar" title="User:Alvesgaspar">'
        "Joaquim Alves Gaspar</a>"
    )
    page = _page(
        1,
        url="https://upload.wikimedia.org/wikipedia/commons/4/4d/Cat.jpg",
        descriptionurl="https://commons.wikimedia.org/wiki/File:Cat.jpg",
        width=1795,
        height=2397,
        mime="image/jpeg",
        extmetadata=_ext(
            ObjectName="Young male tabby cat",
            LicenseShortName="CC BY-SA 3.0",
            LicenseUrl="https://creativecommons.org/licenses/by-sa/3.0",
            Artist=artist,
        ),
    )
    [c] = parse_commons({"batchcomplete": "", "query": {"pages": {"101": page}}})[0]
    assert c.title == "Young male tabby cat"
    assert c.license == "CC BY-SA 3.0"
    assert c.license_url == "https://creativecommons.org/licenses/by-sa/3.0"
    assert c.creator == "Joaquim Alves Gaspar"
    assert (
        c.attribution
        == "“Young male tabby cat” by Joaquim Alves Gaspar, licensed under CC BY-SA 3.0"
    )


# ------------------------------------------------------------------ parser, odd answers


def test_parser_skips_files_that_are_not_raster_images_or_have_no_url() -> None:
    url = "https://upload.example/x"
    pages = [
        _page(1, url=f"{url}/a.svg", mime="image/svg+xml"),
        _page(2, url=f"{url}/b.webm", mime="video/webm"),
        _page(3, url=f"{url}/c.pdf", mime="application/pdf"),
        _page(4, mime="image/png"),
        _page(5, url=f"{url}/e.png", mime="image/png"),
        _page(6, url=f"{url}/f.tif"),  # no mime given: left to the downloader
        {"pageid": 7, "ns": 6, "title": "File:G.jpg", "index": 7},  # imageinfo still to come
    ]
    candidates, following = parse_commons({"query": {"pages": pages}})  # formatversion=2 list
    assert [c.url for c in candidates] == [f"{url}/e.png", f"{url}/f.tif"]
    assert candidates[0] == Candidate(url=f"{url}/e.png", title="F5")
    assert following is None


def test_parser_zero_results_and_prop_continuation() -> None:
    assert parse_commons('{"batchcomplete": ""}') == ([], None)
    assert parse_commons({"batchcomplete": "", "query": {"searchinfo": {"totalhits": 0}}}) == (
        [],
        None,
    )
    cont = {"iicontinue": "F1.jpg|20240101", "gsroffset": 50, "continue": "gsroffset||"}
    data = {"continue": cont, "query": {"pages": {"101": _page(1, url="https://u.example/1.jpg")}}}
    _, following = parse_commons(data)
    assert following == {k: str(v) for k, v in cont.items()}


@pytest.mark.parametrize(
    "data",
    [
        "<!DOCTYPE html><html><body>Wikimedia Error</body></html>",
        {"batch": {"complete": True}, "files": {"items": []}},
        {"query": {"pages": "nope"}},
        {"query": {"pages": {"1": {"pageid": 1, "title": "File:A.jpg", "media": {}}}}},
        [1, 2],
    ],
    ids=["html", "other-json", "pages-not-a-collection", "pages-without-imageinfo", "list"],
)
def test_parser_unknown_answers_are_format_errors(data: Any) -> None:
    with pytest.raises(EngineFormatError, match=r"^wikimedia: result page format not recognised$"):
        parse_commons(data if isinstance(data, str) else json.dumps(data))


def test_parser_reports_api_errors_and_rate_limits() -> None:
    with pytest.raises(EngineBlocked, match=r"^wikimedia: rate limited by the API \(ratelimited:"):
        parse_commons(
            {"error": {"code": "ratelimited", "info": "You've exceeded your rate limit."}}
        )
    with pytest.raises(EngineError, match=r"^wikimedia: API error \(maxlag: Waiting for db\)$"):
        parse_commons({"error": {"code": "maxlag", "info": "Waiting for db"}})


def test_plain_text_and_credit_line() -> None:
    assert plain_text("<bdi><a href='x'>Mar&iacute;a</a>\n (<i>Flickr</i>)</bdi>") == (
        "María (Flickr)"
    )
    assert plain_text("") is None
    assert plain_text(None) is None
    assert credit_line("Owl", None, "CC0") == "“Owl”, marked with CC0"
    assert credit_line(None, "Ann", "CC BY 4.0") == "This work by Ann, licensed under CC BY 4.0"
    assert credit_line("Owl", "Ann", None) is None


# ------------------------------------------------------------------ request and filters


def test_params_search_files_and_send_back_the_continuation() -> None:
    params = commons_params("red panda")
    assert params["gsrsearch"] == "red panda filetype:bitmap"
    assert params["gsrnamespace"] == "6"
    assert params["iiprop"] == "url|size|mime|extmetadata"
    assert "gsroffset" not in params
    following = commons_params("red panda", {"gsroffset": "50", "continue": "gsroffset||"})
    assert (following["gsroffset"], following["continue"]) == ("50", "gsroffset||")


def test_licence_filters_hold_for_every_commons_file_and_the_rest_is_reported() -> None:
    engine = WikimediaEngine(filters=SearchFilters(license="commercial_modify"))
    assert engine.wants("license") == "commercial_modify"
    assert engine.unapplied() == [
        "wikimedia: cannot filter by safe search; results are not filtered by it"
    ]
    strict = WikimediaEngine(
        filters=SearchFilters(
            safe_search=False, license="public_domain", image_type="photo", color="red"
        )
    )
    assert strict.wants("license") is None
    assert strict.unapplied() == [
        f"wikimedia: cannot filter by {what}; results are not filtered by it"
        for what in ("licence 'public_domain'", "image type 'photo'", "colour 'red'")
    ]


def test_engine_names_itself_to_wikimedia_unless_given_an_agent() -> None:
    assert WikimediaEngine().request_agent() == CLIENT_USER_AGENT != DEFAULT_USER_AGENT
    assert WikimediaEngine(user_agent="MyBot/1.0 (me@example.org)").request_agent() == (
        "MyBot/1.0 (me@example.org)"
    )


# ------------------------------------------------------------------ end to end against FakeWeb


def test_engine_pages_through_all_results(fakeweb: FakeWeb) -> None:
    fakeweb.config.results_per_keyword = 120
    fakeweb.config.image_size = (200, 150)
    keyword = "red panda & co"
    engine = make_engine("wikimedia", fakeweb.base_url)

    pages = run(_pages(engine, keyword))

    assert [len(p.candidates) for p in pages] == [50, 50, 20]
    assert fakeweb.hits("/w/api.php") == 3
    found = [c for p in pages for c in p.candidates]
    assert [c.url for c in found] == [fakeweb.result_image_url(keyword, i) for i in range(120)]
    assert all((c.width, c.height) == (200, 150) for c in found)
    first = found[0]
    assert first.title == result_title(keyword, 0)
    assert (first.license, first.creator) == ("CC BY-SA 4.0", "Ansel Example")
    assert first.license_url == "https://creativecommons.org/licenses/by-sa/4.0"
    assert first.attribution == (
        f"“{result_title(keyword, 0)}” by Ansel Example, licensed under CC BY-SA 4.0"
    )
    assert found[2].creator == "María López (uploaded by Uploader)"
    assert (found[3].license, found[3].license_url) == ("Public domain", None)


def test_engine_with_a_generic_user_agent_is_refused_like_wikimedia_does(fakeweb: FakeWeb) -> None:
    engine = make_engine("wikimedia", fakeweb.base_url, user_agent="Python/3.11 aiohttp/3.12")
    with pytest.raises(EngineBlocked, match=r"^wikimedia: blocked \(HTTP 403\)$"):
        run(_pages(engine, "cat"))
