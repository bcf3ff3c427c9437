"""Engine health: one small real query per engine, so users know which engines work today.

Search sites change their pages and block scrapers without notice; a check says, per engine,
whether a query gave results, gave none, came back in a format we no longer read, or was
refused, and how long it took.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from worker.crawl.engines import Engine
from worker.crawl.types import EngineBlocked, EngineError, EngineFormatError

if TYPE_CHECKING:
    import aiohttp

OK = "ok"
ZERO_RESULTS = "zero_results"
FORMAT_NOT_RECOGNISED = "format_not_recognised"
BLOCKED = "blocked"
UNAVAILABLE = "unavailable"
FAILED = "failed"  # network errors, timeouts, other HTTP errors

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
        return result(FAILED, message=str(exc))
    except TimeoutError:
        return result(FAILED, message=f"{engine.name}: no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return result(FAILED, message=f"{engine.name}: {type(exc).__name__}: {exc}")
    if not page.candidates:
        return result(ZERO_RESULTS, message=f"{engine.name}: no results for {query!r}")
    return result(OK, len(page.candidates))


async def check_engines(
    engines: Mapping[str, Engine | str], query: str = DEFAULT_QUERY,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[EngineHealth]:
    """Check every engine at once; a string in place of an engine is why it is unavailable."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        checks = [
            check_engine(engine, session, query, timeout)
            if isinstance(engine, Engine)
            else _unavailable(name, engine)
            for name, engine in engines.items()
        ]
        return list(await asyncio.gather(*checks))


async def _unavailable(name: str, reason: str) -> EngineHealth:
    return EngineHealth(name, UNAVAILABLE, message=f"{name}: {reason}")
