"""Signing in, silent token refresh, remembered sessions and unreachable servers, through our
client against the real API on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import httpx
import pytest

from pixcrawler_desktop.client import (
    ApiError,
    AuthError,
    ConnectionLost,
    MemoryTokenStore,
    PixCrawlerClient,
)
from tests.client.conftest import PASSWORD, mint, new_email
from tests.support.stack import free_port


def test_register_login_me(server):
    store = MemoryTokenStore()
    email = new_email().upper()
    with PixCrawlerClient(f"{server.api_url}/api/v1/", token_store=store) as client:
        assert client.base_url == server.api_url  # the /api/v1 address run.sh prints works
        assert not client.signed_in
        created = client.register(email, PASSWORD)
        assert created.email == email.lower() and created.id > 0

        with pytest.raises(ApiError) as again:
            client.register(email, PASSWORD)
        assert again.value.status == 409 and again.value.detail == "Email already registered"

        user = client.login(email, PASSWORD)
        assert user == created
        assert client.signed_in and client.email == email.lower()
        assert client.me() == created
        assert store.get(client.base_url, email.lower()) is None  # not asked to remember


def test_wrong_password_and_signed_out_calls(server, connect):
    client, user = connect(server)
    with pytest.raises(AuthError) as refused:
        client.login(user.email, "not the password")
    assert refused.value.status == 401 and refused.value.detail == "Incorrect email or password"

    client.logout()
    assert not client.signed_in and client.email is None
    with pytest.raises(AuthError) as anonymous:
        client.jobs()
    assert anonymous.value.detail == "Not authenticated"


def test_expired_access_token_is_refreshed_silently(server, connect):
    store = MemoryTokenStore()
    client, user = connect(server, store=store, remember=True)
    expired = mint(server, user.id, "access", timedelta(minutes=-1))
    client.access_token = expired

    assert client.me() == user
    assert client.access_token not in (None, expired)
    assert store.get(client.base_url, user.email) == client.refresh_token


def test_threads_hitting_401_together_refresh_once(server, connect):
    refreshes = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/auth/refresh"):
                refreshes.append(request.url.path)
            return super().handle_request(request)

    _, user = connect(server)
    with PixCrawlerClient(server.api_url, token_store=MemoryTokenStore(),
                          transport=Counting()) as shared:
        shared.login(user.email, PASSWORD)
        shared.access_token = mint(server, user.id, "access", timedelta(minutes=-1))
        gate = threading.Barrier(8)
        seen, errors = [], []

        def call() -> None:
            gate.wait()
            try:
                seen.append(shared.me())
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and seen == [user] * 8
    assert len(refreshes) == 1


def test_refused_refresh_ends_the_session(server, connect):
    store = MemoryTokenStore()
    client, user = connect(server, store=store, remember=True)
    stale_refresh = mint(server, user.id, "refresh", timedelta(minutes=-1))
    store.set(client.base_url, user.email, stale_refresh)
    client.refresh_token = stale_refresh
    client.access_token = mint(server, user.id, "access", timedelta(minutes=-1))

    with pytest.raises(AuthError) as refused:
        client.me()
    assert refused.value.detail == "Token has expired"
    assert not client.signed_in
    assert store.get(client.base_url, user.email) is None  # the dead token is not kept


def test_remember_resume_and_forget(server, connect):
    store = MemoryTokenStore()
    _, user = connect(server, store=store, remember=True)
    stored = store.get(server.api_url, user.email)
    assert stored

    with PixCrawlerClient(server.api_url, token_store=store) as later:
        assert later.resume(user.email.upper()) == user
        assert later.signed_in and later.email == user.email
        later.logout(forget=False)
        assert not later.signed_in and store.get(server.api_url, user.email)

        assert later.resume(user.email) == user
        later.logout(forget=True)
        assert store.get(server.api_url, user.email) is None
        assert later.resume(user.email) is None and not later.signed_in


def test_login_without_remember_forgets_an_earlier_token(server, connect):
    store = MemoryTokenStore()
    client, user = connect(server, store=store, remember=True)
    client.login(user.email, PASSWORD, remember=False)
    assert store.get(server.api_url, user.email) is None


def test_resume_with_a_refused_token_returns_none_and_drops_it(server, connect):
    store = MemoryTokenStore()
    _, user = connect(server)
    store.set(server.api_url, user.email, mint(server, user.id, "refresh", timedelta(days=-1)))
    with PixCrawlerClient(server.api_url, token_store=store) as client:
        assert client.resume(user.email) is None
        assert not client.signed_in
    assert store.get(server.api_url, user.email) is None


def test_server_down_is_connection_lost():
    url = f"http://127.0.0.1:{free_port()}"
    with PixCrawlerClient(url, token_store=MemoryTokenStore()) as client:
        with pytest.raises(ConnectionLost) as lost:
            client.login(new_email(), PASSWORD)
        assert lost.value.status == 0
        assert lost.value.detail.startswith(f"Cannot reach the server at {url}")
        with pytest.raises(ConnectionLost):
            next(client.events(1))


def test_silent_server_times_out_as_connection_lost():
    """A server that accepts the connection but never answers (the kernel completes the
    handshake from the listen backlog)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        client = PixCrawlerClient(url, token_store=MemoryTokenStore(), timeout=0.3)
        with client, pytest.raises(ConnectionLost) as lost:
            client.health()
    assert lost.value.detail == f"Cannot reach the server at {url}: the request timed out"
