"""Limits that cannot be dodged, sessions that end, and an embedded server that answers only its
owner: real API processes over loopback, clients on several loopback source addresses."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import mint
from tests.conftest import deploy, require_services
from tests.support.stack import UNLIMITED_SEARCH, Stack
from worker.local_account import ACCOUNT_FILE, LOCAL_EMAIL

PASSWORD = "correct horse battery"
PROXY = "127.0.0.9"  # the one proxy the limits stack trusts


def client(stack: Stack, source: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections come from loopback address `source`."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=f"{stack.api_url}/api/v1", timeout=30, transport=transport)


def email() -> str:
    return f"u{uuid.uuid4().hex[:12]}@example.com"


def forwarded(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{n}"}


@pytest.fixture(scope="module")
def limits_stack(fakeweb, tmp_path_factory) -> Iterator[Stack]:
    """Open registration with small per-address limits, one trusted proxy, and the server
    mode's network guard (no private addresses: the fake web is on loopback)."""
    yield from deploy("sqlite", fakeweb, tmp_path_factory, worker=False, name="limits", env={
        "PIXCRAWLER_LOGIN_ADDRESS_RATE_LIMIT": "5/minute",
        "PIXCRAWLER_REGISTER_RATE_LIMIT": "3/minute",
        "PIXCRAWLER_FORWARDED_ALLOW_IPS": PROXY,
        "PIXCRAWLER_ALLOW_PRIVATE_ADDRESSES": "false",
    })


@pytest.fixture(scope="module")
def owner_stack(fakeweb, tmp_path_factory) -> Iterator[Stack]:
    """An embedded-mode API as the app runs it (registration closed: the test stacks' opening
    of it is taken back), with a search quota of one query a minute per engine and three
    health checks a minute per user."""
    require_services("sqlite")
    stack = Stack("sqlite", tmp_path_factory.mktemp("owner"), fakeweb.engine_urls())
    stack.env.pop("PIXCRAWLER_OPEN_REGISTRATION")
    stack.env.update({**{key: "1/minute" for key in UNLIMITED_SEARCH},  # every engine's
                      "PIXCRAWLER_ENGINE_HEALTH_RATE_LIMIT": "3/minute"})
    try:
        stack.start_api()
        yield stack
    finally:
        stack.close()


@contextlib.contextmanager
def local_login(stack: Stack) -> Iterator[httpx.Client]:
    """Signed in as the app does: with the password from the owner's file."""
    data = json.loads((stack.data_dir / ACCOUNT_FILE).read_text())
    with client(stack) as c:
        r = c.post("/auth/login", json={"email": data["email"], "password": data["password"]})
        assert r.status_code == 200, r.text
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield c


# -- limits -----------------------------------------------------------------------------


def test_forwarded_for_from_a_client_does_not_change_its_address(limits_stack):
    """A new X-Forwarded-For and a new email on every try: the address limit still counts
    them as one address (only the configured proxy is believed)."""
    with client(limits_stack) as c:
        statuses = [c.post("/auth/login", headers=forwarded(n),
                           json={"email": email(), "password": "wrong-guess"}).status_code
                    for n in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_the_configured_proxy_is_believed(limits_stack):
    """Through the trusted proxy each forwarded address has its own count, and the proxy's
    own exhausted-looking traffic does not lock others out."""
    with client(limits_stack, PROXY) as c:
        for n in range(3):
            statuses = [c.post("/auth/login", headers=forwarded(100 + n),
                               json={"email": email(), "password": "wrong-guess"}).status_code
                        for _ in range(6)]
            assert statuses == [401] * 5 + [429], statuses


def test_one_email_is_limited_across_addresses(limits_stack):
    """Ten tries a minute per email (the seed's limit), from whatever addresses."""
    target = email()
    statuses = []
    for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        with client(limits_stack, source) as c:
            statuses += [c.post("/auth/login", json={"email": target, "password": "wrong-guess"}
                                ).status_code for _ in range(4)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    with client(limits_stack, "127.0.0.5") as c:  # the address itself is not limited
        r = c.post("/auth/login", json={"email": email(), "password": "wrong-guess"})
        assert r.status_code == 401


def test_registration_is_limited_per_address(limits_stack):
    with client(limits_stack, "127.0.0.6") as c:
        statuses = [c.post("/auth/register", headers=forwarded(n),
                           json={"email": email(), "password": PASSWORD}).status_code
                    for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    with client(limits_stack, "127.0.0.6") as c:
        r = c.post("/auth/register", json={"email": email(), "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["detail"].startswith("Rate limit exceeded")
    with client(limits_stack, "127.0.0.8") as c:  # another address may still register
        assert c.post("/auth/register", json={"email": email(), "password": PASSWORD}
                      ).status_code == 201


def test_engine_health_goes_through_the_network_guard(limits_stack, fakeweb):
    """The fake web is on loopback: a server that refuses private addresses does not reach
    it for a health check either."""
    with client(limits_stack, "127.0.0.7") as c:
        e = email()
        assert c.post("/auth/register", json={"email": e, "password": PASSWORD}
                      ).status_code == 201
        token = c.post("/auth/login", json={"email": e, "password": PASSWORD}).json()
        before = fakeweb.hits()
        r = c.get("/engines/health", params={"engine": ["bing", "openverse"], "query": "x"},
                  headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 200, r.text
    for result in r.json():
        assert result["status"] == "failed"
        assert "resolves to a private address" in result["message"], result
    assert fakeweb.hits() == before


# -- sessions ---------------------------------------------------------------------------


def sign_in(anon: httpx.Client, user) -> dict:
    r = anon.post("/auth/login", json={"email": user.email, "password": user.password})
    assert r.status_code == 200, r.text
    return r.json()


def refresh(anon: httpx.Client, token: str) -> httpx.Response:
    return anon.post("/auth/refresh", json={"refresh_token": token})


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(anon, user):
    first = sign_in(anon, user)["refresh_token"]
    second = refresh(anon, first)
    assert second.status_code == 200
    second = second.json()["refresh_token"]
    assert second != first
    third = refresh(anon, second).json()["refresh_token"]

    # The used one comes back (stolen, say): refused, and the whole family with it.
    replay = refresh(anon, first)
    assert replay.status_code == 401
    assert replay.json() == {"detail": "Could not validate credentials"}
    assert refresh(anon, third).status_code == 401
    # The access token stays valid until it expires: stateless by design.
    other = sign_in(anon, user)["refresh_token"]  # a new sign-in is a new family
    assert refresh(anon, other).status_code == 200


def test_logout_ends_only_that_session(anon, user):
    laptop, desktop = sign_in(anon, user), sign_in(anon, user)
    out = anon.post("/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert out.status_code == 204 and out.content == b""
    assert refresh(anon, laptop["refresh_token"]).status_code == 401
    assert refresh(anon, desktop["refresh_token"]).status_code == 200
    again = anon.post("/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert again.status_code == 204  # already ended: nothing more to do
    bad = anon.post("/auth/logout", json={"refresh_token": laptop["access_token"]})
    assert bad.status_code == 401


def test_refresh_tokens_without_a_family_are_refused(anon, server, user):
    """A refresh token signed with the server's secret but not issued by a sign-in (no
    family): refused, so tokens from before rotation existed end too."""
    token = mint(server, user.user_id, "refresh", timedelta(days=1))
    assert refresh(anon, token).status_code == 401


# -- the embedded server and its owner ---------------------------------------------------


def test_embedded_registration_is_closed(owner_stack):
    with client(owner_stack) as c:
        r = c.post("/auth/register", json={"email": email(), "password": PASSWORD})
        assert r.status_code == 403
        assert r.json()["detail"].startswith("Registration is closed")
        # Not even the local account's own email can be taken over by registering it.
        r = c.post("/auth/register", json={"email": LOCAL_EMAIL, "password": PASSWORD})
        assert r.status_code == 403


def test_the_local_account_file_is_the_owners_alone(owner_stack):
    path = owner_stack.data_dir / ACCOUNT_FILE
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    data = json.loads(path.read_text())
    assert data["email"] == LOCAL_EMAIL and len(data["password"]) >= 40
    with local_login(owner_stack) as c:
        assert c.get("/auth/me").json()["email"] == LOCAL_EMAIL
        r = c.post("/auth/login", json={"email": LOCAL_EMAIL, "password": "guess-it-1"})
        assert r.status_code == 401


def test_engine_health_keeps_the_search_quota_and_a_per_user_limit(owner_stack, fakeweb):
    """One query a minute per engine: the first check queries, a second with another query
    finds the quota in use and says so without querying; the fourth call is refused."""
    names = {"engine": ["bing", "openverse"]}
    with local_login(owner_stack) as c:
        before = fakeweb.hits()
        first = c.get("/engines/health", params={**names, "query": "cat"})
        assert first.status_code == 200, first.text
        assert {r["status"] for r in first.json()} == {"ok"}
        queried = fakeweb.hits()
        assert queried > before

        second = c.get("/engines/health", params={**names, "query": "a new query"})
        assert second.status_code == 200
        for result in second.json():
            assert result["status"] == "unavailable"
            assert "search quota (1/minute) in use" in result["message"], result
        third = c.get("/engines/health", params={**names, "query": "yet another"})
        assert third.status_code == 200
        assert fakeweb.hits() == queried  # no new query reached an engine

        limited = c.get("/engines/health", params={**names, "query": "one more"})
        assert limited.status_code == 429
        assert limited.json()["detail"].startswith("Rate limit exceeded")


# -- another user of this machine --------------------------------------------------------

OTHER_USER = "pixcrawler-other"
SYSTEM_PYTHON = "/usr/bin/python3"

# Run by the system's Python as the other user (ours may sit in a home it cannot enter), so
# only the standard library.
PROBE = """
import json, os, sys, urllib.error, urllib.request
api, path = sys.argv[1], sys.argv[2]

def post(route, body):
    request = urllib.request.Request(api + route, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code

out = {"sees_file": os.path.exists(path)}
try:
    open(path).read()
    out["read"] = True
except PermissionError:
    out["read"] = False
out["register"] = post("/auth/register", {"email": "intruder@example.com",
                                          "password": "correct horse battery"})
out["login"] = post("/auth/login", {"email": "this-computer@example.com",
                                    "password": "a-guess-of-mine"})
print(json.dumps(out))
"""


def other_os_user() -> str | None:
    """An unprivileged account to run a client as, made if we may (root in CI); else None."""
    import pwd
    import shutil
    import subprocess

    if os.geteuid() != 0 or not (shutil.which("runuser") and os.path.exists(SYSTEM_PYTHON)):
        return None
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                               OTHER_USER], capture_output=True)
        if made.returncode != 0:
            return None
    return OTHER_USER


def test_another_user_of_the_machine_can_neither_sign_in_nor_register(owner_stack):
    """The embedded server listens on 127.0.0.1, where every account of the machine can
    connect: another one cannot read the credentials file (even with every folder on the way
    open to it), cannot register and cannot sign in."""
    import subprocess

    other = other_os_user()
    if other is None:
        pytest.skip("needs root and useradd/runuser to act as a second OS user")
    path = owner_stack.data_dir / ACCOUNT_FILE
    # Every folder of ours on the way, pytest's private pytest-of-<user> included, traversable
    # and listable by others for the probe, then as they were.
    temp = Path(tempfile.gettempdir())
    opened = {folder: folder.stat().st_mode for folder in path.parents
              if folder.is_relative_to(temp) and folder != temp
              and folder.stat().st_uid == os.getuid()}
    try:
        for folder, mode in opened.items():
            folder.chmod(mode | 0o055)
        result = subprocess.run(
            ["runuser", "-u", other, "--", SYSTEM_PYTHON, "-c", PROBE,
             f"{owner_stack.api_url}/api/v1", str(path)],
            capture_output=True, text=True, timeout=60, cwd="/")
    finally:
        for folder, mode in opened.items():
            folder.chmod(mode)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"sees_file": True, "read": False,
                                          "register": 403, "login": 401}


def test_folder_export_is_the_owners_alone_and_refuses_a_link(owner_stack, tmp_path):
    """Any folder will do (a drive mounted through a link too), the dataset is readable by
    its owner only, and a name that is a symbolic link is refused."""
    drive = tmp_path / "drive"
    drive.mkdir()
    mounted = tmp_path / "mounted"
    mounted.symlink_to(drive)  # e.g. /media/usb -> /run/media/...
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "alias").symlink_to(empty)
    with local_login(owner_stack) as c:
        job = c.post("/jobs", json={"name": "owner only", "keywords": ["cat"],
                                    "engines": ["bing"], "max_images": 5})
        assert job.status_code == 201, job.text
        url = f"/jobs/{job.json()['id']}/export"

        done = c.post(url, json={"path": str(mounted / "sets" / "cats")})
        assert done.status_code == 200, done.text
        assert done.json()["path"] == str(drive / "sets" / "cats")  # the real path
        refused = c.post(url, json={"path": str(tmp_path / "alias")})
        assert refused.status_code == 409
        assert refused.json()["detail"].endswith("is a symbolic link")
    written = list((drive / "sets").rglob("*"))
    assert any(p.is_file() for p in written)
    for path in [drive / "sets", *written]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    assert list(empty.iterdir()) == []
