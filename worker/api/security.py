"""Password hashing (Argon2) and signed tokens (PyJWT): short access tokens, long refresh tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()
# For secrets we make ourselves (the local account's 256-bit random password): stretching a
# hash only slows the guessing of secrets people choose, and none can guess this one, so its
# hash takes 1 ms to check instead of the 0.13-0.17 s every local sign-in paid.
_secret_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_secret(secret: str) -> str:
    """The hash of a random secret of ours; `verify_password` checks it like any other."""
    return _secret_hasher.hash(secret)


def secret_hash_outdated(secret_hash: str) -> bool:
    """Whether a secret's hash was made with other settings (an older install's full cost)."""
    try:
        return _secret_hasher.check_needs_rehash(secret_hash)
    except InvalidHashError:
        return True


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A real hash to verify against when the email is unknown, which keeps login timing
    uniform. Made at the first such login, not at import: it costs 0.2 s of every start."""
    return hash_password("timing-equaliser")


def make_token(secret: str, user_id: int, kind: str, lifetime: timedelta,
               **extra: str) -> str:
    """A signed token; ``extra`` claims are a refresh token's family and id (fam, jti)."""
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "type": kind, "iat": now, "exp": now + lifetime, **extra}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenError(Exception):
    pass


def read_token(secret: str, token: str, kind: str) -> int:
    """The user id in a valid, unexpired token of the given kind; TokenError otherwise."""
    return int(read_claims(secret, token, kind)["sub"])


def read_claims(secret: str, token: str, kind: str, *required: str) -> dict:
    """The claims of a valid, unexpired token of the given kind that has the ``required``
    ones as strings (a refresh token's fam and jti); TokenError otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub", "type"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("Token has expired") from None
    except jwt.PyJWTError:
        raise TokenError("Could not validate credentials") from None
    if claims.get("type") != kind or not all(
            isinstance(claims.get(name), str) and claims[name] for name in required):
        raise TokenError("Could not validate credentials")
    try:
        # An id the database's integer column cannot hold is no user of ours.
        if not 0 < int(claims["sub"]) < 2**31:
            raise ValueError(claims["sub"])
    except (TypeError, ValueError):
        raise TokenError("Could not validate credentials") from None
    return claims
