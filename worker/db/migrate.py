"""Apply Alembic migrations from code, so `pixcrawler-api` brings a database up to date.

Alembic is only imported when the database is behind: the API checks the stored revision with
one query first, since importing and running Alembic on an up-to-date database is a fifth of
the embedded backend's start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from worker.db.session import make_engine
from worker.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0009"  # the newest revision in migrations/versions (a test keeps the two equal)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def current_revision(database_url: str) -> str | None:
    """The database's Alembic revision, or None when it has none (new, or not ours yet)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def upgrade(settings: Settings) -> None:
    settings.prepare_dirs()
    if current_revision(settings.database_url) == HEAD:
        return
    from alembic import command

    command.upgrade(alembic_config(settings.database_url), "head")
