"""Running the CLI in tests: in-process through `main` (fast, output captured) or as a real
`python -m pixcrawler_desktop.cli` subprocess (signals, exit codes, child processes).

Every test gets its own CLI config folder and a keyring that is unavailable, so no test ever
reads or writes the real user's config or keyring.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pixcrawler_desktop.cli import main
from pixcrawler_desktop.client import MemoryTokenStore, TokenStore
from tests.fakeweb.server import FakeWeb, FakeWebConfig
from tests.support.stack import ROOT, UNLIMITED_SEARCH

NO_KEYRING = "keyring.backends.fail.Keyring"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)

    def json_lines(self) -> list:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cli-config"
    monkeypatch.setenv("PIXCRAWLER_CLI_CONFIG_DIR", str(folder))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", NO_KEYRING)
    return folder


class Cli:
    """`main` in this process, with one token store kept across calls (as a keyring would)."""

    def __init__(self, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
                 store: TokenStore) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.store = store

    def __call__(self, *argv: str, stdin: str = "") -> Result:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv), token_store=self.store)
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)


@pytest.fixture
def cli(capsys, monkeypatch) -> Cli:
    return Cli(capsys, monkeypatch, MemoryTokenStore())


def cli_env(*, config_dir: Path, data_dir: Path | None = None,
            fakeweb: FakeWeb | None = None) -> dict[str, str]:
    """The environment of a CLI subprocess: no PIXCRAWLER_* of the caller's, the fake web as
    the engines, a search rate limit that never waits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
    env.update({"PIXCRAWLER_CLI_CONFIG_DIR": str(config_dir), "PYTHONUNBUFFERED": "1",
                "PYTHON_KEYRING_BACKEND": NO_KEYRING,
                **UNLIMITED_SEARCH,
                "PIXCRAWLER_CHUNK_HEARTBEAT": "0.5", "PIXCRAWLER_EVENTS_INTERVAL": "0.2"})
    if data_dir is not None:
        env["PIXCRAWLER_DATA_DIR"] = str(data_dir)
    if fakeweb is not None:
        env.update(fakeweb.engine_env())
    return env


def spawn(argv: Sequence[str], env: dict[str, str], cwd: Path,
          stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen:
    # PYTHONPATH so the subprocess imports this checkout even if the venv's install is stale
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                              env.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "pixcrawler_desktop.cli", *argv], env=env,
                            cwd=cwd, stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture
def web(fakeweb: FakeWeb) -> Iterator[FakeWeb]:
    """The session's fake web at its defaults, and left that way for the next test."""
    fakeweb.config = FakeWebConfig()
    fakeweb.reset()
    yield fakeweb
    fakeweb.config = FakeWebConfig()
    fakeweb.reset()
