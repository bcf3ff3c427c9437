"""One Settings object for the API and the worker, read from PIXCRAWLER_* variables and `.env`.

Embedded mode (the laptop default) works with no configuration at all: SQLite and a filesystem
broker under the user data dir, and a secret generated once. Server mode must be told its secret.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import platformdirs
from limits import parse as parse_rate
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker import identity
from worker.validate.thresholds import Thresholds

# Clients of a lab server's services, which the desktop app's bundle leaves out (build.spec):
# setting, URL scheme, module, what it is.
_SERVER_CLIENTS = (
    ("database_url", "postgresql", "psycopg", "PostgreSQL driver"),
    ("broker_url", "redis", "redis", "Redis client"),
    ("ratelimit_storage_url", "redis", "redis", "Redis client"),
)

ENV_PREFIX = "PIXCRAWLER_"
# worker.crawl.engines registers these (a test keeps the two lists one); each has its own
# search quota setting below.
ENGINE_NAMES = ("bing", "duckduckgo", "google", "baidu", "openverse", "wikimedia", "flickr",
                "unsplash", "pexels", "pixabay")
# The seed's validation task rate limits per level.
_CELERY_RATE = re.compile(r"\d+(\.\d+)?(/[smh])?")
_VALIDATION_RATE_LIMITS = {"fast": "1000/m", "medium": "500/m", "slow": "100/m"}


class SettingsError(Exception):
    """A missing or wrong setting; the message is one line and names the variable."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("PixCrawler", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", case_sensitive=False,
        env_nested_delimiter="__",
    )

    mode: Literal["embedded", "server"] = "embedded"
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    broker_url: str = ""
    secret_key: str = ""
    access_token_minutes: int = Field(60, ge=1)
    refresh_token_days: int = Field(30, ge=1)
    # Request bodies above this get 413 before they are read further (issue 16).
    max_body_bytes: int = Field(1_000_000, ge=1024)
    # Who may make an account through POST /auth/register. None: anyone in server mode, no
    # one in embedded mode, whose only account is the local one the API makes itself.
    open_registration: bool | None = None
    # Proxies whose X-Forwarded-For/-Proto are believed: comma-separated addresses or
    # networks ("10.0.0.2,10.1.0.0/16"), or "*". Empty: none, so a client cannot pick the
    # address that its rate limits are counted under.
    forwarded_allow_ips: str = ""

    # Rate limits ("N/second|minute|hour"), with the seed's values as defaults.
    start_rate_limit: str = "10/minute"
    login_rate_limit: str = "10/minute"  # per email, whatever the address
    login_address_rate_limit: str = "30/minute"  # per client address, whatever the email
    register_rate_limit: str = "10/hour"  # per client address
    engine_health_rate_limit: str = "6/minute"  # GET /engines/health, per user
    search_rate_limit: str = "10/minute"
    # One engine's own search quota, e.g. PIXCRAWLER_ENGINE_BING_SEARCH_RATE=2/minute;
    # "" means search_rate_limit.
    engine_bing_search_rate: str = ""
    engine_duckduckgo_search_rate: str = ""
    engine_google_search_rate: str = ""
    engine_baidu_search_rate: str = ""
    engine_openverse_search_rate: str = ""
    engine_wikimedia_search_rate: str = ""
    engine_flickr_search_rate: str = ""
    engine_unsplash_search_rate: str = ""
    engine_pexels_search_rate: str = ""
    engine_pixabay_search_rate: str = ""
    ratelimit_storage_url: str = ""  # "" → memory in embedded mode, the Redis broker in server mode

    # How often the events stream looks for progress changes, and when a silent chunk is
    # presumed lost with its worker and sent again (see worker.tasks.recovery).
    events_interval: float = Field(0.5, gt=0)
    progress_cache_seconds: float = Field(0.5, ge=0)
    chunk_heartbeat: float = Field(5.0, gt=0)
    chunk_stale_after: float = Field(60.0, gt=0)
    recovery_interval: float = Field(15.0, gt=0)
    # How long a chunk or a validation batch waits for a database, Redis or broker that does
    # not answer before it fails, naming the service.
    outage_limit: float = Field(300.0, ge=0)

    # The worker's pool when its command line names none: threads in embedded mode (every OS),
    # prefork in server mode.
    worker_pool: Literal["threads", "prefork", "solo"] | None = None

    # Disk space: a job is refused below this much free space in the data folder (or below its
    # estimated size, if larger), and running chunks stop with "disk full" below the other.
    disk_start_min_mb: int = Field(1000, ge=0)
    disk_stop_below_mb: int = Field(100, ge=0)

    # Crawling politeness and safety.
    allow_private_addresses: bool | None = None  # None → allowed in embedded mode only
    respect_robots: bool = True
    download_concurrency: int = Field(64, ge=1, le=1024)
    download_per_host: int = Field(8, ge=1, le=256)
    download_host_interval: float = Field(0.0, ge=0)
    download_timeout: float = Field(30.0, gt=0)  # one request
    download_stall_timeout: float = Field(10.0, gt=0)  # a body that sends nothing this long
    download_deadline: float = Field(60.0, gt=0)  # one image, across all its retries
    download_max_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    download_retries: int = Field(3, ge=0, le=10)
    # Who we are to the sites we fetch from (worker.identity): an email or a URL, which goes
    # into the User-Agent of downloads, robots.txt and the API engines. "" = none given.
    contact: str = ""
    user_agent: str = ""  # "" = PixCrawler/<version> (<contact>; +<project URL>)

    # Keys of the engines that use an official API; an engine without its key is unavailable.
    flickr_api_key: str = ""
    unsplash_access_key: str = ""
    pexels_api_key: str = ""
    pixabay_api_key: str = ""

    # Validation: images per batch task, and the seed's task rate limits per level (per
    # worker; "" lifts a level's limit).
    validation_batch_size: int = Field(25, ge=1, le=1000)
    validation_rate_limits: dict[Literal["fast", "medium", "slow"], str] = Field(
        default_factory=lambda: dict(_VALIDATION_RATE_LIMITS))

    # Validation thresholds, one variable each: PIXCRAWLER_VALIDATION__MIN_WIDTH=128, ...
    validation: Thresholds = Field(default_factory=Thresholds)

    @field_validator("start_rate_limit", "login_rate_limit", "search_rate_limit",
                     "login_address_rate_limit", "register_rate_limit",
                     "engine_health_rate_limit",
                     *(f"engine_{name}_search_rate" for name in ENGINE_NAMES))
    @classmethod
    def _rate(cls, value: str) -> str:
        if not value:
            return value  # an engine without its own rate
        try:
            parse_rate(value)
        except ValueError as exc:
            raise ValueError(f"not a rate like '10/minute': {value!r}") from exc
        return value

    @field_validator("contact")
    @classmethod
    def _contact(cls, value: str) -> str:
        if problem := identity.contact_problem(value):
            raise ValueError(problem)
        return value.strip()

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item == "*":  # every peer is a proxy: only where no one else can connect
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return value

    @field_validator("validation_rate_limits")
    @classmethod
    def _level_rates(cls, value: dict[str, str]) -> dict[str, str]:
        for rate in filter(None, value.values()):
            if not _CELERY_RATE.fullmatch(rate):  # Celery's task rate format, e.g. "500/m"
                raise ValueError(f"not a task rate like '500/m': {rate!r}")
        return {**_VALIDATION_RATE_LIMITS, **value}  # levels not named keep the seed's

    @model_validator(mode="after")
    def _defaults_per_mode(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'pixcrawler.db'}"
        if not self.broker_url:
            self.broker_url = "filesystem://"
        if not self.ratelimit_storage_url:
            redis = self.broker_url.startswith(("redis://", "rediss://"))
            self.ratelimit_storage_url = self.broker_url if redis else "memory://"
        if not self.user_agent:
            self.user_agent = identity.user_agent(self.contact)
        if self.allow_private_addresses is None:
            self.allow_private_addresses = self.mode == "embedded"
        if self.open_registration is None:
            self.open_registration = self.mode == "server"
        if self.mode == "server" and not self.secret_key:
            raise ValueError("PIXCRAWLER_SECRET_KEY must be set in server mode")
        for name, scheme, module, client in _SERVER_CLIENTS:
            if getattr(self, name).startswith(scheme) and find_spec(module) is None:
                raise ValueError(
                    f"{ENV_PREFIX}{name.upper()} needs the {client} ({module}), which this "
                    "installation does not have: the desktop app runs its own server on "
                    "SQLite with a folder as broker; install PixCrawler with pip for a lab "
                    "server")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_filesystem_broker(self) -> bool:
        return self.broker_url.startswith("filesystem")

    @property
    def trusted_proxies(self) -> list[str]:
        """The proxies named by PIXCRAWLER_FORWARDED_ALLOW_IPS (none by default)."""
        return [part.strip() for part in self.forwarded_allow_ips.split(",") if part.strip()]

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    def engine_url(self, name: str) -> str | None:
        """Base URL override for an engine, from PIXCRAWLER_ENGINE_<NAME>_URL."""
        return os.environ.get(f"{ENV_PREFIX}ENGINE_{name.upper()}_URL") or None

    def search_rate(self, engine: str) -> str:
        """The engine's search quota: its own setting, else what its source's terms allow
        (worker.crawl.terms: Pixabay's 100 a minute, Openverse's anonymous 20...), else the
        common one."""
        from worker.crawl.terms import TERMS

        terms = TERMS.get(engine)
        return (getattr(self, f"engine_{engine}_search_rate", "")
                or (terms.search_rate if terms else None) or self.search_rate_limit)

    def api_key(self, setting: str) -> str | None:
        """The API key held in Settings field ``setting`` (an engine's ``key_setting``)."""
        value = getattr(self, setting, "")
        return value.strip() or None if isinstance(value, str) else None

    def resolved_secret(self) -> str:
        """The signing secret: configured, or (embedded only) generated once and kept 0600."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def prepare_dirs(self) -> None:
        """Create the data folders (and the filesystem broker's) before anything uses them."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "jobs").mkdir(exist_ok=True)
        if self.uses_filesystem_broker:
            for sub in ("in", "processed", "control"):
                (self.broker_dir / sub).mkdir(parents=True, exist_ok=True)


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = err.get("loc") or ()
    name = ENV_PREFIX + "__".join(str(part).upper() for part in loc) if loc else "settings"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if msg.startswith(ENV_PREFIX):
        return f"invalid setting: {msg}"
    return f"invalid setting {name}: {msg}"


def load_settings() -> Settings:
    """Read settings, turning any problem into a one-line SettingsError."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
