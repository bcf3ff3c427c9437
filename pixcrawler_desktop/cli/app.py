"""`main`: parse, run one command, turn every expected failure into a message and exit code.

Errors are one line on stderr carrying the server's own `detail`; a traceback would only be
noise for someone who typed a wrong job id.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import (
    API_ERROR,
    INTERRUPTED,
    USAGE,
    CliError,
    code_for,
    describe,
)
from pixcrawler_desktop.cli.interrupt import ending_signals
from pixcrawler_desktop.cli.output import Output
from pixcrawler_desktop.cli.parser import build_parser
from pixcrawler_desktop.client import ApiError, TokenStore, default_token_store


def main(argv: Sequence[str] | None = None, *,
         token_store: TokenStore | Callable[[], TokenStore] | None = None) -> int:
    """Run `pixcrawler ARGV`; returns the exit code. `token_store` (a store or a factory)
    replaces the OS keyring, for tests and embedding."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # --help (0) or a usage error, already printed by argparse
        return exc.code if isinstance(exc.code, int) else USAGE
    out = Output(json_mode=args.json, quiet=args.quiet)
    ctx = Context(out, _store_factory(token_store))
    try:
        with ending_signals():
            return args.handler(args, ctx)
    except CliError as exc:
        out.error(exc.message)
        return exc.code
    except ApiError as exc:
        out.error(describe(exc))
        return code_for(exc)
    except KeyboardInterrupt:
        out.error("interrupted")
        return INTERRUPTED
    except OSError as exc:  # a dataset folder that cannot be written, a full disk
        out.error(str(exc))
        return API_ERROR


def _store_factory(store: TokenStore | Callable[[], TokenStore] | None,
                   ) -> Callable[[], TokenStore]:
    if store is None:
        return default_token_store
    if callable(store) and not hasattr(store, "get"):
        return store
    return lambda: store  # type: ignore[return-value]


def run() -> None:
    """Console-script entry: exit with main's code."""
    sys.exit(main())
