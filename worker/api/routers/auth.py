"""Accounts and tokens: register, login, refresh (rotating), logout, me.

Limits count per email and per client address apart, so neither many addresses on one email
nor many emails from one address get more tries. The address is the peer's unless it is a
configured proxy (PIXCRAWLER_FORWARDED_ALLOW_IPS, see worker.api.serve).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worker.api.accounts import (
    LOGGED_OUT,
    forget_expired,
    issue_refresh,
    revoke_family,
    rotate_refresh,
)
from worker.api.deps import DB, UserId, unauthorized
from worker.api.schemas import Credentials, LoginBody, RefreshBody, TokenOut, UserOut
from worker.api.security import (
    TokenError,
    dummy_hash,
    hash_password,
    make_token,
    read_claims,
    verify_password,
)
from worker.db.models import User

REGISTRATION_CLOSED = ("Registration is closed: this server belongs to the person who runs "
                       "it, whose app and command line sign in with its local account")

router = APIRouter(prefix="/auth", tags=["auth"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refresh_lifetime(request: Request) -> timedelta:
    return timedelta(days=request.app.state.settings.refresh_token_days)


def _tokens(request: Request, user_id: int, refresh_token: str) -> TokenOut:
    settings = request.app.state.settings
    access = timedelta(minutes=settings.access_token_minutes)
    return TokenOut(
        access_token=make_token(request.app.state.secret, user_id, "access", access),
        expires_in=int(access.total_seconds()),
        refresh_token=refresh_token,
    )


def _sign_in(request: Request, db: Session, user_id: int) -> TokenOut:
    """Tokens of a new session (token family)."""
    forget_expired(db, user_id)
    refresh = issue_refresh(db, request.app.state.secret, user_id, _refresh_lifetime(request))
    db.commit()
    return _tokens(request, user_id, refresh)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: Credentials, request: Request, db: DB) -> User:
    settings = request.app.state.settings
    if not settings.open_registration:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=REGISTRATION_CLOSED)
    request.app.state.limiter.check(settings.register_rate_limit, "register", _client(request))
    email = body.email.lower()
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="Email already registered")
    user = User(email=email, password_hash=hash_password(body.password))
    db.add(user)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, detail="Email already registered") from None
    return user


@router.post("/login", response_model=TokenOut)
def login(body: LoginBody, request: Request, db: DB) -> TokenOut:
    email = body.email.lower()
    settings, limiter = request.app.state.settings, request.app.state.limiter
    limiter.check(settings.login_address_rate_limit, "login-address", _client(request))
    limiter.check(settings.login_rate_limit, "login-email", email)
    user = db.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else dummy_hash(), body.password) or not user:
        raise unauthorized("Incorrect email or password")
    return _sign_in(request, db, user.id)


@router.post("/refresh", response_model=TokenOut)
def refresh(body: RefreshBody, request: Request, db: DB) -> TokenOut:
    """A new access token and the session's next refresh token; the one sent is used up.
    Sending a used one again ends the session for every holder of its successors."""
    try:
        user_id, following = rotate_refresh(db, request.app.state.secret, body.refresh_token,
                                            _refresh_lifetime(request))
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    return _tokens(request, user_id, following)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT,
             response_class=Response)
def logout(body: RefreshBody, request: Request, db: DB) -> Response:
    """End the session of this refresh token: neither it nor any token refreshed from it
    works again. Access tokens already given out run until they expire (minutes)."""
    try:
        claims = read_claims(request.app.state.secret, body.refresh_token, "refresh",
                             "fam", "jti")
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    revoke_family(db, claims["fam"], int(claims["sub"]), LOGGED_OUT)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserOut)
def me(user_id: UserId, db: DB) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise unauthorized("Could not validate credentials")
    return user
