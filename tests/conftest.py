"""Shared fixtures: the fake web, and a real server stack per database/broker pair."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.fakeweb.server import FakeWeb, FakeWebConfig
from tests.fakeweb.sites import fake_key_env
from tests.support.stack import Stack

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgres"]


def service_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_services(kind: str) -> None:
    """PostgreSQL and Redis must be there in CI (fail loudly); elsewhere their tests skip."""
    if kind != "postgres":
        return
    missing = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379))
               if not service_up("127.0.0.1", port)]
    if missing:
        message = f"{' and '.join(missing)} not running on 127.0.0.1"
        if IN_CI:
            pytest.fail(message + " (CI must start it: see .ci/run)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def fakeweb() -> Iterator[FakeWeb]:
    with FakeWeb() as web:
        yield web


def deploy(kind: str, fakeweb: FakeWeb, tmp_path_factory, *, worker: bool,
           name: str | None = None, env: dict[str, str] | None = None) -> Iterator[Stack]:
    """A stack on `kind`, with `env` on top of the test settings, closed when done."""
    require_services(kind)
    name = f"{name or ('live' if worker else 'api')}-{kind}"
    deployment = Stack(kind, tmp_path_factory.mktemp(name), fakeweb.engine_urls())
    deployment.env.update(env or {})
    if worker:
        # Many small validation batches at once: the races of a big run, on small jobs.
        deployment.env["PIXCRAWLER_VALIDATION_BATCH_SIZE"] = "2"
        deployment.env["PIXCRAWLER_VALIDATION_RATE_LIMITS"] = json.dumps(
            {"fast": "", "medium": "", "slow": ""})
    try:
        deployment.start_api()
        if worker:
            deployment.start_worker()
        yield deployment
    finally:
        deployment.close()


@pytest.fixture(scope="session", params=BACKENDS)
def server(request, fakeweb: FakeWeb, tmp_path_factory) -> Iterator[Stack]:
    """The API alone (no worker: dispatched tasks wait in the broker), on each backend."""
    yield from deploy(request.param, fakeweb, tmp_path_factory, worker=False)


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, fakeweb: FakeWeb, tmp_path_factory) -> Iterator[Stack]:
    yield from deploy(request.param, fakeweb, tmp_path_factory, worker=True)


@pytest.fixture(scope="session")
def keyless_server(fakeweb: FakeWeb, tmp_path_factory) -> Iterator[Stack]:
    """An API (SQLite, no worker) given no API keys, so the keyed engines are unavailable."""
    deployment = Stack("sqlite", tmp_path_factory.mktemp("api-keyless"), fakeweb.engine_urls())
    for name in fake_key_env():
        deployment.env.pop(name, None)
    try:
        deployment.start_api()
        yield deployment
    finally:
        deployment.close()


def ready(stack: Stack, fakeweb: FakeWeb) -> Stack:
    """`stack` with its worker running (restarted if a test killed it), fake web at defaults."""
    stack.ensure_worker()
    fakeweb.config = FakeWebConfig()
    fakeweb.reset()
    return stack


@pytest.fixture
def live(live_server: Stack, fakeweb: FakeWeb) -> Stack:
    return ready(live_server, fakeweb)


@dataclass
class ApiUser:
    client: httpx.Client
    email: str
    password: str
    user_id: int


@pytest.fixture
def users() -> Iterator[Callable[[Stack], ApiUser]]:
    """Factory: a new registered, signed-in user on the given stack."""
    clients: list[httpx.Client] = []

    def make(stack: Stack) -> ApiUser:
        email = f"u{uuid.uuid4().hex[:12]}@example.com"
        password = "correct horse battery"
        client = httpx.Client(base_url=f"{stack.api_url}/api/v1", timeout=30)
        clients.append(client)
        created = client.post("/auth/register", json={"email": email, "password": password})
        assert created.status_code == 201, created.text
        token = client.post("/auth/login", json={"email": email, "password": password})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return ApiUser(client, email, password, created.json()["id"])

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anon(server: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.api_url}/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
def user(users, server: Stack) -> ApiUser:
    return users(server)
