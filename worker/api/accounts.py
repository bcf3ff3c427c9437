"""Sessions that can end: refresh-token families.

Refresh tokens rotate: each one carries its family (one sign-in) and its own id, the family row
holds the one id that may be exchanged next, and the exchange is a single conditional UPDATE,
so two uses of one token cannot both win. A token that loses (copied, or replayed after
rotation) revokes its whole family: whoever holds the newer token loses it too, which is the
point (the OAuth security practice, RFC 9700). Access tokens stay stateless: they end with
their short lifetime.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from worker.api.security import TokenError, make_token, read_claims
from worker.db.models import TokenFamily

REUSED = "reused"
LOGGED_OUT = "logout"
INVALID = "Could not validate credentials"


def new_id() -> str:
    return uuid.uuid4().hex


def issue_refresh(session: Session, secret: str, user_id: int, lifetime: timedelta) -> str:
    """A refresh token opening a new family (a sign-in); the caller commits."""
    family, jti = new_id(), new_id()
    session.add(TokenFamily(id=family, user_id=user_id, current=jti,
                            expires_at=datetime.now(UTC) + lifetime))
    return make_token(secret, user_id, "refresh", lifetime, fam=family, jti=jti)


def rotate_refresh(session: Session, secret: str, token: str,
                   lifetime: timedelta) -> tuple[int, str]:
    """(user id, the family's next refresh token) for the family's current token, committed.

    Raises TokenError for a bad, expired, revoked or already used token; a used one also
    revokes its family (committed before raising)."""
    claims = read_claims(secret, token, "refresh", "fam", "jti")
    user_id, family, jti = int(claims["sub"]), claims["fam"], claims["jti"]
    now = datetime.now(UTC)
    following = new_id()
    swapped = session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family, TokenFamily.user_id == user_id,
               TokenFamily.current == jti, TokenFamily.revoked_at.is_(None))
        .values(current=following, rotated_at=now, expires_at=now + lifetime)
    ).rowcount
    if swapped != 1:
        revoke_family(session, family, user_id, REUSED)
        session.commit()
        raise TokenError(INVALID)
    session.commit()  # (a user who is gone took the family along: ON DELETE CASCADE)
    return user_id, make_token(secret, user_id, "refresh", lifetime, fam=family, jti=following)


def revoke_family(session: Session, family: str, user_id: int, reason: str) -> None:
    """End the family: none of its tokens refreshes again. The caller commits."""
    session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family, TokenFamily.user_id == user_id,
               TokenFamily.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason))


def forget_expired(session: Session, user_id: int) -> None:
    """Drop the user's families whose newest token has expired, so rows do not pile up with
    every sign-in. The caller commits."""
    session.execute(TokenFamily.__table__.delete().where(
        TokenFamily.user_id == user_id, TokenFamily.expires_at < datetime.now(UTC)))
