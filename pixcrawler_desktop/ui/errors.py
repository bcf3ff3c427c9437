"""Turning failures into sentences for people.

API errors carry the server's own `detail`; this module only adds what the user should do
next (wait N seconds, sign in again). The last-resort hook for everything else is in
`crash.py`.
"""

from __future__ import annotations

import math

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
        return exc.detail
    if isinstance(exc, ApiError):
        return exc.detail
    return f"Unexpected error: {exc}" if str(exc) else f"Unexpected error ({type(exc).__name__})"


def format_wait(seconds: float | None) -> str:
    if seconds is None:
        return "a moment"
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} s"
    return f"{math.ceil(whole / 60)} min"
