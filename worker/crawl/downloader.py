"""Concurrent, polite, safe image downloads with asyncio + aiohttp.

One shared ``ClientSession`` per downloader (engines borrow it through :attr:`Downloader.session`).
Concurrency is gated in our own code (a global cap and a per-host cap with an optional minimum
interval) before a request starts, so request timeouts measure the network, not time spent
queueing behind other downloads. Bodies are collected in memory and written, hashed and
checked on the loop once complete (see worker.crawl.body).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from types import TracebackType

import aiohttp
from yarl import URL

from worker.crawl import magic
from worker.crawl.body import Body
from worker.crawl.netguard import (
    GuardedResolver,
    PrivateAddressError,
    check_host,
    find_refusal,
    guarded_socket_factory,
)
from worker.crawl.optout import agent_token, opted_out
from worker.crawl.robots import RobotsCache
from worker.crawl.types import DownloadError, Fetched, LocalWriteError

__all__ = ["DEFAULT_USER_AGENT", "DownloadError", "DownloadOptions", "Downloader", "Fetched"]

DEFAULT_USER_AGENT = "PixCrawlerDesktop/0.1 (image dataset builder; honours robots.txt)"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_REQUEST_HEADERS = {
    "Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
    # Images are already compressed; identity spares a decompression pass per chunk.
    "Accept-Encoding": "identity",
}
# Headroom on the connector for robots.txt and engine requests sharing the session; downloads
# themselves are capped by our own semaphores.
_EXTRA_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class DownloadOptions:
    """Knobs of a :class:`Downloader`; the defaults are the polite, safe production values."""

    concurrency: int = 64
    per_host: int = 8
    host_interval: float = 0.0  # minimum seconds between request starts to one host
    timeout_total: float = 30.0
    timeout_connect: float = 10.0
    timeout_sock_read: float = 15.0  # a body that sends nothing this long is cut
    deadline: float = 60.0  # one image, from its first request, across all its retries
    host_timeouts: int = 2  # a host that timed out this often is skipped from then on
    max_bytes: int = 25 * 1024 * 1024
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    max_redirects: int = 5
    respect_robots: bool = True
    respect_optout: bool = True  # an image sent with X-Robots-Tag noai, noindex, ... is not kept
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    dns_cache_ttl: int = 300
    read_chunk: int = 256 * 1024
    spill_bytes: int = 4 * 1024 * 1024  # bodies above this go to disk as they arrive

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        if self.max_retries < 0 or self.max_redirects < 0:
            raise ValueError("max_retries and max_redirects must not be negative")
        if self.max_bytes < 1 or self.read_chunk < 64 * 1024 or self.spill_bytes < 1:
            raise ValueError(
                "max_bytes and spill_bytes must be positive and read_chunk at least 64 KiB"
            )
        if min(self.host_interval, self.backoff_base, self.backoff_cap, self.max_retry_after) < 0:
            raise ValueError("intervals and backoff times must not be negative")


class _Clock:
    """One image's deadline, running from its first request (not from waiting for a slot)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.began: float | None = None

    def start(self) -> float:
        """Seconds left; starts the clock on the first call."""
        now = time.monotonic()
        if self.began is None:
            self.began = now
        return self.began + self.seconds - now

    def left(self) -> float:
        return self.seconds if self.began is None else self.began + self.seconds - time.monotonic()

    def expired(self) -> DownloadError:
        return DownloadError(f"no complete image within {self.seconds:g} s", "timeout")


class _Retry(Exception):
    """A transient failure; ``retry_after`` is the server's requested delay, if it gave one."""

    def __init__(self, reason: str, retry_after: float | None = None,
                 kind: str = "network") -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.kind = kind  # the breakdown's reason once retries run out


class _HostGate:
    """Per-host cap on concurrent requests plus a minimum interval between request starts."""

    __slots__ = ("_interval", "_next_at", "_slots")

    def __init__(self, per_host: int, interval: float) -> None:
        self._slots = asyncio.Semaphore(per_host)
        self._interval = interval
        self._next_at = 0.0

    def pause(self, seconds: float) -> None:
        """Hold back every request to this host for ``seconds`` (the host asked us to)."""
        self._next_at = max(self._next_at, asyncio.get_running_loop().time() + seconds)

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        try:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next_at)
            if self._interval > 0 or start > now:
                # Reserving the slot synchronously keeps spacing exact without a lock.
                self._next_at = max(self._next_at, start + self._interval)
                if start > now:
                    await asyncio.sleep(start - now)
        except BaseException:
            self._slots.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._slots.release()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - time.time())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class Downloader:
    """``async with Downloader(opts) as d: fetched = await d.fetch(url, temp_dir)``."""

    def __init__(self, options: DownloadOptions | None = None) -> None:
        self.options = options or DownloadOptions()
        self._session: aiohttp.ClientSession | None = None
        self._robots: RobotsCache | None = None
        self._slots: asyncio.Semaphore | None = None
        self._hosts: dict[str, _HostGate] = {}
        self._timeouts: dict[str, int] = {}
        self.skipped_hosts: list[str] = []  # hosts skipped after timing out, in order

    def new_chunk(self) -> None:
        """Forget which hosts timed out: a downloader kept open for the next chunk judges
        its hosts afresh (and reports only its own skips)."""
        self._timeouts.clear()
        self.skipped_hosts = []

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session (engines use it for search requests)."""
        if self._session is None:
            raise RuntimeError("Downloader is not open; use 'async with Downloader(...)'")
        return self._session

    async def __aenter__(self) -> Downloader:
        opts = self.options
        guarded = not opts.allow_private
        connector = aiohttp.TCPConnector(
            limit=opts.concurrency + _EXTRA_CONNECTIONS,
            limit_per_host=opts.per_host,
            ttl_dns_cache=opts.dns_cache_ttl,
            resolver=GuardedResolver() if guarded else None,
            socket_factory=guarded_socket_factory if guarded else None,
        )
        timeout = aiohttp.ClientTimeout(
            total=opts.timeout_total,
            sock_connect=opts.timeout_connect,
            sock_read=opts.timeout_sock_read,
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"User-Agent": opts.user_agent}
        )
        self._robots = RobotsCache(
            self._session, opts.user_agent, timeout=min(opts.timeout_total, 10.0)
        )
        self._slots = asyncio.Semaphore(opts.concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._robots is not None:
            await self._robots.close()
            self._robots = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, temp_dir: Path) -> Fetched:
        """Download one image into a new file in ``temp_dir``; raise DownloadError on failure.

        The caller owns the returned temp file (move it into place or delete it). On any failure,
        including cancellation, no file is left behind. ``Fetched.url`` is the final URL after
        redirects.
        """
        self.session  # noqa: B018 - fail early with a clear message when not opened
        opts = self.options
        clock = _Clock(opts.deadline)
        attempt = 0
        while True:
            try:
                return await self._attempt(url, Path(temp_dir), clock)
            except _Retry as retry:
                if attempt >= opts.max_retries:
                    tries = f"{attempt + 1} attempt" + ("s" if attempt else "")
                    raise DownloadError(f"{retry.reason} (gave up after {tries})",
                                        retry.kind) from None
                if retry.retry_after is not None:
                    delay = retry.retry_after
                else:  # exponential backoff, full jitter
                    delay = random.uniform(0, min(opts.backoff_cap, opts.backoff_base * 2**attempt))
                if delay >= clock.left():
                    raise clock.expired() from None
                attempt += 1
                await asyncio.sleep(delay)

    def _check_url(self, url: URL) -> str:
        if url.scheme not in ("http", "https"):
            raise DownloadError(f"unsupported URL scheme {url.scheme!r}")
        host = url.raw_host
        if not host:
            raise DownloadError("invalid URL: no host")
        if not self.options.allow_private:
            try:
                check_host(host)
            except PrivateAddressError as exc:
                raise DownloadError(str(exc)) from None
        return host

    async def _robots_allow(self, url: URL) -> None:
        assert self._robots is not None
        try:
            allowed = await self._robots.allowed(url)
        except PrivateAddressError as exc:
            raise DownloadError(str(exc)) from None
        if not allowed:
            raise DownloadError("disallowed by robots.txt", "robots")

    def _gate(self, host: str) -> _HostGate:
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _HostGate(self.options.per_host, self.options.host_interval)
        return gate

    def _check_host_skipped(self, host: str) -> None:
        if host in self.skipped_hosts:
            raise DownloadError(f"skipped: {host} timed out {self.options.host_timeouts} times",
                                "timeout")

    def _timed_out(self, host: str) -> None:
        count = self._timeouts[host] = self._timeouts.get(host, 0) + 1
        if count >= self.options.host_timeouts and host not in self.skipped_hosts:
            self.skipped_hosts.append(host)

    async def _attempt(self, url: str, temp_dir: Path, clock: _Clock) -> Fetched:
        """One try: follow redirects by hand so every hop passes the scheme, address and robots
        checks; returns the image or raises DownloadError / _Retry."""
        opts = self.options
        try:
            current = URL(url)
        except (ValueError, TypeError):
            raise DownloadError("invalid URL") from None
        for _hop in range(opts.max_redirects + 1):
            host = self._check_url(current)
            if opts.respect_robots:
                await self._robots_allow(current)
            key = host.lower()
            self._check_host_skipped(key)
            gate = self._gate(key)
            location: str | None = None
            async with gate:
                assert self._slots is not None
                async with self._slots:
                    self._check_host_skipped(key)  # it may have timed out while we waited
                    left = clock.start()
                    if left <= 0:
                        raise clock.expired()
                    try:
                        async with self.session.get(
                            current, allow_redirects=False, headers=_REQUEST_HEADERS,
                            timeout=self._timeout(left),
                        ) as resp:
                            status = resp.status
                            if status in REDIRECT_STATUSES and resp.headers.get("Location"):
                                location = resp.headers["Location"]
                            elif status in RETRY_STATUSES:
                                raise self._retry_for(resp, gate)
                            elif not 200 <= status < 300:
                                raise DownloadError(f"HTTP {status}", "http")
                            else:
                                if opts.respect_optout:
                                    self._check_optout(resp)
                                body = await self._collect(resp, temp_dir)
                    except (DownloadError, _Retry, LocalWriteError):
                        raise
                    except Exception as exc:
                        if isinstance(exc, TimeoutError):
                            self._timed_out(key)
                            if clock.left() <= 0:
                                raise clock.expired() from None
                        raise self._classify(exc, host) from None
            if location is None:
                return self._settle(body, str(current))
            try:
                current = current.join(URL(location))
            except (ValueError, TypeError):
                raise DownloadError("invalid redirect location") from None
        raise DownloadError(f"too many redirects (more than {opts.max_redirects})")

    def _check_optout(self, resp: aiohttp.ClientResponse) -> None:
        """The owner's opt-out (worker.crawl.optout), before a byte of the body is read."""
        directive = opted_out(resp.headers.getall("X-Robots-Tag", ()),
                              agent_token(self.options.user_agent))
        if directive is not None:
            raise DownloadError(f"the owner opted out (X-Robots-Tag: {directive})", "optout")

    def _timeout(self, left: float) -> aiohttp.ClientTimeout:
        opts = self.options
        return aiohttp.ClientTimeout(total=min(opts.timeout_total, left),
                                     sock_connect=opts.timeout_connect,
                                     sock_read=opts.timeout_sock_read)

    def _retry_for(self, resp: aiohttp.ClientResponse, gate: _HostGate) -> Exception:
        status = resp.status
        wait = None
        if status in RETRY_AFTER_STATUSES:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
        if wait is not None:
            limit = self.options.max_retry_after
            if wait > limit:
                return DownloadError(
                    f"HTTP {status}: server asked to retry after {wait:.0f}s, "
                    f"more than max_retry_after ({limit:g}s)", "http"
                )
            gate.pause(wait)
        return _Retry(f"HTTP {status}", wait, "http")

    @staticmethod
    def _classify(exc: Exception, host: str) -> Exception:
        """Map an aiohttp/OS error to a DownloadError (final) or _Retry (transient)."""
        refusal = find_refusal(exc)
        if refusal is not None:
            return DownloadError(str(refusal))
        if isinstance(exc, TimeoutError):
            return _Retry("timed out", kind="timeout")
        if isinstance(exc, aiohttp.ClientPayloadError):
            return _Retry("truncated: connection dropped before the body was complete")
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return DownloadError(f"DNS lookup failed for {host}", "network")
        if isinstance(exc, aiohttp.InvalidURL):
            return DownloadError("invalid URL")
        if isinstance(exc, aiohttp.ClientResponseError):
            return DownloadError(f"bad HTTP response ({exc.message})", "http")
        if isinstance(exc, aiohttp.ClientError | OSError):
            return _Retry(f"connection failed ({type(exc).__name__}: {exc})")
        return DownloadError(f"download failed ({type(exc).__name__}: {exc})")

    async def _collect(self, resp: aiohttp.ClientResponse, temp_dir: Path) -> Body:
        """Read the body, checking its magic bytes first so nothing is kept for non-images."""
        limit = self.options.max_bytes
        length = resp.content_length
        if length is not None and length > limit:
            raise DownloadError(f"too large: {length} bytes (limit {limit})", "too_large")
        encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        head = b""
        body: Body | None = None
        try:
            async for piece in resp.content.iter_chunked(self.options.read_chunk):
                if body is None:
                    head += piece
                    if len(head) < magic.HEAD_SIZE:
                        continue
                    body = self._begin(head, temp_dir)
                    piece = head
                body.add(piece)
                if body.size > limit:
                    raise DownloadError(f"too large: more than {limit} bytes", "too_large")
            if body is None:  # the whole body was shorter than HEAD_SIZE
                body = self._begin(head, temp_dir)
                body.add(head)
            if length is not None and not encoded and body.size != length:
                raise _Retry(f"truncated: got {body.size} of {length} bytes")
        except BaseException:
            if body is not None:
                body.discard()
            raise
        return body

    def _begin(self, head: bytes, temp_dir: Path) -> Body:
        kind = magic.sniff(head)
        if kind is None:
            raise DownloadError(f"not an image ({magic.describe(head)})", "not_image")
        return Body(temp_dir, *kind, spill_at=self.options.spill_bytes)

    def _settle(self, body: Body, url: str) -> Fetched:
        """Write, hash and check the body (the connection is already free). On the loop: a
        thread hop per image cost more than the work (GIL hand-overs between the loop and
        the file threads: bench/cli_crawl.py's crawl went from 0.54-0.57x to 0.63-0.70x of
        img2dataset without them), and the file system calls release the GIL anyway."""
        try:
            path, digest, width, height = body.settle()
        except BaseException:
            body.discard()
            raise
        return Fetched(url, path, digest, body.size, body.format, body.extension, width, height)
