"""Token stores: a working keyring, no keyring at all, and one that breaks while in use.

The backends below are real keyring backends (keyring's own "fail" backend, and small
in-memory ones written against keyring's backend interface), passed in explicitly, so the
tests do not depend on what this machine has.
"""

from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked, PasswordDeleteError

from pixcrawler_desktop.client import KeyringTokenStore, MemoryTokenStore, TokenStore
from pixcrawler_desktop.client.tokens import NO_KEYRING
from tests.client.conftest import PASSWORD

SERVER = "http://lab.example:8000"


class DictKeyring(KeyringBackend):
    """A keyring held in a dict. It needs its dict at construction, so keyring's own
    discovery (which only builds backends that take no arguments) never picks it up."""

    priority = 1

    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self.secrets = secrets

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


class LockedKeyring(DictKeyring):
    """Reads work; writing fails as a locked Secret Service collection does."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")


def test_stores_follow_the_protocol():
    assert isinstance(MemoryTokenStore(), TokenStore)
    assert isinstance(KeyringTokenStore(backend=DictKeyring({})), TokenStore)


def test_working_keyring_holds_tokens_per_server_and_email():
    secrets: dict[tuple[str, str], str] = {}
    store = KeyringTokenStore(backend=DictKeyring(secrets))
    assert store.available and store.reason is None

    store.set(SERVER, "a@example.com", "token-a")
    store.set("http://other:8000", "a@example.com", "token-b")
    assert secrets[("PixCrawler http://lab.example:8000", "a@example.com")] == "token-a"
    assert store.get(SERVER, "a@example.com") == "token-a"
    assert store.get(SERVER, "b@example.com") is None

    store.delete(SERVER, "a@example.com")
    store.delete(SERVER, "a@example.com")  # already gone: not an error
    assert store.get(SERVER, "a@example.com") is None
    assert store.get("http://other:8000", "a@example.com") == "token-b"
    assert store.available


def test_no_keyring_falls_back_to_memory_and_says_why():
    store = KeyringTokenStore(backend=fail.Keyring())
    assert not store.available and store.reason == NO_KEYRING
    store.set(SERVER, "a@example.com", "token")
    assert store.get(SERVER, "a@example.com") == "token"
    store.delete(SERVER, "a@example.com")
    assert store.get(SERVER, "a@example.com") is None


def test_keyring_failing_in_use_switches_to_memory():
    store = KeyringTokenStore(backend=LockedKeyring({}))
    assert store.available
    store.set(SERVER, "a@example.com", "token")
    assert not store.available
    assert store.reason is not None and "the collection is locked" in store.reason
    assert store.get(SERVER, "a@example.com") == "token"


@pytest.mark.parametrize("backend", ["working", "none"])
def test_remember_resume_forget_through_the_keyring(server, connect, backend):
    secrets: dict[tuple[str, str], str] = {}
    keyring_backend = DictKeyring(secrets) if backend == "working" else fail.Keyring()
    store = KeyringTokenStore(backend=keyring_backend)
    client, user = connect(server, store=store, remember=True)
    assert store.get(client.base_url, user.email) == client.refresh_token
    assert bool(secrets) == (backend == "working")

    client.logout(forget=False)
    assert client.resume(user.email) == user
    client.logout(forget=True)
    assert client.resume(user.email) is None
    assert secrets == {}
    assert client.login(user.email, PASSWORD) == user
