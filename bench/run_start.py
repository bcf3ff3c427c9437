"""`./run.sh` to the main window through "This computer": how long each part takes.

    .venv/bin/python bench/run_start.py [--runs 3] [--venv .venv]

Parts, each timed from its own start:
- run.sh's own cost: `./run.sh --version` (the set-up check, which installs nothing when
  pyproject.toml has not changed, then Python answering --version);
- the app: a process running what `python -m pixcrawler_desktop` runs (`app.build`), which
  clicks Start on "This computer" as soon as the sign-in window is up: time to the sign-in
  window, then from the click to the main window (the backend starts, the local account signs
  in), on a brand-new data folder (the first run: database made and migrated) and again on
  the same folder.

Goal (issue 18): from "This computer" to the main window in at most 5 s. Runs offscreen
(QT_QPA_PLATFORM=offscreen) with throw-away user folders, so it never touches the real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 5.0


def child() -> None:
    """In the app's process: click Start once the sign-in window shows, report, quit."""
    t0 = float(os.environ["RUN_START_T0"])
    from PySide6.QtCore import Qt, QTimer

    from pixcrawler_desktop.app import build

    times: dict[str, float] = {}
    app, controller = build([])
    times["sign_in_window"] = time.time() - t0

    def click() -> None:
        dialog = controller.dialog
        assert dialog is not None and dialog.is_local(), "This computer is not the choice"
        times["click"] = time.time() - t0
        dialog.sign_in_button.click()

    def shown(_window: object) -> None:
        times["main_window"] = time.time() - t0
        print(json.dumps(times), flush=True)
        QTimer.singleShot(0, app.quit)  # quitting stops the backend (controller.shutdown)

    def event(message: str) -> None:  # from the starting thread, as it happens
        if message.startswith(("started the backend", "attached to the backend")):
            times["backend_ready"] = time.time() - t0

    controller.local.event.connect(event, Qt.ConnectionType.DirectConnection)
    controller.window_shown.connect(shown)
    QTimer.singleShot(0, click)
    app.exec()


def run_app(env: dict[str, str], venv: Path) -> dict[str, float]:
    t0 = time.time()
    proc = subprocess.run([str(venv / "bin" / "python"), __file__, "--child"], cwd=ROOT,
                          env={**env, "RUN_START_T0": repr(t0)}, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"the app run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    times["exit"] = time.time() - t0
    return times


def run_sh(env: dict[str, str], venv: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([str(ROOT / "run.sh"), "--version"], cwd=ROOT,
                          env={**env, "VENV": str(venv)}, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"run.sh --version: exit {proc.returncode}, stderr {proc.stderr!r}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    args = parser.parse_args()
    if args.child:
        child()
        return
    venv = args.venv.resolve()
    home = Path(tempfile.mkdtemp(prefix="pixcrawler-run-start-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_STATE_HOME=str(home / "state"), XDG_DATA_HOME=str(home / "data"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               PYTHONPATH=str(ROOT))
    try:
        measure(args, env, venv, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def measure(args: argparse.Namespace, env: dict[str, str], venv: Path, home: Path) -> None:
    print("run.sh --version (set-up check + Python): "
          + ", ".join(f"{run_sh(env, venv):.2f} s" for _ in range(args.runs)))
    first: list[dict[str, float]] = []
    again: list[dict[str, float]] = []
    for n in range(args.runs):
        data = home / f"data-{n}"
        first.append(run_app({**env, "PIXCRAWLER_DATA_DIR": str(data)}, venv))
        again.append(run_app({**env, "PIXCRAWLER_DATA_DIR": str(data)}, venv))
    for name, runs in (("new data folder", first), ("same folder again", again)):
        to_window = [r["main_window"] - r["click"] for r in runs]
        print(f"{name}: sign-in window {statistics.median(r['sign_in_window'] for r in runs):.2f}"
              f" s; Start -> main window "
              + ", ".join(f"{t:.2f}" for t in to_window)
              + f" s (median {statistics.median(to_window):.2f}, goal {GOAL:.0f}; backend "
              f"ready after {statistics.median(r['backend_ready'] - r['click'] for r in runs):.2f}"
              " s of it); launch -> "
              f"main window median {statistics.median(r['main_window'] for r in runs):.2f} s;"
              f" process gone after {statistics.median(r['exit'] for r in runs):.2f} s")


if __name__ == "__main__":
    main()
