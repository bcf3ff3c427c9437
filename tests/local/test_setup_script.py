"""scripts/setup.sh (run.sh calls it at every launch): pip runs only when pyproject.toml or the
environment's Python changed, quietly, and a failed install shows pip's output.

The environment is a folder whose `bin/python` is a small script standing in for the
interpreter: it notes each call (and fails when told to), so the test sees exactly what the
set-up runs without installing anything into a real environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script")

FAKE_PYTHON = """#!/bin/sh
echo "$PYTHONWARNINGS $*" >> "$(dirname "$0")/../calls"
if [ -e "$(dirname "$0")/../fail" ]; then
  echo "pip: something went wrong" >&2
  exit 1
fi
echo "setuptools: an editable-install warning nobody needs to read" >&2
"""


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    python = folder / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    (folder / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.7\n")
    return folder


def setup(venv: Path, extras: str = "parquet") -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh"), extras],
                          env={**os.environ, "VENV": str(venv)}, capture_output=True,
                          text=True, timeout=60)


def calls(venv: Path) -> list[str]:
    path = venv / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_installs_once_quietly_then_not_again(venv):
    first = setup(venv)
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.strip().startswith("setup: installing PixCrawler into")
    assert len(first.stderr.strip().splitlines()) == 1  # no pip or setuptools output
    installs = calls(venv)
    assert [c.split()[0] for c in installs] == ["ignore", "ignore"]  # PYTHONWARNINGS
    assert installs[-1].endswith("-e .[parquet]")
    assert all("--no-warn-script-location" in c and " -q " in c for c in installs)

    again = setup(venv)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert calls(venv) == installs  # nothing ran

    other = setup(venv, "test")  # other extras: their own stamp
    assert other.returncode == 0 and calls(venv)[-1].endswith("-e .[test]")


def test_a_changed_python_installs_again(venv):
    assert setup(venv).returncode == 0
    before = len(calls(venv))
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n")
    assert setup(venv).returncode == 0
    assert len(calls(venv)) == before + 2


def test_a_failed_install_shows_why_and_is_tried_again(venv):
    (venv / "fail").touch()
    failed = setup(venv)
    assert failed.returncode == 1
    assert "pip: something went wrong" in failed.stderr
    assert "installing PixCrawler into" in failed.stderr and "failed" in failed.stderr
    (venv / "fail").unlink()
    assert setup(venv).returncode == 0  # no stamp was left by the failure
    assert calls(venv)[-1].endswith("-e .[parquet]")
