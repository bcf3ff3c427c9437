"""Settings: defaults per mode, the embedded secret, and one-line errors that name the variable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from worker.settings import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("PIXCRAWLER_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PIXCRAWLER_DATA_DIR", str(tmp_path / "data"))


def test_embedded_defaults(tmp_path):
    s = load_settings()
    assert s.mode == "embedded"
    assert s.database_url == f"sqlite:///{tmp_path / 'data' / 'pixcrawler.db'}"
    assert s.broker_url == "filesystem://" and s.uses_filesystem_broker
    assert s.ratelimit_storage_url == "memory://"
    assert s.access_token_minutes == 60 and s.search_rate_limit == "10/minute"
    assert s.allow_private_addresses is True
    s.prepare_dirs()
    for sub in ("in", "processed", "control"):
        assert (tmp_path / "data" / "broker" / sub).is_dir()


def test_server_mode_needs_a_secret_and_keeps_private_addresses_out(monkeypatch):
    monkeypatch.setenv("PIXCRAWLER_MODE", "server")
    with pytest.raises(SettingsError, match="PIXCRAWLER_SECRET_KEY must be set in server mode"):
        load_settings()
    monkeypatch.setenv("PIXCRAWLER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PIXCRAWLER_BROKER_URL", "redis://127.0.0.1:6379/3")
    s = load_settings()
    assert s.allow_private_addresses is False
    assert s.ratelimit_storage_url == "redis://127.0.0.1:6379/3"
    assert s.resolved_secret() == "k" * 40


def test_embedded_secret_is_made_once_and_private(tmp_path):
    s = Settings(_env_file=None)
    first = s.resolved_secret()
    assert len(first) >= 40 and s.resolved_secret() == first
    path = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("name", "value", "message"), [
    ("PIXCRAWLER_DOWNLOAD_CONCURRENCY", "lots", "invalid setting PIXCRAWLER_DOWNLOAD_CONCURRENCY"),
    ("PIXCRAWLER_SEARCH_RATE_LIMIT", "ten", "invalid setting PIXCRAWLER_SEARCH_RATE_LIMIT"),
    ("PIXCRAWLER_MODE", "cloud", "invalid setting PIXCRAWLER_MODE"),
    ("PIXCRAWLER_ACCESS_TOKEN_MINUTES", "0", "invalid setting PIXCRAWLER_ACCESS_TOKEN_MINUTES"),
])
def test_bad_settings_are_one_line(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_engine_url_override(monkeypatch):
    monkeypatch.setenv("PIXCRAWLER_ENGINE_BING_URL", "http://127.0.0.1:9/")
    s = load_settings()
    assert s.engine_url("bing") == "http://127.0.0.1:9/"
    assert s.engine_url("duckduckgo") is None


def run_role(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PIXCRAWLER_")} | env
    return subprocess.run([sys.executable, "-m", "pixcrawler_desktop", *args], env=full,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("role", ["api", "worker"])
def test_roles_report_a_bad_setting_in_one_line(tmp_path, role):
    r = run_role(role, env={"PIXCRAWLER_DATA_DIR": str(tmp_path),
                            "PIXCRAWLER_DOWNLOAD_RETRIES": "many"})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "PIXCRAWLER_DOWNLOAD_RETRIES" in r.stderr and "Traceback" not in r.stderr


def test_api_reports_an_unreachable_database(tmp_path):
    r = run_role("api", "--port", "1", env={
        "PIXCRAWLER_DATA_DIR": str(tmp_path),
        "PIXCRAWLER_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert r.returncode == 1
    assert r.stderr.startswith("pixcrawler-api: cannot prepare the database "
                               "(PIXCRAWLER_DATABASE_URL)")
    assert "Traceback" not in r.stderr


def test_unknown_role_prints_usage():
    r = run_role("dance", env={})
    assert r.returncode == 2 and "usage: python -m pixcrawler_desktop" in r.stderr


@pytest.mark.parametrize(("variable", "url", "client"), [
    ("PIXCRAWLER_DATABASE_URL", "postgresql://127.0.0.1:5432/test", "PostgreSQL driver (psycopg)"),
    ("PIXCRAWLER_BROKER_URL", "redis://127.0.0.1:6379/0", "Redis client (redis)"),
])
def test_a_server_url_without_its_client_names_the_way_to_get_one(monkeypatch, variable, url,
                                                                   client) -> None:
    """The desktop app's bundle has neither client; its server roles must say so up front."""
    import worker.settings as settings_module

    monkeypatch.setattr(settings_module, "find_spec", lambda name: None)
    monkeypatch.setenv(variable, url)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"{variable} needs the {client}, which this installation does not have" \
        in str(caught.value)
    assert "install PixCrawler with pip" in str(caught.value)


def test_each_engine_has_its_own_search_quota(monkeypatch):
    from worker.crawl.engines import ENGINES
    from worker.settings import ENGINE_NAMES

    assert set(ENGINE_NAMES) == set(ENGINES)
    monkeypatch.setenv("PIXCRAWLER_ENGINE_BING_SEARCH_RATE", "2/minute")
    monkeypatch.setenv("PIXCRAWLER_SEARCH_RATE_LIMIT", "30/minute")
    s = Settings(_env_file=None)
    assert s.search_rate("bing") == "2/minute"
    assert s.search_rate("duckduckgo") == "30/minute"
    # the sources' own limits are their defaults, which the common quota does not raise
    assert s.search_rate("pixabay") == "100/minute"
    assert s.search_rate("openverse") == "20/minute;200/day"  # both anonymous limits
    assert (s.search_rate("unsplash"), s.search_rate("pexels")) == ("50/hour", "200/hour")
    monkeypatch.setenv("PIXCRAWLER_ENGINE_PIXABAY_SEARCH_RATE", "5/minute")
    assert Settings(_env_file=None).search_rate("pixabay") == "5/minute"
    monkeypatch.setenv("PIXCRAWLER_ENGINE_PEXELS_SEARCH_RATE", "often")
    with pytest.raises(ValueError, match="engine_pexels_search_rate"):
        Settings(_env_file=None)
