"""Engine health: one small real query per engine, so users know which engines work today.

Search sites change their pages and block scrapers without notice; a check says, per engine,
whether a query gave results, gave none, came back in a format we no longer read, or was
refused, and how long it took.

A check is a crawl's query as far as the outside world can tell, so it keeps the crawl's rules:
the network guard (no private addresses unless allowed) and the engine's search quota. An
engine whose quota has no slot free now answers so, without querying.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from worker.crawl.engines import Engine
from worker.crawl.types import EngineBlocked, EngineError, EngineFormatError, ServiceDown

if TYPE_CHECKING:
    import aiohttp

    from worker.crawl.search_limit import SearchLimiter

OK = "ok"
ZERO_RESULTS = "zero_results"
FORMAT_NOT_RECOGNISED = "format_not_recognised"
BLOCKED = "blocked"
UNAVAILABLE = "unavailable"
FAILED = "failed"  # network errors, timeouts, other HTTP errors
QUOTA_USED = UNAVAILABLE  # no search slot free now (the API's status list has no own name)

DEFAULT_QUERY = "cat"
DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class EngineHealth:
    name: str
    status: str
    results: int = 0
    elapsed_ms: int = 0
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def check_engine(
    engine: Engine, session: aiohttp.ClientSession, query: str = DEFAULT_QUERY,
    timeout: float = DEFAULT_TIMEOUT,
) -> EngineHealth:
    """First page of ``query`` on ``engine``, classified."""
    import aiohttp  # here, not at the top: the API process starts without the HTTP client

    started = time.perf_counter()

    def result(status: str, results: int = 0, message: str | None = None) -> EngineHealth:
        elapsed = round((time.perf_counter() - started) * 1000)
        return EngineHealth(engine.name, status, results, elapsed, message)

    try:
        page = await asyncio.wait_for(engine.search(session, query), timeout)
    except EngineBlocked as exc:
        return result(BLOCKED, message=str(exc))
    except EngineFormatError as exc:
        return result(FORMAT_NOT_RECOGNISED, message=str(exc))
    except EngineError as exc:
        return result(FAILED, message=_refused(engine, exc) or str(exc))
    except TimeoutError:
        return result(FAILED, message=f"{engine.name}: no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return result(FAILED, message=_refused(engine, exc)
                      or f"{engine.name}: {type(exc).__name__}: {exc}")
    if not page.candidates:
        return result(ZERO_RESULTS, message=f"{engine.name}: no results for {query!r}")
    return result(OK, len(page.candidates))


def _refused(engine: Engine, exc: BaseException) -> str | None:
    """The network guard's reason, when it is what stopped the query."""
    from worker.crawl.netguard import find_refusal

    refusal = find_refusal(exc)
    return f"{engine.name}: {refusal}" if refusal is not None else None


async def check_engines(
    engines: Mapping[str, Engine | str], query: str = DEFAULT_QUERY,
    timeout: float = DEFAULT_TIMEOUT, *, allow_private: bool = False,
    limiter: SearchLimiter | None = None,
) -> list[EngineHealth]:
    """Check every engine at once; a string in place of an engine is why it is unavailable.

    Connections to private, loopback and link-local addresses are refused unless
    ``allow_private`` (tests, embedded mode), as the crawl's are; with a ``limiter`` each
    query takes a slot of its engine's search quota first."""
    import aiohttp

    from worker.crawl.netguard import GuardedResolver, guarded_socket_factory

    connector = None if allow_private else aiohttp.TCPConnector(
        resolver=GuardedResolver(), socket_factory=guarded_socket_factory)
    async with aiohttp.ClientSession(connector=connector) as session:
        checks = [
            _checked(engine, session, query, timeout, limiter)
            if isinstance(engine, Engine)
            else _unavailable(name, engine)
            for name, engine in engines.items()
        ]
        return list(await asyncio.gather(*checks))


async def _checked(engine: Engine, session: aiohttp.ClientSession, query: str, timeout: float,
                   limiter: SearchLimiter | None) -> EngineHealth:
    """The check, if the engine's search quota has a slot free now."""
    if limiter is not None:
        try:
            wait = await asyncio.to_thread(limiter.book, engine.name, 0.0)
        except ServiceDown as exc:
            return EngineHealth(engine.name, FAILED, message=f"{engine.name}: {exc}")
        if wait > 0:  # no slot free now; the later one is left to the crawl
            rate = limiter.rates(engine.name)
            return EngineHealth(
                engine.name, QUOTA_USED,
                message=f"{engine.name}: search quota ({rate}) in use; its next query is "
                        f"possible in {max(1, round(wait))} s")
    return await check_engine(engine, session, query, timeout)


async def _unavailable(name: str, reason: str) -> EngineHealth:
    return EngineHealth(name, UNAVAILABLE, message=f"{name}: {reason}")
