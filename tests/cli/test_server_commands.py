"""Signing in and job commands against a real API (no worker: started jobs wait in the
broker), on SQLite and PostgreSQL, through `main` in this process."""

from __future__ import annotations

import json
import os
import signal
import threading

import httpx
from keyring.backends import fail

from pixcrawler_desktop.cli.config import CliConfig
from pixcrawler_desktop.client import KeyringTokenStore
from tests.cli.conftest import Cli
from tests.support.stack import free_port, wait_for


def sign_in(cli: Cli, stack, user) -> None:
    result = cli("--server", stack.api_url, "login", "--email", user.email, "--password-stdin",
                 stdin=user.password + "\n")
    assert result.code == 0, result.err


def test_login_then_jobs_without_server_option(server, users, cli, cli_config):
    user = users(server)
    result = cli("--server", f"{server.api_url}/api/v1/", "--json", "login", "--email",
                 user.email.upper(), "--password-stdin", stdin=user.password + "\n")
    assert result.code == 0, result.err
    assert result.json() == {"server": server.api_url, "email": user.email,
                             "user_id": user.user_id, "remembered": True, "warning": None}
    token = cli.store.get(server.api_url, user.email)
    assert token
    saved = (cli_config / "cli.json").read_text()
    assert json.loads(saved) == {"server": server.api_url,
                                 "accounts": {server.api_url: user.email}}
    assert token not in saved and user.password not in saved

    created = cli("jobs", "create", "cli cat", "cli dog", "--engines", "bing",
                  "--max-images", "5", "--validate", "fast", "--json")
    assert created.code == 0, created.err
    job = created.json()
    assert (job["status"], job["keywords"], job["engines"], job["validate"],
            job["total_chunks"]) == ("pending", ["cli cat", "cli dog"], ["bing"], "fast", 2)
    job_id = str(job["id"])

    listed = cli("jobs", "list", "--json")
    assert [j["id"] for j in listed.json()] == [job["id"]]
    table = cli("jobs", "list").out.splitlines()
    assert table[0].split() == ["ID", "STATUS", "PROGRESS", "IMAGES", "NAME"]
    assert table[1].split()[:4] == [job_id, "pending", "0%", "0"]
    shown = cli("--json", "jobs", "show", job_id).json()
    assert sorted(c["keyword"] for c in shown["chunks"]) == ["cli cat", "cli dog"]

    started = cli("jobs", "start", job_id, "--json")
    assert started.code == 0 and started.json()["total_chunks"] == 2
    assert cli("--json", "jobs", "list", "--status", "running").json()[0]["id"] == job["id"]
    again = cli("jobs", "start", job_id)
    assert again.code == 1 and "Only pending jobs can be started" in again.err
    busy = cli("jobs", "delete", job_id)
    assert busy.code == 1 and "Cancel it first" in busy.err

    cancelled = cli("jobs", "cancel", job_id, "--json")
    assert cancelled.code == 0 and cancelled.json()["status"] == "cancelled"
    deleted = cli("jobs", "delete", job_id, "--json")
    assert deleted.code == 0 and deleted.json() == {"job_id": job["id"], "deleted": True}
    gone = cli("jobs", "show", job_id, "--json")
    assert gone.code == 4 and gone.out == ""
    assert gone.err.strip() == "error: Crawl job not found"

    refresh = cli.store.get(server.api_url, user.email)
    out = cli("logout")
    assert out.code == 0 and cli.store.get(server.api_url, user.email) is None
    # The session ended on the server too: a copy of the refresh token is dead.
    reused = httpx.post(f"{server.api_url}/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert reused.status_code == 401
    assert CliConfig.load() == CliConfig(None, {})
    assert cli("jobs", "list").code == 3


def test_wrong_password_exits_3_with_the_servers_detail(server, users, cli, cli_config):
    user = users(server)
    result = cli("--server", server.api_url, "login", "--email", user.email,
                 "--password-stdin", stdin="not the password\n")
    assert result.code == 3
    assert result.err.strip() == "error: Incorrect email or password"
    assert "Traceback" not in result.err
    assert not (cli_config / "cli.json").exists()


def test_unknown_job_exits_4(server, users, cli):
    user = users(server)
    sign_in(cli, server, user)
    for argv in (["jobs", "show", "999999"], ["jobs", "cancel", "999999"],
                 ["jobs", "watch", "999999"], ["validate", "999999", "--wait"]):
        result = cli(*argv)
        assert (result.code, result.err.strip()) == (4, "error: Crawl job not found"), argv


def test_password_per_command_needs_no_stored_login(server, users, cli):
    user = users(server)
    result = cli("--server", server.api_url, "--email", user.email, "--password-stdin",
                 "--json", "jobs", "list", stdin=user.password + "\n")
    assert result.code == 0 and result.json() == []


def test_validate_without_images_exits_4(server, users, cli):
    user = users(server)
    sign_in(cli, server, user)
    job = cli("--json", "jobs", "create", "nothing yet", "--max-images", "1").json()
    result = cli("validate", str(job["id"]), "--level", "fast")
    assert result.code == 4
    assert result.err.strip() == f"error: No images found for job {job['id']}"


def test_a_job_on_unsplash_is_told_its_licence_terms(server, users, cli):
    sign_in(cli, server, users(server))
    created = cli("jobs", "create", "heron", "--engines", "unsplash,bing", "--max-images", "2")
    assert created.code == 0, created.err
    assert "warning: Unsplash: its licence does not allow using the photos to train" in created.err
    plain = cli("jobs", "create", "heron", "--engines", "bing", "--max-images", "2")
    assert "warning:" not in plain.err


def test_server_down_exits_5(cli, cli_config):
    dead = f"http://127.0.0.1:{free_port()}"
    result = cli("--server", dead, "login", "--email", "a@example.com", "--password-stdin",
                 stdin="pw\n")
    assert result.code == 5
    assert result.err.startswith(f"error: Cannot reach the server at {dead}")
    CliConfig(dead, {dead: "a@example.com"}).save()
    cli.store.set(dead, "a@example.com", "some-refresh-token")
    assert cli("jobs", "list").code == 5


def test_without_a_keyring_login_says_so_and_keeps_no_token(server, users, capsys,
                                                           monkeypatch):
    no_keyring = Cli(capsys, monkeypatch, KeyringTokenStore(backend=fail.Keyring()))
    user = users(server)
    result = no_keyring("--server", server.api_url, "--json", "login", "--email", user.email,
                        "--password-stdin", stdin=user.password + "\n")
    assert result.code == 0, result.err
    assert result.json()["remembered"] is False
    assert "warning: no usable keyring, so the sign-in was not saved" in result.err
    assert "--password-stdin" in result.err

    # a new process: what the memory fallback held is gone
    later = Cli(capsys, monkeypatch, KeyringTokenStore(backend=fail.Keyring()))
    again = later("jobs", "list")
    assert again.code == 3
    assert f"not signed in to {server.api_url} as {user.email}" in again.err
    assert "no keyring service" in again.err


def test_crawl_that_cannot_start_leaves_no_job(server, users, cli, tmp_path):
    user = users(server)
    sign_in(cli, server, user)
    for _ in range(10):  # the start limit is 10 a minute per user
        job = cli("--json", "jobs", "create", "filler", "--max-images", "1", "--start")
        assert job.code == 0, job.err
    before = {j["id"] for j in cli("--json", "jobs", "list").json()}

    result = cli("crawl", "one too many", "--server", server.api_url,
                 "--out", str(tmp_path / "set"))
    assert result.code == 1
    assert result.err.startswith("error: Rate limit exceeded: 10 per 1 minute. Try again in")
    assert {j["id"] for j in cli("--json", "jobs", "list").json()} == before
    assert not (tmp_path / "set").exists()


def test_ctrl_c_stops_watching_but_not_the_job(server, users, cli):
    sign_in(cli, server, users(server))
    job = cli("--json", "jobs", "create", "never ends", "--max-images", "1", "--start").json()
    default = signal.getsignal(signal.SIGINT)

    def press_ctrl_c() -> None:  # once `watch` has put in its own Ctrl-C handler
        wait_for(lambda: signal.getsignal(signal.SIGINT) is not default, 30, "watch to start")
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        result = cli("--json", "jobs", "watch", str(job["id"]))
    finally:
        presser.join()
    assert result.code == 130
    assert result.json_lines()[-1]["status"] == "running"
    assert cli("--json", "jobs", "show", str(job["id"])).json()["status"] == "running"
    assert signal.getsignal(signal.SIGINT) is default


def test_validate_wait_gives_up_on_a_run_that_stalls(server, users, cli, monkeypatch):
    """No worker runs on this server, so the run never checks an image: `--wait` says so
    after the stall bound instead of waiting for ever."""
    from sqlalchemy import insert, select

    from pixcrawler_desktop.cli import follow
    from worker.db.models import Chunk, Image
    from worker.db.session import session_scope

    monkeypatch.setattr(follow, "VALIDATION_STALL_SECONDS", 1.0)
    user = users(server)
    sign_in(cli, server, user)
    job = cli("--json", "jobs", "create", "stalled", "--max-images", "1").json()
    with session_scope(server.settings()) as db:
        chunk_id = db.scalar(select(Chunk.id).where(Chunk.job_id == job["id"]))
        db.execute(insert(Image).values(
            job_id=job["id"], chunk_id=chunk_id, keyword="stalled", engine="bing", rank=0,
            source_url="http://example.invalid/a.jpg", file_path="jobs/x/a.jpg",
            sha256="0" * 64, bytes=1, format="jpeg", validation_issues=[],
            validation_metrics={}))
    result = cli("validate", str(job["id"]), "--level", "fast", "--wait")
    assert result.code == 1, result.err
    assert "checked no image for 1 s (0 of 1 done): is a worker running?" in result.err


def test_jobs_show_counts_reviews(server, users, cli):
    from tests.api.test_export import db_images, fill

    user = users(server)
    sign_in(cli, server, user)
    job = cli("--json", "jobs", "create", "reviewed", "--max-images", "3").json()
    fill(server, job["id"], [("reviewed", "bing", n, {}) for n in range(3)])
    first, second, _ = sorted(db_images(server, job["id"]))
    user.client.patch(f"/images/{first}", json={"review": "accepted"})
    user.client.patch(f"/images/{second}", json={"review": "rejected"})
    shown = cli("jobs", "show", str(job["id"]))
    assert shown.code == 0, shown.err
    assert "  reviewed    2 of 3: 1 accepted, 1 rejected" in shown.out.splitlines()
    as_json = cli("--json", "jobs", "show", str(job["id"])).json()
    assert as_json["review"] == {"unreviewed": 1, "accepted": 1, "rejected": 1}
