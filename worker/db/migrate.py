"""Apply Alembic migrations from code, so `pixcrawler-api` brings a database up to date."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from worker.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(settings: Settings) -> None:
    settings.prepare_dirs()
    command.upgrade(alembic_config(settings.database_url), "head")
