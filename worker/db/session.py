"""Engine and session factory, tuned per database.

SQLite gets WAL and a long busy timeout so the API and several worker threads can write at once;
PostgreSQL gets a small pool with pre-ping so a restarted server does not break workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from worker.settings import Settings, get_settings


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url, connect_args={"timeout": 30, "check_same_thread": False},
            # As many as the API's thread pool (40): a connection opened past the pool is
            # closed after one use, and opening one (with its pragmas) costs more than a query.
            pool_size=40, max_overflow=10,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=20)


@lru_cache(maxsize=4)
def _factory(database_url: str) -> sessionmaker[Session]:
    return sessionmaker(make_engine(database_url), expire_on_commit=False)


def forget_connections() -> None:
    """In a freshly forked process: drop the parent's pooled connections without closing them
    (they belong to the parent), so the child opens its own."""
    for database_url in list(_opened):
        _factory(database_url).kw["bind"].dispose(close=False)


_opened: set[str] = set()


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    url = (settings or get_settings()).database_url
    _opened.add(url)
    return _factory(url)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
