"""The automatic local account of embedded mode: made once per data folder, never typed in."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

LOCAL_EMAIL = "this-computer@example.com"  # a reserved domain: never a real mailbox
ACCOUNT_FILE = "local-account.json"


def local_credentials(data_dir: Path) -> tuple[str, str]:
    """(email, password) of this data folder's local account, created on first use (mode 0600)."""
    path = data_dir / ACCOUNT_FILE
    try:
        data = json.loads(path.read_text())
        return data["email"], data["password"]
    except (OSError, ValueError, KeyError):
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"email": LOCAL_EMAIL, "password": password}, fh)
    os.replace(tmp, path)
    return LOCAL_EMAIL, password
