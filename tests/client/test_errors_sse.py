"""Error mapping for answers the server itself never gives (a proxy's page, a dated
Retry-After) and the event-stream format's corners, on real httpx responses and plain lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx

from pixcrawler_desktop.client import ApiError, NotFoundError, RateLimited
from pixcrawler_desktop.client.errors import error_from_response
from pixcrawler_desktop.client.sse import ServerSentEvent, iter_events


def test_non_json_error_uses_the_status_line():
    error = error_from_response(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert type(error) is ApiError
    assert error.status == 502 and error.detail == "HTTP 502 Bad Gateway"


def test_status_picks_the_class_and_keeps_the_detail():
    error = error_from_response(httpx.Response(404, json={"detail": "Image not found"}))
    assert isinstance(error, NotFoundError) and error.detail == "Image not found"


def test_retry_after_as_an_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    error = error_from_response(httpx.Response(429, headers={"Retry-After": when},
                                               json={"detail": "slow down"}))
    assert isinstance(error, RateLimited)
    assert error.retry_after is not None and 100 < error.retry_after <= 120


def test_event_stream_corners():
    lines = [": keep-alive", "", "event: progress", "data:{\"a\":", "data: 1}", "id: 7",
             "retry: 500", "", "data: plain", "", "event: lonely", "", "data: cut off"]
    assert list(iter_events(lines)) == [
        ServerSentEvent("progress", '{"a":\n1}', "7", 500),
        ServerSentEvent("message", "plain", "7", None),
    ]
