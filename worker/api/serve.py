"""`pixcrawler-api`: bring the database up to date, then serve the API with uvicorn."""

from __future__ import annotations

import argparse
import sys

from worker.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pixcrawler-api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"pixcrawler-api: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from worker.api.app import create_app
    from worker.db.migrate import upgrade

    try:
        upgrade(settings)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"pixcrawler-api: cannot prepare the database "
              f"(PIXCRAWLER_DATABASE_URL): {first}", file=sys.stderr)
        return 1
    if settings.mode == "embedded":
        from worker.local_account import ensure_local_account

        ensure_local_account(settings)
    # X-Forwarded-For only from the configured proxies: uvicorn would otherwise believe any
    # client on 127.0.0.1 (or FORWARDED_ALLOW_IPS), and the client address is what login and
    # registration limits count.
    proxies = settings.trusted_proxies
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
