"""Arguments, help and the errors that need no server."""

from __future__ import annotations

import json

from pixcrawler_desktop.cli.config import CliConfig
from pixcrawler_desktop.cli.parser import build_parser
from tests.support.stack import free_port


def test_help_documents_exit_codes(cli):
    result = cli("--help")
    assert result.code == 0
    for line in ("1    the server refused", "2    wrong arguments", "3    sign-in needed",
                 "4    no such job", "5    cannot reach", "130  interrupted"):
        assert line in result.out


def test_usage_errors_exit_2(cli):
    assert cli().code == 2
    assert cli("fly").code == 2
    assert cli("crawl", "cat").code == 2  # no --out
    bad = cli("crawl", "cat", "--out", "x", "--max-images", "0")
    assert bad.code == 2 and "--max-images: must be at least 1" in bad.err
    assert cli("jobs", "show", "seven").code == 2
    assert cli("validate", "3", "--level", "thorough").code == 2
    assert cli("crawl", "cat", "--out", "x", "--engines", ",").code == 2


def test_options_work_before_and_after_the_command():
    parser = build_parser()
    before = parser.parse_args(["--json", "--server", "http://s", "jobs", "list"])
    after = parser.parse_args(["jobs", "list", "--json", "--server", "http://s"])
    plain = parser.parse_args(["jobs", "list"])
    assert (before.json, before.server) == (after.json, after.server) == (True, "http://s")
    assert (plain.json, plain.server, plain.password_stdin) == (False, None, False)
    crawl = parser.parse_args(["crawl", "a", "b", "--engines", "Bing, bing,duckduckgo",
                               "--out", "d"])
    assert crawl.engines == ["bing", "duckduckgo"] and crawl.keywords == ["a", "b"]


def test_commands_without_a_server_ask_to_sign_in(cli):
    result = cli("jobs", "list", "--json")
    assert result.code == 3
    assert result.out == ""
    assert "pixcrawler --server URL login" in result.err
    assert "Traceback" not in result.err


def test_login_needs_a_server_and_an_email_with_password_stdin(cli):
    assert cli("login", stdin="pw\n").code == 2
    result = cli("--server", f"http://127.0.0.1:{free_port()}", "login", "--password-stdin",
                 stdin="pw\n")
    assert result.code == 2 and "--email is required" in result.err


def test_crawl_refuses_a_folder_that_is_not_empty(cli, tmp_path):
    out = tmp_path / "set"
    out.mkdir()
    (out / "old.jpg").write_bytes(b"")
    result = cli("crawl", "cat", "--out", str(out), "--data-dir", str(tmp_path / "data"))
    assert result.code == 2 and "not an empty folder" in result.err
    assert not (tmp_path / "data").exists(), "the backend was started for nothing"


def test_logout_when_signed_out(cli, cli_config):
    result = cli("--json", "logout")
    assert result.code == 0 and json.loads(result.out) == {"server": None, "email": None}
    assert CliConfig.load() == CliConfig()
