"""Request dependencies: the database session, the signed-in user, and job ownership checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from worker.api.security import TokenError, read_token
from worker.db.dialects import lock_row
from worker.db.models import Job, User

_bearer = HTTPBearer(auto_error=False)

JOB_NOT_FOUND = "Crawl job not found"
IMAGE_NOT_FOUND = "Image not found"
ACCESS_DENIED = "Access denied to this resource"
# Every id column is a 32-bit INTEGER; a bigger id names nothing, and PostgreSQL (or SQLite,
# past 64 bits) refuses it as a parameter instead of finding no row.
MAX_ID = 2**31 - 1
NOT_FOUND = {"job_id": JOB_NOT_FOUND, "image_id": IMAGE_NOT_FOUND}


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def current_user_id(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The user id from a valid access token. Tokens are trusted without a lookup: users are
    never deleted, and this keeps hot endpoints like progress to a single query."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise unauthorized("Not authenticated")
    try:
        user_id = read_token(request.app.state.secret, creds.credentials, "access")
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    if not 1 <= user_id <= MAX_ID:  # no such user, and no query may take it as a parameter
        raise unauthorized("Could not validate credentials")
    return user_id


DB = Annotated[Session, Depends(get_db)]
UserId = Annotated[int, Depends(current_user_id)]


def existing_user_id(user_id: UserId, db: DB) -> int:
    """The token's user, checked to still exist: writes use this, so a valid token of a
    removed account gets 401 rather than a foreign-key error."""
    if db.get(User, user_id) is None:
        raise unauthorized("Could not validate credentials")
    return user_id


WriterId = Annotated[int, Depends(existing_user_id)]


def ids_in_range(request: Request) -> None:
    """404 for a path id no row can have (out of the id column's range), before any query.
    Applied to every router by the app; ids that are not integers are left to the route's
    own validation (422)."""
    for name, value in request.path_params.items():
        if name in NOT_FOUND and isinstance(value, str) and value.isascii():
            try:
                number = int(value)
            except ValueError:
                continue
            if not 1 <= number <= MAX_ID:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND[name])


def owned_job(session: Session, job_id: int, user_id: int, *, lock: bool = False) -> Job:
    """The job, if it exists (404) and belongs to the user (403), per the seed's messages."""
    if lock:
        lock_row(session, Job, job_id)
    job = session.get(Job, job_id)
    check_owner(job.owner_id if job else None, user_id)
    return job


def check_owner(owner_id: int | None, user_id: int) -> None:
    """404 for a missing job (owner None), 403 for someone else's."""
    if owner_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=JOB_NOT_FOUND)
    if owner_id != user_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=ACCESS_DENIED)
