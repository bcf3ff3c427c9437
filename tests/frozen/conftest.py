"""The frozen build, made once per test session: PyInstaller takes a minute or two, and every
test here only reads the folder it produced.

It is built into pytest's temporary folder (never dist/ or build/ in the checkout) by
scripts/build.sh, so the script users run is the one tested. The script builds from its own
environment (.venv-build), so it never reinstalls anything the other tests import. On a new
machine it first compiles numpy without BLAS, which is most of BUILD_TIMEOUT.
"""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.conftest import IN_CI
from tests.support.stack import ROOT

BUILD_TIMEOUT = 2700


@dataclass(frozen=True)
class FrozenApp:
    folder: Path  # dist/PixCrawler: what an installer would ship

    @property
    def executable(self) -> Path:
        return self.folder / "PixCrawler"

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"

    def processes(self) -> list[psutil.Process]:
        """Live processes running this bundle's executable (the app and every role it
        started), found by their executable path, not by name."""
        found = []
        for proc in psutil.process_iter(["exe"]):
            exe = proc.info.get("exe")
            with contextlib.suppress(psutil.Error):
                if exe and Path(exe).is_relative_to(self.folder) \
                        and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
        return found


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenApp]:
    if importlib.util.find_spec("PyInstaller") is None:
        message = "PyInstaller is not installed (the `build` extra)"
        if IN_CI:
            pytest.fail(message + ": CI must install it to test the frozen build")
        pytest.skip(message)
    work = tmp_path_factory.mktemp("frozen")
    log = work / "build.log"
    with log.open("wb") as out:
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build.sh"), "--distpath", str(work / "dist"),
             "--workpath", str(work / "work")],
            cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=BUILD_TIMEOUT)
    output = log.read_text(errors="replace")
    assert result.returncode == 0, f"the build failed:\n{output[-4000:]}"
    app = FrozenApp(work / "dist" / "PixCrawler")
    assert f"Built {app.folder}" in output
    yield app
    # A test that failed half-way may have left roles of the bundle running; they are ours
    # for certain (their executable lives in this session's temporary folder).
    for proc in app.processes():
        with contextlib.suppress(psutil.Error):
            proc.kill()
