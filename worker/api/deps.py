"""Request dependencies: the database session, the signed-in user, and job ownership checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from worker.api.security import TokenError, read_token
from worker.db.dialects import lock_row
from worker.db.models import Job

_bearer = HTTPBearer(auto_error=False)

JOB_NOT_FOUND = "Crawl job not found"
ACCESS_DENIED = "Access denied to this resource"


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
        return read_token(request.app.state.secret, creds.credentials, "access")
    except TokenError as exc:
        raise unauthorized(str(exc)) from None


DB = Annotated[Session, Depends(get_db)]
UserId = Annotated[int, Depends(current_user_id)]


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
