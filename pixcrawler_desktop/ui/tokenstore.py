"""The token store for the app, opened on first use rather than at launch.

Finding the system keyring means scanning installed backends (and on Linux asking D-Bus for
a secret service): about 80 ms here, and more on a busy desktop. Doing that before the first
window would make the app open noticeably slower, so the store is resolved on a worker
thread the first time anything needs it, and the sign-in dialog shows the "no keyring"
notice once it is known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixcrawler_desktop.client.tokens import TokenStore


def _system_store() -> TokenStore:
    from pixcrawler_desktop.client.tokens import default_token_store

    return default_token_store()


class LazyTokenStore:
    """A TokenStore that builds the real one (the keyring by default) when first used."""

    def __init__(self, factory: Callable[[], TokenStore] = _system_store) -> None:
        self._factory = factory
        self._store: TokenStore | None = None
        self._lock = threading.Lock()

    def resolve(self) -> TokenStore:
        """The real store; may block (keyring discovery), so call it off the UI thread."""
        with self._lock:
            if self._store is None:
                self._store = self._factory()
            return self._store

    @property
    def resolved(self) -> bool:
        return self._store is not None

    @property
    def available(self) -> bool:
        """True until known otherwise: the notice waits for the real answer."""
        return self._store.available if self._store is not None else True

    @property
    def reason(self) -> str | None:
        return self._store.reason if self._store is not None else None

    def get(self, server: str, email: str) -> str | None:
        return self.resolve().get(server, email)

    def set(self, server: str, email: str, token: str) -> None:
        self.resolve().set(server, email, token)

    def delete(self, server: str, email: str) -> None:
        self.resolve().delete(server, email)


def resolve(store: TokenStore) -> TokenStore:
    """The store behind `store` if it is lazy, else `store` itself (may block)."""
    return store.resolve() if isinstance(store, LazyTokenStore) else store
