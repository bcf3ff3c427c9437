"""`pixcrawler-worker`: a Celery worker on both queues for the configured broker.

Embedded mode defaults to the threads pool (works on every OS, and chunks are I/O-bound);
server mode defaults to prefork.
"""

from __future__ import annotations

import argparse
import os
import sys

from worker.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pixcrawler-worker", description=__doc__)
    parser.add_argument("--concurrency", "-c", type=int, default=None)
    parser.add_argument("--pool", choices=["threads", "prefork", "solo"], default=None)
    parser.add_argument("--queues", "-Q", default="crawl,validation")
    parser.add_argument("--loglevel", "-l", default="INFO")
    parser.add_argument("--hostname", "-n", default=None)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"pixcrawler-worker: {exc}", file=sys.stderr)
        return 2
    embedded = settings.mode == "embedded"
    pool = args.pool or ("threads" if embedded else "prefork")
    concurrency = args.concurrency or (4 if embedded else os.cpu_count() or 2)

    from worker.celery_app import app

    argv_celery = ["worker", "--pool", pool, "--concurrency", str(concurrency),
                   "--queues", args.queues, "--loglevel", args.loglevel, "--without-gossip",
                   "--without-mingle"]
    if args.hostname:
        argv_celery += ["--hostname", args.hostname]
    app.worker_main(argv_celery)
    return 0


if __name__ == "__main__":
    sys.exit(main())
