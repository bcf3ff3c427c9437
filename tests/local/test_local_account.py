"""The embedded server's own account: its random password is hashed cheaply (nobody can guess
it, so stretching only slowed every local sign-in), and an older install's costly hash is
replaced at the next start without changing the password."""

from __future__ import annotations

import json
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from worker.api.security import verify_password
from worker.db.models import Base, User
from worker.local_account import ACCOUNT_FILE, LOCAL_EMAIL, ensure_local_account
from worker.settings import Settings


def settings_for(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    engine = create_engine(f"sqlite:///{data / 'pixcrawler.db'}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return Settings(mode="embedded", data_dir=data)


def stored_hash(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    with Session(engine) as db:
        found = db.scalar(select(User.password_hash).where(User.email == LOCAL_EMAIL))
    engine.dispose()
    assert found is not None
    return found


def test_the_local_password_is_hashed_for_a_random_secret(tmp_path):
    settings = settings_for(tmp_path)
    ensure_local_account(settings)
    account = json.loads((settings.data_dir / ACCOUNT_FILE).read_text())
    hashed = stored_hash(settings)
    assert hashed.startswith("$argon2id$") and "m=1024,t=1,p=1" in hashed
    assert account["hash"] == hashed
    assert verify_password(hashed, account["password"])
    assert not verify_password(hashed, account["password"][:-1])


def test_an_older_costly_hash_is_replaced_and_the_password_kept(tmp_path):
    settings = settings_for(tmp_path)
    ensure_local_account(settings)
    path = settings.data_dir / ACCOUNT_FILE
    account = json.loads(path.read_text())
    costly = PasswordHasher().hash(account["password"])  # what earlier versions stored
    engine = create_engine(settings.database_url)
    with Session(engine) as db:
        db.execute(User.__table__.update().values(password_hash=costly))
        db.commit()
    engine.dispose()
    path.write_text(json.dumps({**account, "hash": costly}))
    path.chmod(0o600)

    ensure_local_account(settings)
    again = json.loads(path.read_text())
    hashed = stored_hash(settings)
    assert "m=1024,t=1,p=1" in hashed and again["hash"] == hashed
    assert again["password"] == account["password"]
    assert verify_password(hashed, account["password"])
