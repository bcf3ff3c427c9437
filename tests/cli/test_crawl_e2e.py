"""`python -m pixcrawler_desktop.cli crawl` as a user runs it: the embedded backend started
and stopped by the command, the fake web as the engines, a dataset folder as the result."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import cli_env, spawn
from tests.cli.helpers import assert_nothing_left, backend_of, check_dataset, served_by
from tests.support.stack import wait_for

pytestmark = pytest.mark.slow


def stored_images(data: Path) -> int:
    return sum(1 for p in (data / "jobs").rglob("*.jpg") if ".tmp" not in p.parts)


def test_crawl_with_the_embedded_backend(tmp_path, web):
    data, out = tmp_path / "data", tmp_path / "dataset"
    proc = spawn(["crawl", "sunset", "mountain lake", "--engines", "bing,duckduckgo",
                  "--max-images", "8", "--out", str(out), "--validate", "fast", "--json"],
                 cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web), tmp_path)
    state = backend_of(proc, data)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr

    report = json.loads(stdout)  # stdout is the JSON report and nothing else
    assert (report["status"], report["interrupted"]) == ("completed", False)
    assert report["job"]["downloaded_images"] == report["dataset"]["images"] == 16
    assert report["validation"]["valid"] == 16

    rows = check_dataset(out, {"sunset", "mountain-lake"})
    assert sorted(r["keyword"] for r in rows) == ["mountain lake"] * 8 + ["sunset"] * 8
    assert {r["engine"] for r in rows} == {"bing", "duckduckgo"}
    assert all(served_by(web, r) for r in rows)
    assert all((r["validation_status"], r["validation_level"]) == ("valid", "fast")
               for r in rows)
    assert all(r["width"] and r["height"] and r["format"] == "jpeg" for r in rows)
    assert "Stopping the local backend" in stderr
    assert_nothing_left(state, data)


def test_ctrl_c_cancels_the_job_and_keeps_what_was_downloaded(tmp_path, web):
    web.config.latency = 1.0  # about 8 images a second, so the crawl is still going
    data, out = tmp_path / "data", tmp_path / "dataset"
    proc = spawn(["crawl", "slow river", "--max-images", "60", "--out", str(out), "--json"],
                 cli_env(config_dir=tmp_path / "cfg", data_dir=data, fakeweb=web), tmp_path)
    state = backend_of(proc, data)
    wait_for(lambda: stored_images(data) >= 3, 90, "the first downloads", interval=0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr

    report = json.loads(stdout)
    assert report["interrupted"] is True
    assert report["status"] == report["job"]["status"] == "cancelled"
    rows = check_dataset(out, {"slow-river"})
    assert 3 <= len(rows) < 60
    assert len(rows) == report["dataset"]["images"]
    assert "Cancelling" in stderr and "Traceback" not in stderr
    assert_nothing_left(state, data)


def test_an_engine_that_runs_short_is_topped_up_or_explained(tmp_path, web):
    """bing has 5 images for the keyword: by default duckduckgo makes up the rest, so the
    keyword gets its 12; with --no-fill the crawl ends by saying where the missing 1 went."""
    web.config.distinct_engines = True
    web.config.engine_results = {"bing": 5}
    env = cli_env(config_dir=tmp_path / "cfg", data_dir=tmp_path / "data", fakeweb=web)
    args = ["crawl", "red fox", "--engines", "bing,duckduckgo", "--max-images", "12"]

    filled = spawn([*args, "--out", str(tmp_path / "filled"), "--json"], env, tmp_path)
    stdout, stderr = filled.communicate(timeout=180)
    assert filled.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["dataset"]["images"] == 12 and report["short"] == []
    assert report["job"]["breakdown"]["topped_up"] == 1
    assert "set PIXCRAWLER_CONTACT to your email" in stderr  # no contact set: says how

    env["PIXCRAWLER_CONTACT"] = "lab@example.org"
    plain = spawn([*args, "--no-fill", "--out", str(tmp_path / "plain")], env, tmp_path)
    stdout, stderr = plain.communicate(timeout=180)
    assert plain.returncode == 0, stderr
    assert "red fox: 11 of 12; bing ran out after 5 results" in stdout
    assert "11 images saved to" in stdout
    assert "PIXCRAWLER_CONTACT" not in stderr


def test_login_in_a_process_without_a_keyring(server, users, tmp_path):
    user = users(server)
    env = cli_env(config_dir=tmp_path / "cfg")
    proc = spawn(["--server", server.api_url, "login", "--email", user.email,
                  "--password-stdin"], env, tmp_path, stdin=subprocess.PIPE)
    stdout, stderr = proc.communicate(user.password + "\n", timeout=60)
    assert proc.returncode == 0, stderr
    assert stdout.strip() == f"Signed in to {server.api_url} as {user.email}"
    assert "warning: no usable keyring, so the sign-in was not saved" in stderr

    listing = spawn(["jobs", "list"], env, tmp_path)
    stdout, stderr = listing.communicate(timeout=60)
    assert listing.returncode == 3 and stdout == ""
    assert f"not signed in to {server.api_url} as {user.email}" in stderr
