"""`pixcrawler-worker`: a Celery worker on both queues for the configured broker.

Embedded mode defaults to the threads pool (works on every OS, and chunks are I/O-bound);
server mode defaults to prefork. `pixcrawler-worker check-engines` instead runs one small real
query per engine and says which engines work from this machine today.
"""

from __future__ import annotations

import argparse
import os
import sys

from worker.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check-engines"]:
        return check_engines_main(argv[1:])
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
    pool = args.pool or settings.worker_pool or ("threads" if embedded else "prefork")
    concurrency = args.concurrency or (4 if embedded else os.cpu_count() or 2)

    from celery.utils.nodenames import default_nodename, host_format

    import worker.prompt_shutdown  # noqa: F401 - connects its signal handler
    from worker.celery_app import app

    # Celery's worker itself, without its command line: that imports every `celery`
    # subcommand (click-repl, prompt-toolkit: 0.15 s of each worker's start).
    node = app.Worker(hostname=host_format(default_nodename(args.hostname)), pool_cls=pool,
                      concurrency=concurrency, queues=args.queues, loglevel=args.loglevel,
                      without_gossip=True, without_mingle=True)
    node.start()
    return node.exitcode or 0


def check_engines_main(argv: list[str]) -> int:
    """Exit 0 when every checked engine that is available answered with results, else 1."""
    import asyncio
    import json

    from worker.crawl.engines import ENGINES
    from worker.crawl.health import DEFAULT_QUERY, UNAVAILABLE, check_engines
    from worker.engine_config import engines_to_check

    parser = argparse.ArgumentParser(prog="pixcrawler-worker check-engines",
                                     description="Run one small real query per engine.")
    parser.add_argument("engines", nargs="*", metavar="ENGINE",
                        help=f"engines to check (default: all of {', '.join(ENGINES)})")
    parser.add_argument("--query", default=DEFAULT_QUERY)
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per engine")
    parser.add_argument("--json", action="store_true", help="one JSON list on stdout")
    args = parser.parse_args(argv)
    unknown = [name for name in args.engines if name not in ENGINES]
    if unknown:
        parser.error(f"unknown engine {unknown[0]!r} (known: {', '.join(ENGINES)})")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"pixcrawler-worker: {exc}", file=sys.stderr)
        return 2
    engines = engines_to_check(settings, args.engines or None)
    results = asyncio.run(check_engines(engines, args.query, args.timeout,
                                         allow_private=bool(settings.allow_private_addresses)))
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        for r in results:
            timing = f"{r.elapsed_ms:6d} ms" if r.status != UNAVAILABLE else "       -"
            detail = f"{r.results} results" if r.ok else (r.message or "")
            print(f"{r.name:12} {r.status:22} {timing}  {detail}")
    failed = [r for r in results if r.status not in ("ok", UNAVAILABLE)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
