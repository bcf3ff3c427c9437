"""Request rate limits (moving window, `limits`): memory in embedded mode, Redis in server mode."""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, status
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    def __init__(self, storage_url: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def check(self, rate: str | RateLimitItem, *key: str) -> None:
        """Count one request against `rate` for `key`; raise 429 with Retry-After when over."""
        item = parse(rate) if isinstance(rate, str) else rate
        if self._limiter.hit(item, *key):
            return
        reset_at = self._limiter.get_window_stats(item, *key).reset_time
        wait = max(1, math.ceil(reset_at - time.time()))
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Rate limit exceeded: {item}. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
