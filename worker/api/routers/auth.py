"""Accounts and tokens: register, login (rate limited), refresh, me."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worker.api.deps import DB, UserId, unauthorized
from worker.api.schemas import Credentials, LoginBody, RefreshBody, TokenOut, UserOut
from worker.api.security import (
    TokenError,
    dummy_hash,
    hash_password,
    make_token,
    read_token,
    verify_password,
)
from worker.db.models import User

router = APIRouter(prefix="/auth", tags=["auth"])


def _tokens(request: Request, user_id: int) -> TokenOut:
    settings = request.app.state.settings
    secret = request.app.state.secret
    access = timedelta(minutes=settings.access_token_minutes)
    return TokenOut(
        access_token=make_token(secret, user_id, "access", access),
        expires_in=int(access.total_seconds()),
        refresh_token=make_token(secret, user_id, "refresh",
                                 timedelta(days=settings.refresh_token_days)),
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: Credentials, db: DB) -> User:
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
    client = request.client.host if request.client else "unknown"
    request.app.state.limiter.check(request.app.state.settings.login_rate_limit,
                                    "login", email, client)
    user = db.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else dummy_hash(), body.password) or not user:
        raise unauthorized("Incorrect email or password")
    return _tokens(request, user.id)


@router.post("/refresh", response_model=TokenOut)
def refresh(body: RefreshBody, request: Request, db: DB) -> TokenOut:
    try:
        user_id = read_token(request.app.state.secret, body.refresh_token, "refresh")
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    if db.get(User, user_id) is None:
        raise unauthorized("Could not validate credentials")
    return _tokens(request, user_id)


@router.get("/me", response_model=UserOut)
def me(user_id: UserId, db: DB) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise unauthorized("Could not validate credentials")
    return user
