"""The JSON a request body may hold: what Python's json module lets through but nothing after
it can store or send back.

`json.loads` accepts NaN and Infinity, turns 1e400 into inf, and decodes "\\ud800" (or raw
surrogate bytes) into a lone surrogate; PostgreSQL refuses NUL characters in text. Each of
these used to reach a database driver or a response encoder and end as a 500. Checked once,
before any route sees the body, so every route gets the same 422.

A body is parsed here only if its text could hold one of them (a \u0000 or surrogate escape,
NaN/Infinity, a 3-digit exponent, or deep nesting): a few C-speed
scans, so an ordinary body is parsed once, by FastAPI, not twice. json's scanner holds the
GIL, so a parse in a thread would stall the event loop all the same.
"""

from __future__ import annotations

import json
import math
import re

# Deeper than any body of ours; json's C scanner would otherwise recurse about 1,000 levels.
MAX_DEPTH = 64
# Texts these miss cannot hold what check_body refuses (raw NUL and raw surrogates are caught
# by json itself and by the strict UTF-8 decode); false alarms only cost a full parse.
_ESCAPES = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# 1e400 and the like. A float spelled with 400 plain digits is not looked for (that search
# costs more than the parse); it reaches validation like any number, which refuses it in
# every field of ours, and errors.py never echoes a non-finite input.
_BIG_EXPONENT = re.compile(r"[eE][+-]?\d{3}")
_OPENERS_BEFORE_PARSE = 256  # more brackets than any of our bodies has: check the depth


class BadJson(ValueError):
    """Why the body is refused, and where (a character offset when one is known)."""

    def __init__(self, reason: str, pos: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos


def _constant(name: str) -> float:
    raise BadJson(f"{name} is not a valid JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number {text[:40]} is out of range")
    return value


def check_body(body: bytes) -> None:
    """Raise BadJson unless `body` is UTF-8 JSON of finite numbers and clean strings."""
    try:
        text = body.decode("utf-8")  # strict: surrogates encoded as bytes fail here
    except UnicodeDecodeError as exc:
        raise BadJson("the body is not valid UTF-8", exc.start) from None
    if not _suspicious(text):
        return
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise BadJson(exc.msg, exc.pos) from None
    except RecursionError:
        raise BadJson(f"nested deeper than {MAX_DEPTH} levels") from None
    _check_value(value)


def _suspicious(text: str) -> bool:
    return bool("NaN" in text or "Infinity" in text or _ESCAPES.search(text)
                or _BIG_EXPONENT.search(text)
                or text.count("[") + text.count("{") > _OPENERS_BEFORE_PARSE)


def _check_value(root: object) -> None:
    """Walk without recursion: every string and key must encode to UTF-8 and hold no NUL."""
    stack: list[tuple[object, int]] = [(root, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise BadJson(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key in value:
                    _check_text(key)
                items = value.values()
            else:
                items = value
            stack.extend((item, depth + 1) for item in items
                         if isinstance(item, str | dict | list))


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadJson("strings must not contain NUL characters")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadJson("strings must not contain lone surrogates (\\ud800-\\udfff)") from None
