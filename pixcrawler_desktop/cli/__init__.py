"""The `pixcrawler` command: crawl keywords into a dataset folder, and drive a PixCrawler
server's jobs from a terminal or a script.

It uses the same API client as the desktop app (`pixcrawler_desktop.client`), and for `crawl`
the same embedded backend (`pixcrawler_desktop.local`), so both front ends behave alike.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixcrawler_desktop.client import TokenStore

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *,
         token_store: TokenStore | Callable[[], TokenStore] | None = None) -> int:
    """Run `pixcrawler ARGV` (see `cli.app.main`). A lone `--version` is answered before the
    commands load: the API client's imports (httpx, pydantic, rich) take a second."""
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        from pixcrawler_desktop.version import version_line

        print(version_line("pixcrawler"))
        return 0
    from pixcrawler_desktop.cli.app import main as run

    return run(argv, token_store=token_store)
