"""Where a worker runs its chunks: one event loop per pool thread (or process), kept for the
life of the worker, with a downloader per set of download options kept open across chunks.

`asyncio.run` per chunk built and tore down a loop, an aiohttp session, its connection pool,
DNS cache and robots.txt cache for every chunk, so each chunk paid its own TCP connects and
robots.txt fetches to hosts the previous chunk had just used. Kept open, the next chunk on
the thread starts with them warm. Runtimes are closed when the worker shuts down.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from worker.crawl.downloader import Downloader, DownloadOptions

T = TypeVar("T")
MAX_DOWNLOADERS = 4  # option sets kept open per thread; the least recently used closes


class ChunkRuntime:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._downloaders: dict[DownloadOptions, Downloader] = {}

    def run(self, options: DownloadOptions,
            work: Callable[[Downloader], Awaitable[T]]) -> T:
        """Run ``work`` with this thread's open downloader for ``options``."""
        return self.loop.run_until_complete(self._run(options, work))

    async def _run(self, options: DownloadOptions,
                   work: Callable[[Downloader], Awaitable[T]]) -> T:
        downloader = self._downloaders.pop(options, None)
        if downloader is None:
            while len(self._downloaders) >= MAX_DOWNLOADERS:
                oldest = next(iter(self._downloaders))
                await self._downloaders.pop(oldest).close()
            downloader = await Downloader(options).__aenter__()
        self._downloaders[options] = downloader  # most recently used last
        downloader.new_chunk()
        return await work(downloader)

    def close(self) -> None:
        """Close the downloaders and the loop (from any thread, once the loop is idle)."""
        async def close_all() -> None:
            for downloader in self._downloaders.values():
                await downloader.close()
            self._downloaders.clear()

        try:
            self.loop.run_until_complete(close_all())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
        finally:
            self.loop.close()


_local = threading.local()
_all: list[ChunkRuntime] = []
_guard = threading.Lock()


def runtime() -> ChunkRuntime:
    """This thread's runtime, made on first use."""
    current = getattr(_local, "runtime", None)
    if current is None:
        current = _local.runtime = ChunkRuntime()
        with _guard:
            _all.append(current)
    return current


def close_all() -> None:
    """Close every thread's runtime: the worker is shutting down and no chunk runs."""
    with _guard:
        runtimes, _all[:] = list(_all), []
    for each in runtimes:
        each.close()
    if hasattr(_local, "runtime"):
        del _local.runtime
