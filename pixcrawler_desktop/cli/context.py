"""What every command handler gets besides its arguments: the output and the token store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pixcrawler_desktop.cli.output import Output
from pixcrawler_desktop.client import TokenStore, default_token_store


@dataclass
class Context:
    out: Output
    # Made on first use: opening the OS keyring can be slow or prompt, and most commands that
    # run against the local backend never need it. Tests pass a store of their own.
    make_store: Callable[[], TokenStore] = default_token_store
    _store: TokenStore | None = field(default=None, repr=False)

    def token_store(self) -> TokenStore:
        if self._store is None:
            self._store = self.make_store()
        return self._store
