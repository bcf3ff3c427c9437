"""robots.txt, fetched once per origin and cached for an hour by a downloader.

Policy (simple on purpose): a missing robots.txt, any 4xx, any 5xx or a network failure means
"allow all"; only rules that were actually read can disallow. Concurrent downloads from one host
share a single robots.txt request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.robotparser import RobotFileParser

import aiohttp
from yarl import URL

from worker.crawl.netguard import PrivateAddressError, find_refusal

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 asks parsers to read at least 500 KiB


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for part in resp.content.iter_chunked(64 * 1024):
        parts.append(part)
        size += len(part)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


MAX_AGE = 3600.0  # seconds a robots.txt is trusted (RFC 9309: no more than a day)


class RobotsCache:
    """Answers "may this user agent fetch this URL?" with one robots.txt request per origin
    per ``max_age`` seconds (a downloader lives across many chunks of a worker)."""

    def __init__(
        self, session: aiohttp.ClientSession, user_agent: str, timeout: float = 10.0,
        max_age: float = MAX_AGE,
    ) -> None:
        self._session = session
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_age = max_age
        self._origins: dict[str, tuple[float, asyncio.Task[RobotFileParser | None]]] = {}

    async def allowed(self, url: str | URL) -> bool:
        """False only if the origin's robots.txt disallows ``url`` for our user agent.

        Raises :class:`PrivateAddressError` when robots.txt itself was refused by the address
        guard, so the caller reports the refusal rather than a generic failure.
        """
        url = URL(url) if isinstance(url, str) else url
        origin = str(url.origin())
        now = time.monotonic()
        cached = self._origins.get(origin)
        if cached is None or now - cached[0] > self._max_age:
            cached = self._origins[origin] = (now, asyncio.create_task(self._load(origin)))
        task = cached[1]
        # shield: one caller being cancelled must not cancel the fetch other callers wait for
        parser = await asyncio.shield(task)
        if parser is None:
            return True
        return parser.can_fetch(self._user_agent, str(url))

    async def _load(self, origin: str) -> RobotFileParser | None:
        try:
            async with self._session.get(
                f"{origin}/robots.txt", timeout=self._timeout, max_redirects=5
            ) as resp:
                if resp.status != 200:
                    return None
                body = await _read_capped(resp, MAX_ROBOTS_BYTES)
        except PrivateAddressError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            refusal = find_refusal(exc)
            if refusal is not None:
                raise refusal from exc
            return None
        parser = RobotFileParser(f"{origin}/robots.txt")
        parser.parse(body.decode("utf-8", errors="replace").splitlines())
        parser.modified()  # can_fetch() refuses everything until it believes the file was read
        return parser

    async def close(self) -> None:
        """Cancel robots.txt requests still running (the session is about to close)."""
        tasks = [t for _at, t in self._origins.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._origins.clear()
