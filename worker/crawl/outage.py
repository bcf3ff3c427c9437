"""Outlasting an outage: a call that meets ServiceDown is tried again with backoff until the
outage limit, then the wait ends in a ChunkFault that names the service.

Shared by the chunk runner (async) and the tasks (sync): a restarted database or Redis should
cost a pause, never a failed chunk or validation run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from worker.crawl.types import ChunkFault, ServiceDown

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_PAUSE = 0.5
MAX_PAUSE = 10.0


class _Outage:
    def __init__(self, limit: float, what: str) -> None:
        self.limit = limit
        self.what = what
        self.began: float | None = None
        self.pause = FIRST_PAUSE

    def wait_for(self, exc: ServiceDown) -> float:
        """Seconds to wait before the next try; raises ChunkFault past the limit."""
        now = time.monotonic()
        if self.began is None:
            self.began = now
            log.warning("%s: %s; waiting up to %.0f s for it to come back", self.what, exc,
                        self.limit)
        left = self.began + self.limit - now
        if left <= 0:
            raise ChunkFault(f"{exc.service} unreachable for {self.limit:.0f} s "
                             f"({exc.detail})") from exc
        pause, self.pause = min(self.pause, left), min(self.pause * 2, MAX_PAUSE)
        return pause


async def outlast(call: Callable[[], Awaitable[T]], limit: float, what: str) -> T:
    outage = _Outage(limit, what)
    while True:
        try:
            return await call()
        except ServiceDown as exc:
            await asyncio.sleep(outage.wait_for(exc))


def outlast_sync(call: Callable[[], T], limit: float, what: str) -> T:
    outage = _Outage(limit, what)
    while True:
        try:
            return call()
        except ServiceDown as exc:
            time.sleep(outage.wait_for(exc))
