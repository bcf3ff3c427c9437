"""FastAPI app factory: routers under /api/v1, every error as the seed's {"detail": ...}."""

from __future__ import annotations

import asyncio

from fastapi import Depends, FastAPI

from worker.api import errors, openapi_errors
from worker.api.body_guard import BodyGuard
from worker.api.deps import ids_in_range
from worker.api.ratelimit import RateLimiter
from worker.api.routers import auth, export, images, jobs, system, validation
from worker.api.routers.system import CachedProbe, broker_check, worker_check
from worker.api.snapshots import SnapshotCache
from worker.celery_app import make_celery
from worker.db.session import session_factory
from worker.settings import Settings, get_settings

API_PREFIX = "/api/v1"
# Sign-in bodies hold an email, a password (at most 256 characters) or a token: 16 KB is ample,
# and anyone can send them, so nothing bigger is read there.
AUTH_BODY_BYTES = 16 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.prepare_dirs()
    app = FastAPI(
        title="PixCrawler API",
        version="1.0.0",
        description="Crawl jobs and image validation, processed by Celery workers.",
        openapi_url="/openapi.json",
    )
    celery = make_celery(settings)
    app.state.settings = settings
    app.state.secret = settings.resolved_secret()
    app.state.sessions = session_factory(settings)
    app.state.celery = celery
    app.state.limiter = RateLimiter(settings.ratelimit_storage_url)
    app.state.snapshots = SnapshotCache(settings.progress_cache_seconds)
    app.state.broker_probe = CachedProbe(broker_check(celery))
    app.state.worker_probe = CachedProbe(worker_check(celery))
    app.state.engine_health = {}
    app.state.engine_health_lock = asyncio.Lock()

    for module in (auth, jobs, images, validation, export, system):
        app.include_router(module.router, prefix=API_PREFIX,
                           dependencies=[Depends(ids_in_range)])
    errors.install(app)
    openapi_errors.install(app)
    # Outermost after Starlette's own error middleware: bodies are bounded and checked
    # before any route, handler or other middleware reads them.
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes,
                       small={f"{API_PREFIX}/auth/": AUTH_BODY_BYTES})
    return app
