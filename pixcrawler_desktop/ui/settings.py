"""The app's preferences, kept with QSettings under the organisation "PixCrawler".

One typed wrapper so widgets never spell QSettings keys or convert QSettings' loosely typed
values themselves (INI files return every value as a string).
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "PixCrawler"
APPLICATION = "PixCrawler Desktop"
DEFAULT_SERVER = "http://127.0.0.1:8000"
LOCAL = "This computer"  # the server choice that runs the backend here (embedded mode)
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
THEMES = ("system", "light", "dark")
MAX_SERVERS = 10


def normalize_server(address: str) -> str:
    """What the user typed as a server, as a base URL: scheme added, trailing slash and a
    pasted API path removed, so one server is remembered once."""
    text = address.strip().rstrip("/")
    if text and "://" not in text:
        text = "http://" + text
    return text.removesuffix("/api/v1").rstrip("/")


def is_local(server: str) -> bool:
    """Whether the server choice is "This computer" rather than an address."""
    return server.strip().casefold() == LOCAL.casefold()


def default_data_dir() -> Path:
    """Where this computer's backend keeps its files: the server's and the CLI's default too
    (PIXCRAWLER_DATA_DIR, else the user data folder). Imported on call, as the backend's
    module is not needed to open the first window."""
    from pixcrawler_desktop.local.signin import default_data_dir as shared

    return shared()


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


class AppSettings:
    """Typed access to the stored preferences; pass a QSettings to use another store."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(ORGANIZATION, APPLICATION)

    def sync(self) -> None:
        self.store.sync()

    # -- servers and accounts -------------------------------------------------------------
    @property
    def servers(self) -> list[str]:
        value = self.store.value("servers/recent", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value or []]

    def remember_server(self, server: str) -> None:
        """Most recent first, no repeats, at most MAX_SERVERS."""
        server = normalize_server(server)
        recent = [server, *(s for s in self.servers if s != server)][:MAX_SERVERS]
        self.store.setValue("servers/recent", recent)
        self.store.setValue("servers/last", server)

    def forget_server(self, server: str) -> None:
        self.store.setValue("servers/recent", [s for s in self.servers if s != server])

    @property
    def last_server(self) -> str:
        """The server chosen last; on first launch "This computer", which needs no setup."""
        return str(self.store.value("servers/last", "") or (self.servers or [LOCAL])[0])

    def remember_local(self) -> None:
        """"This computer" was chosen: offered first next time, and started on its own then.
        Its address changes with every start, so it never joins the recent servers."""
        self.store.setValue("servers/last", LOCAL)

    @property
    def local_chosen(self) -> bool:
        """Whether "This computer" was the last choice (and not merely the first-run default)."""
        return is_local(str(self.store.value("servers/last", "") or ""))

    def last_email(self, server: str) -> str:
        return str(self.store.value(f"accounts/{_key(server)}/email", "") or "")

    def set_last_email(self, server: str, email: str) -> None:
        self.store.setValue(f"accounts/{_key(server)}/email", email)

    def keep_signed_in(self, server: str) -> bool:
        return _bool(self.store.value(f"accounts/{_key(server)}/keep"), False)

    def set_keep_signed_in(self, server: str, keep: bool) -> None:
        self.store.setValue(f"accounts/{_key(server)}/keep", keep)

    # -- behaviour ------------------------------------------------------------------------
    @property
    def poll_interval(self) -> float:
        """Seconds between progress polls when the event stream is unavailable."""
        try:
            value = float(self.store.value("jobs/pollInterval", 5.0))
        except (TypeError, ValueError):
            return 5.0
        return min(max(value, 0.2), 600.0)

    @poll_interval.setter
    def poll_interval(self, seconds: float) -> None:
        self.store.setValue("jobs/pollInterval", float(seconds))

    @property
    def theme(self) -> str:
        value = str(self.store.value("appearance/theme", "system"))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}")
        self.store.setValue("appearance/theme", value)

    @property
    def local_concurrency(self) -> int:
        """How many downloads the worker of this computer's backend runs at once."""
        try:
            value = int(self.store.value("local/concurrency", DEFAULT_CONCURRENCY))
        except (TypeError, ValueError):
            return DEFAULT_CONCURRENCY
        return min(max(value, 1), MAX_CONCURRENCY)

    @local_concurrency.setter
    def local_concurrency(self, value: int) -> None:
        self.store.setValue("local/concurrency", int(value))

    @property
    def contact(self) -> str:
        """The email or web page that sites see in this computer's server's User-Agent."""
        return str(self.store.value("local/contact", "") or "")

    @contact.setter
    def contact(self, value: str) -> None:
        self.store.setValue("local/contact", value.strip())

    @property
    def contact_asked(self) -> bool:
        """Whether the first run's question for a contact was answered (or declined)."""
        return _bool(self.store.value("local/contactAsked"), False)

    @contact_asked.setter
    def contact_asked(self, value: bool) -> None:
        self.store.setValue("local/contactAsked", bool(value))

    # -- the New job dialog's last choices ---------------------------------------------------
    @property
    def new_job_engines(self) -> list[str] | None:
        """The engines of the last job created here; None before the first one."""
        value = self.store.value("newJob/engines")
        if value is None:
            return None
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value]

    @new_job_engines.setter
    def new_job_engines(self, engines: list[str]) -> None:
        self.store.setValue("newJob/engines", list(engines))

    @property
    def new_job_level(self) -> str | None:
        """The last validation level chosen ("" = don't validate), None before the first."""
        value = self.store.value("newJob/validate")
        return None if value is None else str(value)

    @new_job_level.setter
    def new_job_level(self, level: str | None) -> None:
        self.store.setValue("newJob/validate", level or "")

    @property
    def new_job_count(self) -> int | None:
        try:
            value = self.store.value("newJob/maxImages")
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return None

    @new_job_count.setter
    def new_job_count(self, count: int) -> None:
        self.store.setValue("newJob/maxImages", int(count))

    # -- each job's gallery as it was left ---------------------------------------------------
    def gallery_state(self, server: str, job_id: int) -> dict | None:
        """What the gallery of one job of one server (its identity) was left showing."""
        value = self.store.value(f"gallery/{_key(server)}/{job_id}")
        try:
            state = json.loads(str(value)) if value else None
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def set_gallery_state(self, server: str, job_id: int, state: dict) -> None:
        self.store.setValue(f"gallery/{_key(server)}/{job_id}", json.dumps(state))

    # -- jobs left paused at quit ------------------------------------------------------------
    def paused_jobs(self, server: str) -> dict[int, str]:
        """Job id -> when it was paused (ISO time), for one server identity."""
        value = self.store.value(f"paused/{_key(server)}", [])
        if isinstance(value, str):
            value = [value] if value else []
        out: dict[int, str] = {}
        for item in value or []:
            number, _, when = str(item).partition("@")
            if number.isdigit():
                out[int(number)] = when
        return out

    def set_paused_jobs(self, server: str, jobs: dict[int, str]) -> None:
        self.store.setValue(f"paused/{_key(server)}",
                            [f"{job_id}@{when}" for job_id, when in sorted(jobs.items())])
        self.store.sync()

    @property
    def local_data_dir(self) -> Path:
        """The data folder of a server running on this machine, for "Show in folder"."""
        value = self.store.value("local/dataDir", "")
        return Path(str(value)).expanduser() if value else default_data_dir()

    @local_data_dir.setter
    def local_data_dir(self, path: Path | str | None) -> None:
        self.store.setValue("local/dataDir", str(path) if path else "")


def _key(server: str) -> str:
    """A QSettings group name for a server URL (slashes would nest groups)."""
    return normalize_server(server).replace("://", "_").replace("/", "_").replace(":", "_")
