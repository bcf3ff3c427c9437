"""Where the CLI keeps what it remembers between runs, and where the local backend lives.

Only the last server and each server's account email are kept, in a small JSON file, so that
`pixcrawler jobs list` works without `--server`. The refresh token is a secret and goes to the
token store (the OS keyring), never into this file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from pixcrawler_desktop.local.signin import default_data_dir

APP_NAME = "PixCrawler"
CONFIG_DIR_ENV = "PIXCRAWLER_CLI_CONFIG_DIR"
CONFIG_FILE = "cli.json"

__all__ = ["CliConfig", "config_dir", "default_data_dir"]


def config_dir() -> Path:
    """PIXCRAWLER_CLI_CONFIG_DIR (tests and portable setups), else the user config folder."""
    value = os.environ.get(CONFIG_DIR_ENV)
    path = Path(value) if value else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    return path.expanduser()


@dataclass
class CliConfig:
    """The default server and, per server root URL, the email last signed in with."""

    server: str | None = None
    accounts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> CliConfig:
        """A missing or unreadable file is an empty config: it only saves typing."""
        try:
            data = json.loads((config_dir() / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        server = data.get("server")
        accounts = data.get("accounts")
        return cls(server if isinstance(server, str) else None,
                   {str(k): str(v) for k, v in accounts.items()}
                   if isinstance(accounts, dict) else {})

    def save(self) -> None:
        """Written to a temporary file and moved into place, so a crash never leaves half."""
        folder = config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"server": self.server, "accounts": self.accounts}, indent=2)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cli-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            os.replace(tmp, folder / CONFIG_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
