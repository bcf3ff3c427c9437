"""Export a job's images as a dataset: a streamed zip download, or (embedded mode) a folder.

The route checks the request and ownership and takes a plan; the work itself is in
``worker.export`` and runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, StrictInt
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from worker.api.deps import DB, UserId, WriterId, owned_job
from worker.export import columnar
from worker.export.archive import stream_zip
from worker.export.folder import FolderNotEmpty, write_folder
from worker.export.plan import (
    FORMATS,
    NotValidated,
    OptionError,
    Plan,
    make_plan,
    parse_options,
)

router = APIRouter(tags=["export"])

SERVER_MODE = (
    "Export to a folder is only available on this computer's own server (embedded "
    "mode); download GET /api/v1/jobs/{id}/export instead"
)


class FolderExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    include: str = "all"
    split: str | None = None
    format: str = "imagefolder"
    shard_mb: StrictInt | None = None


class FormatOut(BaseModel):
    name: str
    available: bool
    detail: str | None = None  # why not, and how to get it


class FolderExportOut(BaseModel):
    path: str
    images: int
    bytes: int
    missing: int


def _plan(
    request: Request, db: Session, job_id: int, user_id: int, include: str | None,
    split: str | None, export_format: str | None, shard_mb: int | None = None,
) -> Plan:
    """422 for bad options, 404/403 for the job, 400 for include=valid without validation or a
    format this installation cannot write."""
    try:
        options = parse_options(include, split, export_format, shard_mb)
    except OptionError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    job = owned_job(db, job_id, user_id)
    if options.format == "parquet" and (why := columnar.missing()):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=why)
    try:
        settings = request.app.state.settings
        return make_plan(db, job, options, settings.data_dir,
                         settings.validation.near_duplicate_max_distance)
    except NotValidated as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None


def _zip_bytes(sessions: sessionmaker[Session], plan: Plan) -> Generator[bytes, None, None]:
    # Its own session: the request's is not meant to outlive the handler.
    with sessions() as session:
        yield from stream_zip(session, plan)


class _ClosingStream(StreamingResponse):
    """Closes its generator, in the thread pool, as soon as the response ends however it ends.
    A client that goes away mid-download otherwise leaves the generator suspended, holding an
    image file, the spool and a database session, until the garbage collector finds it."""

    def __init__(self, parts: Generator[bytes, None, None], **kwargs: Any) -> None:
        super().__init__(parts, **kwargs)
        self._parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._parts.close)


def _disposition(plan: Plan) -> str:
    plain, full = plan.download_names
    value = f'attachment; filename="{plain}"'
    return value if plain == full else f"{value}; filename*=UTF-8''{quote(full)}"


@router.get("/export/formats", response_model=list[FormatOut])
def export_formats() -> list[FormatOut]:
    """The dataset formats, and whether this installation can write each."""
    parquet_missing = columnar.missing()
    return [
        FormatOut(name=name, available=not (name == "parquet" and parquet_missing),
                  detail=parquet_missing if name == "parquet" else None)
        for name in FORMATS
    ]


@router.get(
    "/jobs/{job_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The dataset as a zip, streamed"}
    },
)
def export_zip(
    job_id: int,
    request: Request,
    user_id: UserId,
    db: DB,
    include: str = "all",
    split: str | None = None,
    export_format: Annotated[str, Query(alias="format")] = "imagefolder",
    shard_mb: int | None = None,
) -> StreamingResponse:
    """The dataset as a zip, streamed, with its manifests: ``[<split>/]<class>/<file>``; with
    format=huggingface also a metadata.jsonl per split and a dataset card; webdataset: tar
    shards of at most ``shard_mb`` MB per split; parquet: one Parquet file per split."""
    plan = _plan(request, db, job_id, user_id, include, split, export_format, shard_mb)
    parts = _zip_bytes(request.app.state.sessions, plan)
    return _ClosingStream(
        parts,
        media_type="application/zip",
        headers={"Content-Disposition": _disposition(plan)},
    )


@router.post("/jobs/{job_id}/export", response_model=FolderExportOut)
def export_folder(
    job_id: int, body: FolderExportIn, request: Request, user_id: WriterId, db: DB
) -> FolderExportOut:
    """The dataset written to a folder on this computer (embedded mode only)."""
    if request.app.state.settings.mode != "embedded":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=SERVER_MODE)
    dest = Path(body.path)
    if not dest.is_absolute():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"path must be an absolute folder path, got {body.path!r}",
        )
    plan = _plan(request, db, job_id, user_id, body.include, body.split, body.format,
                 body.shard_mb)
    try:
        result = write_folder(db, plan, dest)
    except FolderNotEmpty as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except OSError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail=f"Cannot write the dataset to {dest}: {exc}"
        ) from None
    return FolderExportOut(
        path=str(result.path), images=result.images, bytes=result.bytes, missing=result.missing
    )
