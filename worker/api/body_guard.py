"""Pure ASGI middleware that bounds and checks a request before any route parses it.

- A body over `max_bytes` gets 413 at once: by its Content-Length, or while a chunked body is
  counted, so at most `max_bytes` is ever held. A 10 MB JSON array used to stall the event
  loop for seconds while FastAPI parsed it and echoed it back in a 422.
- A JSON body is checked by `strict_json` (NaN/Infinity, out-of-range numbers, lone
  surrogates, NUL), then replayed to the app.
- A NUL character in the query string gets 422: PostgreSQL refuses it in text.
- Paths whose bodies are always small (sign-in: an email and a password) get a lower limit,
  so the one place open to anyone takes no body worth parsing.
- Requests with a big body (over 64 KB: none of ours needs one) are handled one at a time.
  Parsing a body near the limit takes the event loop tens of milliseconds (json holds the
  GIL, so no thread helps); one at a time, other clients wait for one such parse at most,
  not for every one in flight.

Pure ASGI rather than BaseHTTPMiddleware: that one would buffer the response stream too, and
the export zip and the events stream must flow.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.api.strict_json import BadJson, check_body

# Bodies up to this size are checked on the event loop (well under a millisecond) and handled
# side by side. Bigger ones are checked in a worker thread (its scans hold the GIL either way,
# a few ms per MB, but the full parse of a suspicious body calls back into Python for each
# number, which lets the loop run) and handled one at a time.
BIG_BODY_BYTES = 64 * 1024


class BodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int,
                 small: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.small = small or {}  # path prefix -> its lower limit
        self._big = asyncio.Semaphore(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (bad := _nul_in_query(scope.get("query_string", b""))) is not None:
            await _invalid(["query", bad], "strings must not contain NUL characters",
                           "string_nul")(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if declared in (None, b"0") and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to hold back
            return
        body = await _read(receive, limit)
        if body is None:  # over the limit while streaming
            await _too_large(limit)(scope, receive, send)
            return
        if len(body) <= BIG_BODY_BYTES:
            await self._handle(scope, body, receive, send, big=False)
            return
        async with self._big:
            await self._handle(scope, body, receive, send, big=True)

    async def _handle(self, scope: Scope, body: bytes, receive: Receive, send: Send, *,
                      big: bool) -> None:
        if body and _is_json(dict(scope["headers"]).get(b"content-type")):
            try:
                if big:
                    await anyio.to_thread.run_sync(check_body, body)
                else:
                    check_body(body)
            except BadJson as exc:
                loc: list[str | int] = ["body"] if exc.pos is None else ["body", exc.pos]
                await _invalid(loc, "JSON decode error", "json_invalid",
                               exc.reason)(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    def _limit(self, path: str) -> int:
        for prefix, limit in self.small.items():
            if path.startswith(prefix):
                return min(limit, self.max_bytes)
        return self.max_bytes


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` (the rest is never read)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts)  # the app will see the disconnect on its next receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _too_large(limit: int) -> JSONResponse:
    # Connection: close, so the server stops reading the rest of a body it will not use.
    return JSONResponse({"detail": f"Request body too large: the limit is {limit} bytes"},
                        status_code=413, headers={"Connection": "close"})


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message; later calls (disconnect checks) go to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _is_json(content_type: bytes | None) -> bool:
    """What FastAPI parses as JSON: application/json or application/*+json."""
    if content_type is None:
        return False
    kind = content_type.split(b";", 1)[0].strip().lower()
    return kind == b"application/json" or (kind.startswith(b"application/")
                                           and kind.endswith(b"+json"))


def _nul_in_query(query: bytes) -> str | None:
    """The name of the first query parameter holding a NUL (in its name or value), else None."""
    if b"%00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "")[:100]
    return None


def _invalid(loc: list[str | int], msg: str, kind: str, reason: str | None = None
             ) -> JSONResponse:
    """A 422 in the shape FastAPI gives its own validation errors."""
    error: dict = {"type": kind, "loc": loc, "msg": msg if reason is None else f"{msg}: {reason}"}
    if reason is not None:
        error["ctx"] = {"error": reason}
    return JSONResponse({"detail": [error]}, status_code=422)
