"""Error answers in the seed's format, kept small whatever the request held.

FastAPI's own 422 echoes every failing input in full (a 10 MB body came back as a 10 MB
answer) and lists every error (a list of 100,000 bad items makes 100,000 entries). Here the
list is cut, and inputs, locations and messages are shortened.
"""

from __future__ import annotations

import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

MAX_ERRORS = 20
MAX_TEXT = 500  # characters of a message, location part or detail
MAX_INPUT = 200  # characters of an input's JSON; larger inputs are left out


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def small_error(error: dict) -> dict:
    """One pydantic error with its location, message and input cut to size."""
    out: dict = {
        "type": str(error.get("type", "value_error")),
        "loc": [part if isinstance(part, int) else shorten(str(part), 100)
                for part in error.get("loc", ())],
        "msg": shorten(str(error.get("msg", ""))),
    }
    if "input" in error and _small(error["input"]):
        try:
            value = jsonable_encoder(error["input"])
            if len(json.dumps(value, allow_nan=False)) <= MAX_INPUT:
                out["input"] = value
        except (TypeError, ValueError, RecursionError):
            pass
    if ctx := error.get("ctx"):
        out["ctx"] = {str(k): v if isinstance(v, int) else shorten(str(v), MAX_INPUT)
                      for k, v in ctx.items()}
    return out


def _small(value: object, budget: int = MAX_INPUT) -> bool:
    """Whether `value` is small enough to encode, judged without encoding it: encoding a
    500,000-item list (a body just under the limit) took the event loop a second."""
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= len(item) + 1 if isinstance(item, str | bytes | list | tuple | dict) else 1
        if budget < 0:
            return False
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    return JSONResponse({"detail": [small_error(e) for e in errors[:MAX_ERRORS]]},
                        status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=getattr(exc, "headers", None))
    detail = exc.detail
    if isinstance(detail, str):
        detail = shorten(detail, 2000)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers or None)


def allowed_methods(request: Request) -> str:
    """Every method the path answers. Starlette's 405 names only those of the first route
    matching the path (FastAPI makes one route per method). Read from the OpenAPI paths,
    which do not depend on how this FastAPI version nests its routers."""
    methods: set[str] = set()
    for pattern, verbs in _path_methods(request.app):
        if pattern.fullmatch(request.url.path):
            methods |= verbs
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods))


def _path_methods(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    cached = getattr(app.state, "path_methods", None)
    if cached is None:
        cached = app.state.path_methods = [
            (re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))),
             {verb.upper() for verb in verbs})
            for path, verbs in app.openapi().get("paths", {}).items()
        ]
    return cached


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Last resort: log it, answer in the seed's format, never leak a traceback.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected)
