"""./run.sh on a machine without a display: a clear message and the CLI to use, exit 0, and
never a Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="these always have a display")
def test_run_sh_without_a_display_points_to_the_cli():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([str(ROOT / "run.sh")], env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "no display" in done.stdout
    assert ('.venv/bin/pixcrawler crawl "red fox" --engines bing,duckduckgo --max-images 20 '
            "--out foxes") in done.stdout
    assert "qt.qpa" not in done.stdout + done.stderr  # Qt was never started
