"""Clients of ours signed in to the real test stacks from tests/conftest.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from pixcrawler_desktop.client import MemoryTokenStore, PixCrawlerClient, User
from pixcrawler_desktop.client.tokens import TokenStore
from tests.support.stack import Stack

PASSWORD = "correct horse battery"


def new_email() -> str:
    return f"c{uuid.uuid4().hex[:12]}@example.com"


def mint(stack: Stack, user_id: int, kind: str, lifetime: timedelta) -> str:
    """A token signed with the stack's own secret, as the server would make it, but with a
    lifetime of our choosing (negative: already expired)."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "type": kind, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, stack.env["PIXCRAWLER_SECRET_KEY"], algorithm="HS256")


Connect = Callable[..., tuple[PixCrawlerClient, User]]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Factory: a new account on `stack`, signed in through our client (closed afterwards)."""
    made: list[PixCrawlerClient] = []

    def make(stack: Stack, *, store: TokenStore | None = None,
             remember: bool = False) -> tuple[PixCrawlerClient, User]:
        client = PixCrawlerClient(stack.api_url, token_store=store or MemoryTokenStore())
        made.append(client)
        email = new_email()
        client.register(email, PASSWORD)
        return client, client.login(email, PASSWORD, remember=remember)

    yield make
    for client in made:
        client.close()
