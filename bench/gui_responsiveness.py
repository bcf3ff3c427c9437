"""How responsive the desktop app stays, measured against peers in the same run.

1. UI-thread stalls: a 5 ms timer on the UI thread records the longest gap between its ticks
   while a 100-keyword × 2-engine job (200 chunks; only bing and duckduckgo exist, so this
   stands in for 50 keywords × 4 engines) streams progress into the job view and then the
   gallery fills with thumbnails, against a real API + Celery worker crawling the fake web
   (run in its own process so it does not compete for this process's GIL). Peer: the same
   window idle. Goal: longest stall under 50 ms.
2. Launch: time from starting a fresh process to the first painted window, for the app (its
   first window is the sign-in dialog) and for an empty QMainWindow, alternating, each run a
   new subprocess. Goal: the app at most 2× the empty window.

    .venv/bin/python bench/gui_responsiveness.py [--keywords 100] [--images 20] [--launches 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


# -- 1. stalls ---------------------------------------------------------------------------------
def start_fakeweb(results: int) -> tuple[subprocess.Popen, str]:
    from tests.support.stack import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakeweb", "--port", str(port),
                             "--results", str(results)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "listening" in line:
            return proc, f"http://127.0.0.1:{port}"
    raise RuntimeError("the fake web did not start")


class StallMeter:
    """Records the gaps between ticks of a timer that should fire every TICK_MS."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def summary(self) -> tuple[float, float, int]:
        ordered = sorted(self.gaps)
        return ordered[-1], ordered[int(len(ordered) * 0.99) - 1], len(ordered)


def run_until(done, timeout: float, step=None) -> None:
    """Run the real event loop until done() (checked every 100 ms, when `step()` also runs)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    timed_out = []

    def check() -> None:
        if done():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()
        elif step is not None:
            step()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(100)
    loop.exec()
    timer.stop()
    if timed_out:
        raise TimeoutError("a benchmark phase did not finish in time")


def open_window(stack, tmp: Path, name: str, keywords: int, engines: list[str],
                images: int):
    """A signed-in main window on a new job of `stack`: (app, client, job, window)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from pixcrawler_desktop.client import MemoryTokenStore, PixCrawlerClient
    from pixcrawler_desktop.ui.mainwindow import MainWindow
    from pixcrawler_desktop.ui.settings import AppSettings
    from pixcrawler_desktop.ui.tasks import TaskRunner
    from pixcrawler_desktop.ui.theme import Theme
    from pixcrawler_desktop.ui.thumbnails import ThumbnailCache

    app = QApplication.instance() or QApplication([])
    theme = Theme(app, "light")
    settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    client = PixCrawlerClient(stack.api_url, token_store=MemoryTokenStore())
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "bench password"
    client.register(email, password)
    user = client.login(email, password)
    job = client.create_job(name, [f"kw {i}" for i in range(keywords)], engines, images)
    window = MainWindow(client, user, settings, TaskRunner(4), TaskRunner(4), theme,
                        ThumbnailCache(tmp / "thumbs"))
    return app, client, job, window


def measure_stalls(keywords: int, images: int, idle_seconds: float) -> dict:
    from bench.common import deployment

    web, web_url = start_fakeweb(max(60, images))
    tmp = Path(tempfile.mkdtemp(prefix="pixcrawler-gui-bench-"))
    try:
        with deployment("sqlite", engine_bing_url=web_url, engine_duckduckgo_url=web_url,
                        events_interval="0.2") as stack:
            stack.start_worker(concurrency=4)
            _app, client, job, window = open_window(stack, tmp, "responsiveness", keywords,
                                                    ["bing", "duckduckgo"], images)
            window.show()
            run_until(lambda: window.job_view.job is not None
                      and window.job_view.job.id == job.id, 30)

            meter = StallMeter()
            meter.start()
            idle_end = time.monotonic() + idle_seconds
            run_until(lambda: time.monotonic() > idle_end, idle_seconds + 5)
            meter.stop()
            idle = meter.summary()

            events = []
            window.job_view.progress.connect(events.append)
            meter.start()
            t0 = time.perf_counter()
            window.actions["start"].trigger()
            run_until(lambda: window.job_view.progress_bar.value() >= 50, 600)
            window.tabs.setCurrentWidget(window.gallery)
            gallery = window.gallery
            scroll = gallery.view.verticalScrollBar()

            def browse() -> None:  # a user paging through the gallery as it grows
                scroll.setValue(min(scroll.maximum(), scroll.value() + scroll.pageStep() // 4))

            total = keywords * images
            run_until(lambda: window.job_view.job.status in ("completed", "failed")
                      and len(gallery.model.images()) >= window.job_view.job.downloaded_images,
                      600, browse)
            crawl_seconds = time.perf_counter() - t0
            run_until(lambda: gallery.thumbnails.loaded_count() >= 60, 120, browse)
            meter.stop()
            busy = meter.summary()
            result = {
                "idle": idle, "busy": busy, "events": len(events),
                "images": len(gallery.model.images()), "wanted": total,
                "thumbnails": gallery.thumbnails.loaded_count(), "seconds": crawl_seconds,
                "status": window.job_view.job.status,
            }
            window.shutdown()
            window.close()
            client.close()
            return result
    finally:
        web.terminate()
        web.wait(10)


# -- 2. launch ---------------------------------------------------------------------------------
def child(kind: str) -> None:
    """Runs in the subprocess: build the window, print once it has been painted, exit."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) \
                    and obj.isWindow():
                QApplication.instance().removeEventFilter(self)
                QTimer.singleShot(0, self.report)  # after this paint has finished
            return False

        def report(self) -> None:
            print("painted", flush=True)
            os._exit(0)  # skip teardown: only the time to the first paint is measured

    if kind == "empty":
        app = QApplication([])
        window = QMainWindow()
        window.setWindowTitle("PixCrawler — empty")
        window.resize(460, 300)
        window.show()
    else:
        from pixcrawler_desktop.app import build

        app, _controller = build(["--no-resume"])
    spy = FirstPaint()
    app.installEventFilter(spy)
    app.exec()


def launch_once(kind: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    proc.wait(30)
    if line.strip() != "painted":
        raise RuntimeError(f"{kind} launch did not report a paint (exit {proc.returncode})")
    return elapsed


def measure_launch(runs: int) -> dict[str, list[float]]:
    home = Path(tempfile.mkdtemp(prefix="pixcrawler-launch-"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"),
               XDG_DATA_HOME=str(home / "data"))
    times: dict[str, list[float]] = {"empty": [], "app": []}
    launch_once("empty", env)  # warm the OS file cache for both
    launch_once("app", env)
    for _ in range(runs):
        for kind in ("empty", "app"):
            times[kind].append(launch_once(kind, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=["app", "empty"], help=argparse.SUPPRESS)
    parser.add_argument("--keywords", type=int, default=100)
    parser.add_argument("--images", type=int, default=20, help="images per keyword")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle baseline")
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--only", choices=["stalls", "launch"], help="run one part")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    print(f"platform={os.environ['QT_QPA_PLATFORM']}")
    if args.only != "launch":
        report_stalls(args)
    if args.only != "stalls":
        report_launch(args)


def report_stalls(args: argparse.Namespace) -> None:
    stalls = measure_stalls(args.keywords, args.images, args.idle)
    idle_max, idle_p99, idle_n = stalls["idle"]
    busy_max, busy_p99, busy_n = stalls["busy"]
    print(f"1. UI thread, {args.keywords} keywords × 2 engines = {args.keywords * 2} chunks, "
          f"{args.images} images per keyword (2 engines exist: stands in for 50 × 4)")
    print(f"   job {stalls['status']} in {stalls['seconds']:.1f} s; {stalls['events']} "
          f"progress events; gallery {stalls['images']} images, {stalls['thumbnails']} "
          f"thumbnails loaded")
    print(f"   busy: longest gap {busy_max:6.1f} ms   p99 {busy_p99:5.1f} ms   "
          f"({busy_n} ticks of {TICK_MS} ms)   goal < 50 ms")
    print(f"   idle: longest gap {idle_max:6.1f} ms   p99 {idle_p99:5.1f} ms   ({idle_n} ticks)")



def report_launch(args: argparse.Namespace) -> None:
    launch = measure_launch(args.launches)
    empty, app = statistics.median(launch["empty"]), statistics.median(launch["app"])
    print(f"2. launch to first paint, median of {args.launches} fresh processes each")
    print(f"   app (sign-in dialog): {app * 1000:7.1f} ms")
    print(f"   empty QMainWindow   : {empty * 1000:7.1f} ms")
    print(f"   ratio               : {app / empty:7.2f}   (goal <= 2.0)")


if __name__ == "__main__":
    main()
