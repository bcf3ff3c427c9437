"""Fake Google Images: the app's async JSON answer on ``/search`` and the ``/sorry/index`` block.

Only requests shaped like the app's (``tbm=isch`` and ``async=_fmt:json,p:1,ijn:N``) get results;
anything else gets the JavaScript-only page a plain client sees, which no parser reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

if TYPE_CHECKING:  # importing tests.fakeweb here would be circular: it loads SITES
    from tests.fakeweb.pages import Result

PAGE_SIZE = 100  # images per ijn page of Google's async answer
_ASYNC = re.compile(r"_fmt:json,p:1,ijn:(\d+)")


def _item(r: Result) -> dict[str, Any]:
    docid = hashlib.sha256(r.image_url.encode()).hexdigest()[:14]
    return {
        "image_docid": docid,
        "original_image": {"url": r.image_url, "width": r.width, "height": r.height},
        "thumbnail": {"url": r.thumbnail_url, "width": 80, "height": 60},
        "result": {
            "referrer_url": r.page_url,
            "page_title": r.title,
            "site_title": urlsplit(r.page_url).netloc,
        },
        "text_in_grid": {"snippet": r.title},
    }


def async_answer(results: list[Result]) -> str:
    """``)]}'`` and the ``ischj`` object; past the last result it has no ``metadata``."""
    answer: dict[str, Any] = {"metadata": [_item(r) for r in results]} if results else {}
    return ")]}'\n" + json.dumps({"ischj": answer})


def script_only_page() -> str:
    """What a plain client gets from ``/search`` since Google requires JavaScript: no results."""
    return (
        "<!DOCTYPE html><html><head><title>Google Search</title></head><body>"
        '<noscript><div>Please click <a href="/search?emsg=SG_REL">here</a> if you are not '
        'redirected within a few seconds.</div></noscript><div id="yDmH0d"></div></body></html>'
    )


def sorry_page(continue_url: str) -> str:
    """What Google shows a client it takes for a bot (served with HTTP 429)."""
    return (
        "<html><head><title>https://www.google.com/search</title></head><body>"
        '<div style="max-width:400px;"><form id="captcha-form" action="index" method="post">'
        '<div class="g-recaptcha" data-sitekey="fake"></div>'
        f'<input type="hidden" name="continue" value="{continue_url}"></form>'
        '<div id="infoDiv">Our systems have detected unusual traffic from your computer network. '
        "This page checks to see if it's really you sending the requests, and not a robot."
        "</div></div></body></html>"
    )


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def search(request: web.Request) -> web.Response:
        await fake.search_delay()
        q = request.query
        if "google" in fake.config.blocked:
            raise web.HTTPFound("/sorry/index?" + urlencode({"continue": str(request.url)}))
        shape = _ASYNC.fullmatch(q.get("async", ""))
        if "google" in fake.config.broken or q.get("tbm") != "isch" or shape is None:
            return web.Response(text=script_only_page(), content_type="text/html")
        start = int(shape.group(1)) * PAGE_SIZE
        text = async_answer(fake.results(q.get("q", ""), start, PAGE_SIZE))
        return web.Response(text=text, content_type="application/json")

    async def sorry(request: web.Request) -> web.Response:
        text = sorry_page(request.query.get("continue", ""))
        return web.Response(status=429, text=text, content_type="text/html")

    router.add_get("/search", search)
    router.add_get("/sorry/index", sorry)
