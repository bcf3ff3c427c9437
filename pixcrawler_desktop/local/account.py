"""The automatic local account of embedded mode, as the app and the CLI read it.

The backend's API makes the account and writes its password to a file only this OS user can
read (worker.local_account); registration is closed there, so reading that file is the only
way in, and it is what makes the app and the CLI the owner's.
"""

from __future__ import annotations

from pathlib import Path

from worker.local_account import ACCOUNT_FILE, LOCAL_EMAIL, account_path, read_account

__all__ = ["ACCOUNT_FILE", "LOCAL_EMAIL", "LocalAccountMissing", "local_credentials"]


class LocalAccountMissing(Exception):
    """No usable credentials file: the backend of that data folder has not started yet, or
    the file is not this user's own private file."""


def local_credentials(data_dir: Path) -> tuple[str, str]:
    """(email, password) of this data folder's local account, as its backend wrote them."""
    data = read_account(account_path(data_dir))
    if data is None:
        raise LocalAccountMissing(
            f"No local account in {data_dir}: its backend makes one when it starts, in a file "
            "only the user who runs it can read")
    return data["email"], data["password"]
