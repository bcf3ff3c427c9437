"""Errors the client raises, one class per thing a caller reacts to differently.

The GUI branches on the class (sign in again, say "not yours", refresh the list, wait, show
"offline") and shows `detail`, which is the server's own sentence, so messages stay the
server's and are not reworded in two places.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


class ApiError(Exception):
    """A request the server refused, or (status 0) one that never got an answer."""

    def __init__(self, status: int, detail: str, *, retry_after: float | None = None,
                 field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.field_errors: dict[str, str] = dict(field_errors or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, detail={self.detail!r})"


class AuthError(ApiError):
    """401 that a token refresh could not cure: the user has to sign in again."""


class ForbiddenError(ApiError):
    """403: the resource belongs to another user."""


class NotFoundError(ApiError):
    """404: the job, image or validation run does not exist (any more)."""


class RateLimited(ApiError):
    """429: too many starts or logins; `retry_after` says how many seconds to wait."""


class ConnectionLost(ApiError):
    """No answer at all: server down, wrong address, network gone or a timeout."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, detail)


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthError, 403: ForbiddenError, 404: NotFoundError, 429: RateLimited,
}


def error_from_response(response: httpx.Response) -> ApiError:
    """The ApiError subclass for a failed response, carrying the server's `detail`."""
    status = response.status_code
    detail, field_errors = _read_detail(response)
    cls = _BY_STATUS.get(status, ApiError)
    return cls(status, detail, retry_after=_retry_after(response), field_errors=field_errors)


def _read_detail(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The server always answers {"detail": str} or, for 422, {"detail": [{loc, msg, type}]};
    anything else (a proxy's HTML page, an empty body) falls back to the status line."""
    fallback = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    try:
        detail = response.json().get("detail")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return fallback, {}
    if isinstance(detail, str) and detail:
        return detail, {}
    if isinstance(detail, list) and detail:
        return _summarise_validation(detail)
    return fallback, {}


def _summarise_validation(errors: list) -> tuple[str, dict[str, str]]:
    """One readable line for a dialog, plus body field -> message for highlighting inputs.

    A field is the top-level body key (`keywords` for ["body", "keywords", 3]) because that
    is what a form has a widget for; the first message per field wins.
    """
    parts: list[str] = []
    fields: dict[str, str] = {}
    for error in errors:
        if not isinstance(error, dict):
            continue
        loc = [str(p) for p in error.get("loc", [])]
        msg = _clean_message(str(error.get("msg", "invalid value")))
        where = ".".join(loc[1:] if loc[:1] in (["body"], ["query"], ["path"]) else loc)
        parts.append(f"{where}: {msg}" if where else msg)
        if len(loc) > 1 and loc[0] == "body":
            fields.setdefault(loc[1], msg)
    return "; ".join(parts) or "Invalid request", fields


def _clean_message(msg: str) -> str:
    """Pydantic prefixes custom validator messages with "Value error, "; users need not see it."""
    return msg.removeprefix("Value error, ")


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: the server sends delta-seconds, a proxy may send an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with an unknown local offset
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
