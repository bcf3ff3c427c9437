"""Fake Openverse API: ``/v1/images/`` in the current response format.

Each result carries ``width``, ``height`` and ``attribution`` as the API does today, and the
page envelope (``result_count``, ``page_count`` capped at 20 pages, ``page_size``, ``page``).
Parameters are validated like the real API: more than 20 per page without a token is 401, a
page past 20 or an unknown licence, licence type, category or size is 400. The licences handed
out honour ``license`` and ``license_type``, and ``category`` is echoed, so filters can be seen
to reach the API. Throttling is the API's 429 with a day-long Retry-After.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from typing import Any

from aiohttp import web

from tests.fakeweb.pages import Result

NAME = "openverse"
MAX_ANONYMOUS_PAGE_SIZE = 20
MAX_PAGINATION_DEPTH = 20
LICENSES = (
    ("by", "4.0"),
    ("by-sa", "4.0"),
    ("by-nc", "2.0"),
    ("by-nd", "3.0"),
    ("by-nc-sa", "2.0"),
    ("cc0", "1.0"),
    ("pdm", "1.0"),
)
LICENSE_TYPES = {"all", "all-cc", "commercial", "modification"}
CATEGORIES = {"photograph", "illustration", "digitized_artwork"}
SIZES = {"small", "medium", "large"}
CREATORS = ("pricklysarah", "Ansel Example", "Smithsonian Institution")


def _license_url(code: str, version: str) -> str:
    if code in ("cc0", "pdm"):
        kind = "zero" if code == "cc0" else "mark"
        return f"https://creativecommons.org/publicdomain/{kind}/{version}/"
    return f"https://creativecommons.org/licenses/{code}/{version}/"


def _display(code: str, version: str) -> str:
    name = {"cc0": "CC0", "pdm": "Public Domain Mark"}.get(code, f"CC {code.upper()}")
    return f"{name} {version}"


def _attribution(title: str, creator: str, code: str, version: str) -> str:
    """The plain-text credit the API composes for each result."""
    public = code in ("cc0", "pdm")
    verb = "is marked with" if public else "is licensed under"
    terms = "the terms" if public else "a copy of this license"
    return (
        f'"{title}" by {creator} {verb} {_display(code, version)}. '
        f"To view {terms}, visit {_license_url(code, version)}."
    )


def _allowed_licenses(q: Any) -> list[tuple[str, str]]:
    allowed = list(LICENSES)
    if "license" in q:
        codes = set(q["license"].lower().split(","))
        allowed = [lic for lic in allowed if lic[0] in codes]
    for kind in q.get("license_type", "").lower().split(","):
        if kind == "commercial":
            allowed = [lic for lic in allowed if "nc" not in lic[0]]
        elif kind == "modification":
            allowed = [lic for lic in allowed if "nd" not in lic[0]]
    return allowed


def _item(fake: Any, r: Result, license: tuple[str, str], category: str) -> dict[str, Any]:
    ident = str(uuid.UUID(hashlib.sha256(r.image_url.encode()).hexdigest()[:32]))
    creator = CREATORS[r.index % len(CREATORS)]
    code, version = license
    api = f"{fake.base_url}/v1/images/{ident}"
    return {
        "id": ident,
        "title": r.title,
        "indexed_on": "2024-05-17T09:21:44Z",
        "foreign_landing_url": r.page_url,
        "url": r.image_url,
        "creator": creator,
        "creator_url": f"https://www.flickr.com/photos/{creator.replace(' ', '_')}",
        "license": code,
        "license_version": version,
        "license_url": _license_url(code, version),
        "provider": "flickr",
        "source": "flickr",
        "category": category,
        "filesize": None,
        "filetype": "jpg",
        "tags": [{"name": "fake", "accuracy": None}],
        "attribution": _attribution(r.title, creator, code, version),
        "fields_matched": ["title"],
        "mature": False,
        "height": r.height,
        "width": r.width,
        "thumbnail": r.thumbnail_url,
        "detail_url": f"{api}/",
        "related_url": f"{api}/related/",
        "unstable__sensitivity": [],
    }


def _invalid(q: Any) -> dict[str, list[str]]:
    """Field errors the API would report for these parameters."""
    errors: dict[str, list[str]] = {}
    checks = (
        ("license", {code for code, _ in LICENSES}, "License '{}' does not exist."),
        ("license_type", LICENSE_TYPES, "License type '{}' does not exist."),
        ("category", CATEGORIES, "Invalid value: {}."),
        ("size", SIZES, "Invalid value: {}."),
    )
    for key, allowed, message in checks:
        if key not in q:
            continue
        wrong = [v for v in q[key].lower().split(",") if v not in allowed]
        if wrong:
            errors[key] = [message.format(wrong[0])]
    if q.get("mature", "false").lower() not in ("true", "false"):
        errors["mature"] = ["Must be a valid boolean."]
    page = q.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= MAX_PAGINATION_DEPTH:
        errors["page"] = [f"Ensure this value is less than or equal to {MAX_PAGINATION_DEPTH}."]
    return errors


def register(router: web.UrlDispatcher, fake: Any) -> None:
    async def images(request: web.Request) -> web.StreamResponse:
        await fake.search_delay()
        if NAME in fake.config.blocked:
            return web.json_response(
                {"detail": "Request was throttled. Expected available in 86400 seconds."},
                status=429,
                headers={"Retry-After": "86400"},
            )
        if NAME in fake.config.broken:
            return web.json_response({"data": {"media": []}, "meta": {"version": 2}})
        q = request.query
        size = q.get("page_size", str(MAX_ANONYMOUS_PAGE_SIZE))
        if not size.isdigit() or not 1 <= int(size) <= MAX_ANONYMOUS_PAGE_SIZE:
            detail = f"Ensure this value is less than or equal to {MAX_ANONYMOUS_PAGE_SIZE}."
            return web.json_response({"detail": detail}, status=401)
        errors = _invalid(q)
        if errors:
            return web.json_response({"detail": errors}, status=400)
        keyword, page, page_size = q.get("q", ""), int(q.get("page", "1")), int(size)
        allowed = _allowed_licenses(q)  # no licence left: nothing can match
        total = fake.total(keyword) if allowed else 0
        results = fake.results(keyword, (page - 1) * page_size, page_size) if allowed else []
        category = q.get("category", "photograph").split(",")[0]
        return web.json_response(
            {
                "result_count": total,
                "page_count": min(MAX_PAGINATION_DEPTH, math.ceil(total / page_size)),
                "page_size": page_size,
                "page": page,
                "results": [
                    _item(fake, r, allowed[r.index % len(allowed)], category) for r in results
                ],
            }
        )

    router.add_get("/v1/images/", images)
