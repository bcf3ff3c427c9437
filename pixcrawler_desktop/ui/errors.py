"""Turning failures into sentences for people.

API errors carry the server's own `detail`; this module only adds what the user should do
next (wait N seconds, sign in again). The last-resort hook for everything else is in
`crash.py`.
"""

from __future__ import annotations

import math
import re

from pixcrawler_desktop.client.errors import (
    ApiError,
    AuthError,
    ConnectionLost,
    ForbiddenError,
    NotFoundError,
    RateLimited,
)


def describe(exc: BaseException) -> str:
    """One line for the status bar or a dialog."""
    if isinstance(exc, RateLimited):
        message = exc.detail.rstrip()
        if exc.retry_after is not None and "try again" not in message.lower():
            message = f"{message.rstrip('.')}. Try again in {format_wait(exc.retry_after)}."
        return message
    if isinstance(exc, AuthError):
        return f"Please sign in again: {exc.detail}"
    if isinstance(exc, ForbiddenError):
        return f"Not allowed: {exc.detail}"
    if isinstance(exc, NotFoundError):
        return f"Not found: {exc.detail}"
    if isinstance(exc, ConnectionLost):
        return unreachable(exc)
    if isinstance(exc, ApiError):
        return exc.detail
    return f"Unexpected error: {exc}" if str(exc) else f"Unexpected error ({type(exc).__name__})"


_UNREACHABLE = re.compile(r"^Cannot reach the server at (?P<server>\S+?): (?P<reason>.*)$", re.S)


def unreachable(exc: ConnectionLost, server: str | None = None) -> str:
    """What a person can act on when no server answered: "No PixCrawler server at http://…:
    is it running?", not the socket's "[Errno 111] Connection refused" (that stays in
    `technical()`, for a tooltip)."""
    found = _UNREACHABLE.match(exc.detail)
    server = server or (found["server"] if found else "")
    reason = (found["reason"] if found else exc.detail).lower()
    if not server:
        return exc.detail
    if "timed out" in reason:
        return f"The PixCrawler server at {server} did not answer in time: is it busy or down?"
    if "name or service not known" in reason or "nodename nor servname" in reason \
            or "getaddrinfo failed" in reason or "name resolution" in reason:
        return f"No computer is known by the name in {server}: is the address right?"
    return f"No PixCrawler server at {server}: is it running?"


def technical(exc: BaseException) -> str:
    """The failure as the network library put it, for a tooltip under the friendly words."""
    return exc.detail if isinstance(exc, ApiError) else str(exc)


def format_wait(seconds: float | None) -> str:
    if seconds is None:
        return "a moment"
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} s"
    return f"{math.ceil(whole / 60)} min"
