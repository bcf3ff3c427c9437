"""Sessions that end: the client's sign out ends the session on the server, and a rotated
refresh token keeps a remembered session going, through our client against the real API."""

from __future__ import annotations

import httpx

from pixcrawler_desktop.client import MemoryTokenStore, PixCrawlerClient
from tests.support.stack import free_port


def refresh_status(server, token: str) -> int:
    r = httpx.post(f"{server.api_url}/api/v1/auth/refresh", json={"refresh_token": token},
                   timeout=30)
    return r.status_code


def test_sign_out_revokes_the_refresh_token_everywhere(server, connect):
    store = MemoryTokenStore()
    client, user = connect(server, store=store, remember=True)
    token = client.refresh_token
    assert token and store.get(client.base_url, user.email) == token

    client.logout(forget=True)  # what the app's Sign out does
    assert not client.signed_in and store.get(client.base_url, user.email) is None
    # A copy of the token (another device, a leaked keyring) is dead too.
    assert refresh_status(server, token) == 401


def test_letting_go_locally_keeps_the_session(server, connect):
    store = MemoryTokenStore()
    client, user = connect(server, store=store, remember=True)
    client.logout(forget=False)
    with PixCrawlerClient(server.api_url, token_store=store) as later:
        assert later.resume(user.email) == user  # the stored token rotated on the way
        rotated = store.get(server.api_url, user.email)
        assert rotated and rotated == later.refresh_token


def test_sign_out_while_the_server_is_unreachable_still_signs_out():
    """Nothing listens at the address: the tokens are dropped here all the same."""
    with PixCrawlerClient(f"http://127.0.0.1:{free_port()}") as client:
        client.refresh_token = "a-refresh-token"
        client.access_token = "an-access-token"
        client.logout(forget=True)
        assert not client.signed_in and client.refresh_token is None
