"""A loopback web that answers like the image-search engines and serves real image bytes.

It runs an aiohttp.web server on its own event loop in a daemon thread, so synchronous tests,
Celery workers in other processes and async tests can all talk to it over real HTTP. Knobs on
``FakeWebConfig`` are read on every request, so a test can change them while a crawl runs.

Image URL faults (query parameters of ``/img/{name}.{ext}``):
    status429=N&retry_after=S, status503=N&retry_after=S, status500=N  first N requests fail
    status404=1    always 404             redirect=N   N 302 hops before the image
    truncate=1     half the body, cleanly ended (no Content-Length): a truncated image
    cut=1          Content-Length of the full body, connection dropped after half of it
    html=1         an HTML page sent as image/jpeg
    wrongtype=1    the real image sent as text/html
    hang=1         headers and a few bytes, then nothing until the server stops
    drip=S         the body one byte every S seconds (slowloris: never stalled, never done)
    huge=1         ``huge_mb`` (default 64) MB of JPEG-looking bytes, chunked; huge_length=1
                   also declares the Content-Length
    bomb=1         a tiny PNG claiming 40000x40000 pixels (decompression bomb)
    latency=S      extra seconds before this answer
    same_as=NAME   serve NAME's bytes (how ``duplicate_every`` makes duplicates)
    xrobots=V      an ``X-Robots-Tag: V`` header with the image (may repeat: one header each)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import CIMultiDict

from tests.fakeweb import images, pages
from tests.fakeweb.sites import SITES, fake_key_env

_HUGE_BLOCK = bytes(range(256)) * 256  # 64 KiB


@dataclass
class FakeWebConfig:
    """Behaviour of the fake web; mutable at runtime, read on each request."""

    results_per_keyword: int = 60
    image_size: tuple[int, int] = (320, 240)
    latency: float = 0.0
    search_latency: float = 0.0
    duplicate_every: int = 0
    faults: dict[str, dict[int, str]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    robots_disallow: list[str] = field(default_factory=list)
    # Additive: per-keyword result counts overriding results_per_keyword (e.g. {"nothing": 0}).
    keyword_results: dict[str, int] = field(default_factory=dict)
    # Additive: per-engine result counts, the most an engine has for any keyword (e.g.
    # {"bing": 30}: Bing runs out after 30 results).
    engine_results: dict[str, int] = field(default_factory=dict)
    # Additive: each engine finds its own images (names carry the engine), so two engines of
    # one keyword do not return the same bytes.
    distinct_engines: bool = False


def _flag(query: Any, key: str) -> bool:
    return query.get(key, "0") not in ("", "0", "false", "False")


def _int(query: Any, key: str, default: int = 0) -> int:
    try:
        return int(query.get(key, default))
    except ValueError:
        return default


class FakeWeb:
    """The server; use as a context manager or call ``start()``/``stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: FakeWebConfig | None = None,
        *,
        image_hosts: int = 1,
    ) -> None:
        """``image_hosts`` > 1 spreads result images over 127.0.0.1..N (same port), the way a
        real result list spans many sites, so per-host politeness caps apply as they would."""
        if image_hosts > 1 and host != "127.0.0.1":
            raise ValueError("image_hosts needs host 127.0.0.1")
        self.host = host
        self.port = port
        self.image_hosts = image_hosts
        self.config = config or FakeWebConfig()
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._url_requests: Counter[str] = Counter()
        self._agents: Counter[tuple[str, str]] = Counter()  # (path, User-Agent) -> requests
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._dead_socket: socket.socket | None = None
        self._start_error: BaseException | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> FakeWeb:
        """Start serving; returns once the socket is listening."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="fakeweb", daemon=True
        )
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError("fake web did not start within 15 s")
        if self._start_error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError(f"fake web could not start: {self._start_error}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(Exception):
            future.result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        self._thread = None
        self._loop = None
        if self._dead_socket is not None:
            self._dead_socket.close()
            self._dead_socket = None

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._setup())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._start_error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _setup(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._count_hits])
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/img/{file}", self._image)
        app.router.add_get("/th", self._thumbnail)
        app.router.add_get("/page/{file}", self._result_page)
        app.router.add_get("/images/search", self._bing_search)
        app.router.add_get("/images/async", self._bing_async)
        app.router.add_get("/turing/captcha/challenge", self._bing_captcha)
        app.router.add_get("/", self._ddg_page)
        app.router.add_get("/i.js", self._ddg_ijs)
        for register in SITES:
            register(app.router, self)
        # Short shutdown: hung and huge downloads must not hold up stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        for n in range(2, self.image_hosts + 1):
            await web.TCPSite(self._runner, f"127.0.0.{n}", self.port).start()

    async def _shutdown(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------ helpers for tests

    def image_url(self, name: str, ext: str = "jpg", **fault_params: Any) -> str:
        query = {k: int(v) if isinstance(v, bool) else v for k, v in fault_params.items()}
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{self.base_url}/img/{name}.{ext}{suffix}"

    def image_bytes(self, name: str, ext: str = "jpg") -> bytes:
        """The exact bytes served for a clean ``/img/{name}.{ext}`` at the current size."""
        return images.render(name, ext, self.config.image_size)

    def result_name(self, keyword: str, index: int, engine: str | None = None) -> str:
        """Image name of result ``index`` for ``keyword`` (additive helper); with
        ``distinct_engines``, each engine's names start with the engine."""
        name = f"{pages.slug(keyword)}-{index}"
        return f"{engine}-{name}" if engine and self.config.distinct_engines else name

    def result_image_url(self, keyword: str, index: int) -> str:
        """The image URL the engines report for result ``index`` (faults included)."""
        return self._result(keyword, index).image_url

    def dead_url(self) -> str:
        """A URL whose port refuses connections: bound (so nobody else takes it), not listening."""
        if self._dead_socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self._dead_socket = sock
        return f"http://127.0.0.1:{self._dead_socket.getsockname()[1]}/img/dead.jpg"

    def hits(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(n for path, n in self._hits.items() if path.startswith(path_prefix))

    def agents(self, path_prefix: str = "") -> set[str]:
        """The User-Agent headers of the requests for paths under ``path_prefix``."""
        with self._lock:
            return {agent for (path, agent) in self._agents if path.startswith(path_prefix)}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self._url_requests.clear()
            self._agents.clear()

    def engine_urls(self) -> dict[str, str]:
        """Every engine's base URL: all of them are served by this one server."""
        from worker.crawl.engines import ENGINES

        return dict.fromkeys(ENGINES, self.base_url)

    def engine_env(self) -> dict[str, str]:
        """PIXCRAWLER_* variables pointing every engine here, with the keys it accepts."""
        env = {f"PIXCRAWLER_ENGINE_{n.upper()}_URL": u for n, u in self.engine_urls().items()}
        env.update(fake_key_env())
        return env

    # ------------------------------------------------------------ for the sites/ modules

    def total(self, keyword: str, engine: str | None = None) -> int:
        """How many results ``keyword`` has (``results_per_keyword`` or its override)."""
        return self._total(keyword, engine)

    def results(self, keyword: str, start: int, count: int,
                engine: str | None = None) -> list[pages.Result]:
        """Results ``start`` .. ``start + count`` of ``keyword`` (fewer at the end)."""
        return self._results(keyword, start, count, engine)

    async def search_delay(self) -> None:
        await self._search_delay()

    # ------------------------------------------------------------ results

    def _total(self, keyword: str, engine: str | None = None) -> int:
        cfg = self.config
        total = max(0, cfg.keyword_results.get(keyword, cfg.results_per_keyword))
        if engine in cfg.engine_results:
            total = min(total, cfg.engine_results[engine])
        return total

    def _result(self, keyword: str, index: int, engine: str | None = None) -> pages.Result:
        cfg = self.config
        name = self.result_name(keyword, index, engine)
        params: list[str] = []
        fault = cfg.faults.get(keyword, {}).get(index)
        if fault:
            params.append(fault.lstrip("?&"))
        every = cfg.duplicate_every
        if every > 0 and index > 0 and index % every == 0:
            source = index - 1
            while source > 0 and source % every == 0:  # every=1: all copy result 0
                source -= 1
            params.append(urlencode({"same_as": self.result_name(keyword, source, engine)}))
        query = "&".join(params)
        width, height = cfg.image_size
        url = f"{self._image_base(index)}/img/{name}.jpg" + (f"?{query}" if query else "")
        if "dead=1" in params:  # the result points at a host that refuses connections
            url = self.dead_url()
        return pages.Result(
            index=index,
            image_url=url,
            page_url=f"{self.base_url}/page/{name}.html",
            thumbnail_url=f"{self.base_url}/th?id=OIP.{name}&pid=15.1",
            title=pages.result_title(keyword, index),
            width=width,
            height=height,
        )

    def _image_base(self, index: int) -> str:
        if self.image_hosts == 1:
            return self.base_url
        return f"http://127.0.0.{index % self.image_hosts + 1}:{self.port}"

    def _results(self, keyword: str, start: int, count: int,
                 engine: str | None = None) -> list[pages.Result]:
        end = min(self._total(keyword, engine), start + max(count, 0))
        return [self._result(keyword, i, engine) for i in range(max(start, 0), end)]

    # ------------------------------------------------------------ handlers

    @web.middleware
    async def _count_hits(self, request: web.Request, handler: Any) -> web.StreamResponse:
        with self._lock:
            self._hits[request.path] += 1
            self._agents[request.path, request.headers.get("User-Agent", "")] += 1
        return await handler(request)

    def _nth_request(self, request: web.Request) -> int:
        """0-based index of this request among those for the same URL (for "first N fail")."""
        with self._lock:
            n = self._url_requests[request.path_qs]
            self._url_requests[request.path_qs] = n + 1
            return n

    async def _robots(self, request: web.Request) -> web.Response:
        lines = ["User-agent: *"]
        lines += [f"Disallow: {p}" for p in self.config.robots_disallow] or ["Disallow:"]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    async def _image(self, request: web.Request) -> web.StreamResponse:
        name, _, ext = request.match_info["file"].rpartition(".")
        ext = ext.lower()
        if not name or ext not in images.FORMATS:
            raise web.HTTPNotFound()
        q = request.query
        nth = self._nth_request(request)
        await self._pause(self.config.latency + float(q.get("latency", 0) or 0))
        if _flag(q, "status404"):
            raise web.HTTPNotFound(text="not found")
        hops = _int(q, "redirect")
        if hops > 0:
            query = dict(q)
            query["redirect"] = str(hops - 1)
            raise web.HTTPFound(f"{self.base_url}{request.path}?{urlencode(query)}")
        failed_before = 0
        for key, status in (("status429", 429), ("status503", 503), ("status500", 500)):
            n = _int(q, key)
            if nth < failed_before + n:
                headers = {}
                if status != 500 and "retry_after" in q:
                    headers["Retry-After"] = q["retry_after"]
                return web.Response(status=status, text=f"fake {status}", headers=headers)
            failed_before += n
        if _flag(q, "bomb"):
            return web.Response(
                body=images.decompression_bomb_png(), headers={"Content-Type": "image/png"}
            )
        if _flag(q, "huge"):
            return await self._huge(request)
        body = images.render(q.get("same_as", name), ext, self.config.image_size)
        ctype = images.content_type(ext)
        if _flag(q, "html"):
            body = images.html_pretending_to_be_image(name)
        if _flag(q, "wrongtype"):
            ctype = "text/html; charset=utf-8"
        if _flag(q, "hang"):
            return await self._hang(request, body, ctype)
        if "drip" in q:
            return await self._drip(request, body, ctype, float(q["drip"]))
        if _flag(q, "truncate"):
            resp = web.StreamResponse(headers={"Content-Type": ctype})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            await resp.write_eof()
            return resp
        if _flag(q, "cut"):
            return await self._cut(request, body, ctype)
        headers = CIMultiDict({"Content-Type": ctype})
        for value in q.getall("xrobots", ()):
            headers.add("X-Robots-Tag", value)
        return web.Response(body=body, headers=headers)

    async def _hang(self, request: web.Request, body: bytes, ctype: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": ctype})
        resp.content_length = len(body)
        await resp.prepare(request)
        await resp.write(body[:64])
        await self._pause(3600)
        self._drop(request)
        return resp

    async def _drip(self, request: web.Request, body: bytes, ctype: str,
                    every: float) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": ctype})
        resp.content_length = len(body)
        await resp.prepare(request)
        for i in range(len(body)):
            await resp.write(body[i : i + 1])
            await self._pause(every)
        await resp.write_eof()
        return resp

    async def _cut(self, request: web.Request, body: bytes, ctype: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": ctype})
        resp.content_length = len(body)
        await resp.prepare(request)
        await resp.write(body[: len(body) // 2])
        self._drop(request)
        return resp

    @staticmethod
    def _drop(request: web.Request) -> None:
        """End the connection mid-body, as a dying server or proxy would."""
        if request.transport is not None:
            request.transport.abort()

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        total = max(1, _int(q, "huge_mb", 64)) * 1024 * 1024
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        if _flag(q, "huge_length"):
            resp.content_length = total
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        prefix = images.huge_jpeg_prefix()
        sent = 0
        try:
            await resp.write(prefix)
            sent = len(prefix)
            while sent < total:
                if self._stopping is not None and self._stopping.is_set():
                    self._drop(request)
                    return resp
                block = _HUGE_BLOCK[: total - sent]
                await resp.write(block)
                sent += len(block)
            await resp.write_eof()
        except ConnectionError:  # the client gave up at its byte limit, as it should
            pass
        return resp

    async def _thumbnail(self, request: web.Request) -> web.Response:
        ident = request.query.get("id", "")
        name = ident.removeprefix("OIP.")
        if not name:
            raise web.HTTPNotFound()
        body = images.render(name, "jpg", (80, 60))
        return web.Response(body=body, headers={"Content-Type": "image/jpeg"})

    async def _result_page(self, request: web.Request) -> web.Response:
        name = request.match_info["file"].removesuffix(".html")
        base, _, index = name.rpartition("-")
        if not base or not index.isdigit():
            raise web.HTTPNotFound()
        image_url = f"{self.base_url}/img/{name}.jpg"
        text = pages.result_page_html(base, int(index), image_url)
        return web.Response(text=text, content_type="text/html")

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops so stop() never waits on latency."""
        if seconds > 0 and self._stopping is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _search_delay(self) -> None:
        await self._pause(self.config.search_latency)

    def _bing_window(self, request: web.Request) -> tuple[str, int, list[pages.Result]]:
        q = request.query
        keyword = q.get("q", "")
        first = max(_int(q, "first", 1), 1)  # Bing's offset is 1-based
        count = min(max(_int(q, "count", pages.BING_PAGE_SIZE), 1), 150)
        return keyword, first, self._results(keyword, first - 1, count, "bing")

    def _bing_gate(self, request: web.Request) -> web.StreamResponse | None:
        if "bing" in self.config.blocked:
            raise web.HTTPFound(f"/turing/captcha/challenge?{urlencode({'rurl': request.path_qs})}")
        if "bing" in self.config.broken:
            return web.Response(text=pages.unrecognisable_page("Bing"), content_type="text/html")
        return None

    async def _bing_search(self, request: web.Request) -> web.StreamResponse:
        await self._search_delay()
        gated = self._bing_gate(request)
        if gated is not None:
            return gated
        keyword, first, results = self._bing_window(request)
        text = pages.bing_search_page(keyword, results, first)
        return web.Response(text=text, content_type="text/html")

    async def _bing_async(self, request: web.Request) -> web.StreamResponse:
        await self._search_delay()
        gated = self._bing_gate(request)
        if gated is not None:
            return gated
        keyword, first, results = self._bing_window(request)
        text = pages.bing_async_fragment(keyword, results, first)
        return web.Response(text=text, content_type="text/html")

    async def _bing_captcha(self, request: web.Request) -> web.Response:
        return web.Response(text=pages.bing_captcha_page(), content_type="text/html")

    async def _ddg_page(self, request: web.Request) -> web.Response:
        await self._search_delay()
        keyword = request.query.get("q")
        if not keyword:
            return web.Response(
                text="<!DOCTYPE html><html><head><title>DuckDuckGo</title></head>"
                "<body><form action='/'><input name='q'></form></body></html>",
                content_type="text/html",
            )
        return web.Response(text=pages.ddg_vqd_page(keyword), content_type="text/html")

    async def _ddg_ijs(self, request: web.Request) -> web.Response:
        await self._search_delay()
        q = request.query
        keyword = q.get("q", "")
        # DuckDuckGo refuses i.js without a Referer or with a token for another query.
        if (
            "duckduckgo" in self.config.blocked
            or not request.headers.get("Referer")
            or q.get("vqd") != pages.ddg_vqd(keyword)
        ):
            return web.Response(status=403, text="", content_type="text/html")
        if "duckduckgo" in self.config.broken:
            return web.Response(
                text=pages.unrecognisable_page("DuckDuckGo"), content_type="text/html"
            )
        offset = max(_int(q, "s"), 0)
        results = self._results(keyword, offset, pages.DDG_PAGE_SIZE, "duckduckgo")
        has_more = offset + len(results) < self._total(keyword, "duckduckgo")
        text = pages.ddg_ijs(keyword, results, offset, has_more)
        return web.Response(text=text, content_type="application/json")
