"""Engines as this server is configured: base URL overrides, API keys and a job's filters."""

from __future__ import annotations

from collections.abc import Iterable

from worker.crawl.answer_cache import AnswerCache
from worker.crawl.engines import ENGINES, Engine, engine_class, engine_status, make_engine
from worker.crawl.filters import SearchFilters
from worker.crawl.terms import terms_of
from worker.crawl.usage import usage_path
from worker.settings import Settings


def configured_engine(settings: Settings, name: str, filters: SearchFilters | None = None
                      ) -> Engine:
    """Engine ``name`` with the server's key for it; raises EngineUnavailable without one."""
    cls = engine_class(name)
    setting = cls.key_setting
    # An API is told who we are; a search site's markup is only served to browsers.
    options = {"user_agent": settings.user_agent} if cls.kind == "api" else {}
    engine = make_engine(name, settings.engine_url(name),
                         api_key=settings.api_key(setting) if setting else None,
                         filters=filters, **options)
    terms = terms_of(name)
    if terms.keep_answers_hours:
        engine.answers = AnswerCache(settings.data_dir / "cache" / name,
                                     terms.keep_answers_hours * 3600)
    if terms.states_budget:
        engine.usage_file = usage_path(settings.data_dir, name)
    return engine


def engines_to_check(settings: Settings, names: Iterable[str] | None = None
                     ) -> dict[str, Engine | str]:
    """Each engine (all by default), or the reason it is unavailable here."""
    found: dict[str, Engine | str] = {}
    for name in names or ENGINES:
        state = engine_status(name, settings.api_key)
        found[name] = configured_engine(settings, name) if state.available else str(state.reason)
    return found
