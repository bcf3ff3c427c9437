"""This computer's backend as the front ends see it: which data folder it lives in, and how to
sign in to it with the automatic local account. Shared by the CLI and the desktop app, so both
use one backend (and one account) per data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from pixcrawler_desktop.local.account import local_credentials

if TYPE_CHECKING:
    from pixcrawler_desktop.client.api import PixCrawlerClient
    from pixcrawler_desktop.client.models import User

APP_NAME = "PixCrawler"
DATA_DIR_ENV = "PIXCRAWLER_DATA_DIR"


def default_data_dir() -> Path:
    """The embedded backend's data folder: the same default as the server's settings
    (PIXCRAWLER_DATA_DIR, else the platform's user data folder), so the CLI and the desktop app
    share one local backend. Absolute, because the backend runs its processes inside it."""
    value = os.environ.get(DATA_DIR_ENV)
    path = Path(value) if value else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return path.expanduser().resolve()


def sign_in_local(client: PixCrawlerClient, data_dir: Path) -> User:
    """Sign in with the local account that the data folder's backend made when it started
    (its registration is closed: the credentials file is the way in). Without a readable
    file, an AuthError that says why, as any refused sign-in."""
    from pixcrawler_desktop.client.errors import AuthError
    from pixcrawler_desktop.local.account import LocalAccountMissing

    try:
        email, password = local_credentials(data_dir)
    except LocalAccountMissing as exc:
        raise AuthError(401, str(exc)) from None
    return client.login(email, password)
