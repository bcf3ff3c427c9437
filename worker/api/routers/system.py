"""Server facts for clients: which engines exist; whether database, broker and workers are up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from celery import Celery
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from worker.api.deps import UserId
from worker.api.schemas import EngineHealthOut, EngineOut, EngineTermsOut, EngineUsageOut
from worker.crawl.engines import ENGINES, engine_status, env_name
from worker.crawl.health import DEFAULT_QUERY, check_engines
from worker.crawl.terms import terms_of
from worker.crawl.usage import read as read_usage
from worker.crawl.usage import usage_path
from worker.engine_config import engines_to_check

if TYPE_CHECKING:
    from worker.crawl.search_limit import SearchLimiter

router = APIRouter(tags=["system"])


@router.get("/engines", response_model=list[EngineOut])
def engines(request: Request) -> list[EngineOut]:
    """Every engine, whether this server can use it (and if not, which setting is missing),
    and the filters it applies."""
    settings = request.app.state.settings
    out = []
    for name, cls in ENGINES.items():
        state = engine_status(name, settings.api_key)
        values = {f: sorted(v, key=str) for f, v in cls.supports.items() if v}
        out.append(EngineOut(name=name, label=cls.label, kind=cls.kind,
                             available=state.available, reason=state.reason,
                             key_setting=env_name(cls.key_setting) if cls.key_setting else None,
                             filters=sorted(values), filter_values=values,
                             search_rate=settings.search_rate(name),
                             page_size=cls.page_size, terms=_terms(name),
                             usage=_usage(settings.data_dir, name)))
    return out


def _usage(data_dir: Path, name: str) -> EngineUsageOut | None:
    used = read_usage(usage_path(data_dir, name)) if terms_of(name).states_budget else None
    if used is None:
        return None
    return EngineUsageOut(limit=used.limit, remaining=used.remaining,
                          resets_at=datetime.fromtimestamp(used.resets_at, UTC))


def _terms(name: str) -> EngineTermsOut:
    t = terms_of(name)
    return EngineTermsOut(summary=t.summary, url=t.url, warning=t.warning, notes=list(t.notes))


ENGINE_HEALTH_TTL = 60.0  # a check makes real requests to every engine; don't repeat it often


def search_limiter(request: Request) -> SearchLimiter:
    """The crawl's own search quota (one schedule with the workers), made at first use."""
    state = request.app.state
    limiter = getattr(state, "search_limiter", None)
    if limiter is None:
        from worker.crawl.search_limit import make_search_limiter  # not needed to start

        settings = state.settings
        limiter = state.search_limiter = make_search_limiter(
            settings.search_rate, settings.ratelimit_storage_url,
            settings.data_dir / "ratelimit")
    return limiter


@router.get("/engines/health", response_model=list[EngineHealthOut])
async def engines_health(
    request: Request, user_id: UserId,
    engine: Annotated[list[str] | None, Query(description="Engines to check (default: all)")]
    = None,
    query: Annotated[str, Query(min_length=1, max_length=200)] = DEFAULT_QUERY,
) -> list[EngineHealthOut]:
    """One small real query per engine: ok / zero_results / format_not_recognised / blocked /
    unavailable / failed, with timing. Answers are reused for a minute.

    Each call counts against the user's limit (cached or not, so a new query each time gains
    nothing); each query takes a slot of the engine's search quota, shared with crawls, and
    goes through the crawl's network guard."""
    settings = request.app.state.settings
    request.app.state.limiter.check(settings.engine_health_rate_limit, "engine-health",
                                    str(user_id))
    names = tuple(dict.fromkeys(engine or ENGINES))
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        permitted = ", ".join(f"'{n}'" for n in ENGINES)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            detail=f"unknown engine {unknown[0]!r}; permitted: {permitted}")
    cache: dict = request.app.state.engine_health
    key = (names, query)
    async with request.app.state.engine_health_lock:
        hit = cache.get(key)
        if hit is None or time.monotonic() - hit[0] > ENGINE_HEALTH_TTL:
            engines = engines_to_check(settings, names)
            found = await check_engines(
                engines, query, allow_private=bool(settings.allow_private_addresses),
                limiter=search_limiter(request))
            now = time.monotonic()
            for old in [k for k, v in cache.items() if now - v[0] > ENGINE_HEALTH_TTL]:
                del cache[old]  # one entry per query asked: keep only the live ones
            hit = cache[key] = (now, found)
    return [EngineHealthOut(**r.as_dict()) for r in hit[1]]


class CachedProbe:
    """Runs a slow check at most every `ttl` seconds, one caller at a time, so /health stays
    cheap enough to poll while the broker and worker checks can take up to a second."""

    def __init__(self, check: Callable[[], dict], ttl: float = 5.0,
                 failed_ttl: float = 1.0) -> None:
        self._check = check
        self._ttl = ttl
        self._failed_ttl = failed_ttl  # a failure is checked again sooner: it may be startup
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._value: dict | None = None  # nothing known until the first check ends

    def status(self) -> dict:
        value = self._value
        if value is not None:
            ttl = self._ttl if value.get("ok") else self._failed_ttl
            if time.monotonic() - self._at < ttl or not self._lock.acquire(blocking=False):
                return value
        else:
            self._lock.acquire()  # the first callers wait for the first answer
            if self._value is not None:
                self._lock.release()
                return self._value
        try:
            self._value = self._check()
        except Exception as exc:
            self._value = {"ok": False, "error": _first_line(exc)}
        finally:
            self._at = time.monotonic()
            self._lock.release()
        return self._value


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def broker_check(celery: Celery) -> Callable[[], dict]:
    def check() -> dict:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    return check


def worker_check(celery: Celery) -> Callable[[], dict]:
    def check() -> dict:
        replies = celery.control.ping(timeout=1.0) or []
        names = sorted(name for reply in replies for name in reply)
        return {"ok": bool(names), "count": len(names), "names": names}
    return check


@router.get("/health/live")
def live() -> dict[str, str]:
    """The API serves (its database is migrated before it does): what a starting embedded
    backend waits for, without /health's worker ping, which takes a second while no worker
    answers yet."""
    return {"status": "ok"}


@router.get("/health")
def health(request: Request) -> JSONResponse:
    state = request.app.state
    try:
        with state.sessions() as db:
            db.execute(text("SELECT 1"))
        database = {"ok": True}
    except Exception as exc:
        database = {"ok": False, "error": _first_line(exc)}
    broker = state.broker_probe.status()
    workers = state.worker_probe.status()
    ok = database["ok"] and broker["ok"]
    body = {"status": ("ok" if workers["ok"] else "degraded") if ok else "unavailable",
            "database": database, "broker": broker, "workers": workers}
    return JSONResponse(body, status_code=200 if ok else 503)
