"""What the API process loads at start: the embedded backend is ready when the API serves, so
its imports are the backend's start time (issue 15: at most 1.5 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from worker.db.migrate import HEAD, alembic_config

# Modules only the worker or the export needs; each costs the API 0.1-0.3 s to import.
NOT_AT_START = {"numpy", "PIL", "aiohttp", "alembic"}


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
    return {**env, "PIXCRAWLER_MODE": "embedded", "PIXCRAWLER_DATA_DIR": str(data_dir)}


def _probe(code: str, data_dir: Path) -> list[str]:
    """Run `code` in a new interpreter; which of NOT_AT_START it loaded."""
    code += ("\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
             f" & set({sorted(NOT_AT_START)!r}))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(data_dir), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_head_names_the_newest_migration():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_current_head() == HEAD


def test_api_starts_without_worker_only_modules(tmp_path):
    loaded = _probe("from worker.settings import load_settings\n"
                    "from worker.api.app import create_app\n"
                    "create_app(load_settings())", tmp_path)
    assert loaded == []


def test_migrations_run_once_then_alembic_stays_unloaded(tmp_path):
    upgrade = ("from worker.settings import load_settings\n"
               "from worker.db.migrate import upgrade, current_revision\n"
               "s = load_settings(); upgrade(s); print(current_revision(s.database_url))")
    first = subprocess.run([sys.executable, "-c", upgrade], capture_output=True, text=True,
                           env=_env(tmp_path), check=True)
    assert first.stdout.split()[-1] == HEAD
    assert _probe(upgrade, tmp_path) == []
