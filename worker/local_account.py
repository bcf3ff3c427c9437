"""The embedded server's one account, made by the server itself, its password in a file that
only the server's OS user can read.

Embedded mode listens on 127.0.0.1, where every local user can connect, so registration is
closed there and signing in takes the password in ``<data dir>/local-account.json`` (0600,
created with that mode, never widened). Whoever can read it is the owner: the app and the CLI
(pixcrawler_desktop.local.account), run by the same user as the server.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worker.settings import Settings

LOCAL_EMAIL = "this-computer@example.com"  # a reserved domain: never a real mailbox
ACCOUNT_FILE = "local-account.json"


def account_path(data_dir: Path) -> Path:
    return data_dir / ACCOUNT_FILE


def read_account(path: Path) -> dict | None:
    """The file's fields if it is a private file of ours with an email and a password."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as fh:
        info = os.fstat(fh.fileno())
        if os.name == "posix" and (info.st_uid != os.geteuid()
                                   or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)):
            return None  # someone else's, or readable by others: its password is not secret
        try:
            data = json.load(fh)
        except ValueError:
            return None
    ok = isinstance(data, dict) and all(isinstance(data.get(k), str) and data[k]
                                        for k in ("email", "password"))
    return data if ok else None


def write_account(path: Path, data: dict) -> None:
    """Replace the file atomically; the new file is 0600 from its first byte."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_local_account(settings: Settings) -> None:
    """Make sure the local account exists with the file's password, making both if needed.

    The file keeps the password's hash as the database had it, so an ordinary start costs one
    query and no hashing. A database whose account has another hash (the file was lost, or
    an account of that email was registered before registration closed) gets the file's
    password, which is then the only one that works.
    """
    from sqlalchemy import select

    from worker.api.security import hash_secret, secret_hash_outdated, verify_password
    from worker.db.models import User
    from worker.db.session import session_factory

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = account_path(settings.data_dir)
    data = read_account(path) or {"email": LOCAL_EMAIL, "password": secrets.token_urlsafe(32)}
    email = data["email"].lower()
    sessions = session_factory(settings)
    with sessions() as db:
        user = db.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hash_secret(data["password"]))
            db.add(user)
        elif secret_hash_outdated(user.password_hash) or (
                user.password_hash != data.get("hash")
                and not verify_password(user.password_hash, data["password"])):
            user.password_hash = hash_secret(data["password"])
        db.commit()
        fresh = {"email": email, "password": data["password"], "hash": user.password_hash}
    if fresh != data:
        write_account(path, fresh)
