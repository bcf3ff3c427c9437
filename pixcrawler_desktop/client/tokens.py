"""Where "remember me" keeps refresh tokens: the OS keyring, or memory when there is none.

A refresh token is a 30-day password, so it goes to the platform's secret store (Keychain,
Windows Credential Locker, Secret Service) and never to a file of ours. Without a usable
keyring the store still works for the running session and says so in `reason`, which the
sign-in dialog shows next to the "remember me" box.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol, runtime_checkable

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringError, PasswordDeleteError

log = logging.getLogger(__name__)

NO_KEYRING = ("This system has no keyring service, so PixCrawler can remember your sign-in "
              "only until it quits.")
KEYRING_FAILED = ("The system keyring did not work ({error}), so PixCrawler can remember your "
                  "sign-in only until it quits.")


@runtime_checkable
class TokenStore(Protocol):
    """Refresh tokens keyed by server address and account email."""

    available: bool
    reason: str | None

    def get(self, server: str, email: str) -> str | None: ...
    def set(self, server: str, email: str, token: str) -> None: ...
    def delete(self, server: str, email: str) -> None: ...


class MemoryTokenStore:
    """Tokens for the life of the process: the fallback, and the store for tests and the CLI."""

    def __init__(self) -> None:
        self.available = True
        self.reason: str | None = None
        self._tokens: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get(self, server: str, email: str) -> str | None:
        with self._lock:
            return self._tokens.get((server, email))

    def set(self, server: str, email: str, token: str) -> None:
        with self._lock:
            self._tokens[(server, email)] = token

    def delete(self, server: str, email: str) -> None:
        with self._lock:
            self._tokens.pop((server, email), None)


class KeyringTokenStore:
    """The OS keyring, under service "<service> <server>" and the email as user name.

    `backend` defaults to the one keyring picks for this platform. If that is keyring's
    "fail"/"null" backend, or if the keyring raises later (locked, D-Bus gone), the store
    switches to memory for the rest of the process and sets `available` False with a `reason`.
    """

    def __init__(self, service: str = "PixCrawler", *,
                 backend: KeyringBackend | None = None) -> None:
        self.service = service
        self._backend = backend if backend is not None else keyring.get_keyring()
        self._memory = MemoryTokenStore()
        self._lock = threading.Lock()
        self.available = not isinstance(self._backend, (fail.Keyring, null.Keyring))
        self.reason: str | None = None if self.available else NO_KEYRING

    def _service(self, server: str) -> str:
        return f"{self.service} {server}"

    def _give_up(self, exc: Exception) -> None:
        log.warning("keyring %s failed, keeping tokens in memory: %s", self._backend.name, exc)
        with self._lock:
            self.available = False
            self.reason = KEYRING_FAILED.format(error=str(exc) or type(exc).__name__)

    def get(self, server: str, email: str) -> str | None:
        if self.available:
            try:
                return self._backend.get_password(self._service(server), email)
            except KeyringError as exc:
                self._give_up(exc)
        return self._memory.get(server, email)

    def set(self, server: str, email: str, token: str) -> None:
        if self.available:
            try:
                self._backend.set_password(self._service(server), email, token)
                return
            except KeyringError as exc:
                self._give_up(exc)
        self._memory.set(server, email, token)

    def delete(self, server: str, email: str) -> None:
        self._memory.delete(server, email)
        if not self.available:
            return
        try:
            self._backend.delete_password(self._service(server), email)
        except PasswordDeleteError:
            pass  # nothing stored: deleting is already done
        except KeyringError as exc:
            self._give_up(exc)


def default_token_store() -> TokenStore:
    """The store the desktop app uses: the platform keyring, with the memory fallback."""
    return KeyringTokenStore()
