"""PixCrawlerClient: the REST API as typed methods, for the GUI's worker threads and the CLI.

One httpx.Client is shared by every thread (httpx's connection pool is thread-safe). Tokens
live in memory; the refresh token also goes to the token store when the user asked to be
remembered. An expired access token is renewed once, silently, under a lock so that threads
hitting 401 together cause one refresh, not one each.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from pixcrawler_desktop.client.downloads import download_name
from pixcrawler_desktop.client.errors import (
    ApiError,
    AuthError,
    ConnectionLost,
    NotFoundError,
    error_from_response,
)
from pixcrawler_desktop.client.models import (
    FINISHED,
    REVIEW_STATES,
    CancelResult,
    Chunk,
    Engine,
    ExportFormat,
    ExportResult,
    Filters,
    Health,
    Image,
    Job,
    Page,
    Progress,
    StartResult,
    Tokens,
    User,
    ValidationStarted,
    ValidationSummary,
    Waiting,
)
from pixcrawler_desktop.client.sse import iter_events
from pixcrawler_desktop.client.tokens import TokenStore, default_token_store

API_PREFIX = "/api/v1"
# The server sends a keep-alive comment every 15 s of quiet, so this much silence on the
# progress stream means the connection is dead rather than the job idle.
EVENTS_SILENCE = 45.0
# A zip is sent as the server reads the files, so only a long silence means trouble; a folder
# export answers once every file is written, which for a big job takes minutes.
EXPORT_SILENCE = 120.0
FOLDER_EXPORT_TIMEOUT = 3600.0
DOWNLOAD_BLOCK = 256 * 1024
MAX_PAGE_SIZE = 500
NOT_VALIDATED = "has not been validated"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def server_root(url: str) -> str:
    """"http://host:8000", whether the user typed that, a trailing slash, or the /api/v1 URL
    that `run.sh` prints."""
    url = url.strip().rstrip("/")
    return url.removesuffix(API_PREFIX).rstrip("/")


def is_local_server(server: str) -> bool:
    """A server on this computer, whose files (and folder exports) the user can open here."""
    return (urlsplit(server).hostname or "").lower() in LOCAL_HOSTS


class PixCrawlerClient:
    """A signed-in session with one PixCrawler server. Safe to share between threads."""

    def __init__(self, base_url: str, *, token_store: TokenStore | None = None,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = server_root(base_url)
        self.token_store = token_store if token_store is not None else default_token_store()
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url + API_PREFIX, timeout=timeout,
                                  transport=transport)
        self._lock = threading.Lock()  # guards the session fields below
        self._refresh_lock = threading.Lock()  # one refresh at a time
        self._access: str | None = None
        self._refresh: str | None = None
        self._event_ids: dict[int, str] = {}  # per job, the last event id its stream sent
        self._streams: set[httpx.Response] = set()  # event streams being read
        self._streams_lock = threading.Lock()
        self._remember = False
        self.email: str | None = None

    # -- session -------------------------------------------------------------------------

    @property
    def signed_in(self) -> bool:
        return self._access is not None

    @property
    def access_token(self) -> str | None:
        return self._access

    @access_token.setter
    def access_token(self, token: str | None) -> None:
        """Replace the access token, e.g. with one handed over by another session."""
        with self._lock:
            self._access = token

    @property
    def refresh_token(self) -> str | None:
        return self._refresh

    @refresh_token.setter
    def refresh_token(self, token: str | None) -> None:
        """Replace the refresh token used when the access token is refused."""
        with self._lock:
            self._refresh = token

    def close(self) -> None:
        """Close the connections; event streams being read on other threads end at once.
        Their sockets are shut down first: closing a socket another thread is blocked
        reading does not wake that thread, and should the thread retry its read on the same
        file descriptor number once reused by a new connection, it would wait there for
        ever."""
        with self._streams_lock:
            streams = list(self._streams)
        for response in streams:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._http.close()

    def __enter__(self) -> PixCrawlerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def register(self, email: str, password: str) -> User:
        """Create an account; it does not sign in (the server hands out no tokens here)."""
        body = {"email": email, "password": password}
        return User.model_validate(self._call("POST", "/auth/register", auth=False,
                                              json=body).json())

    def login(self, email: str, password: str, *, remember: bool = False) -> User:
        """Sign in. With `remember` the refresh token goes to the token store for resume();
        without it any token stored earlier for this account is removed, as the user asked."""
        response = self._call("POST", "/auth/login", auth=False,
                              json={"email": email, "password": password})
        return self._begin(Tokens.model_validate(response.json()), remember)

    def resume(self, email: str) -> User | None:
        """Sign in with the stored refresh token; None if there is none or the server refused
        it (expired, or the server's secret changed). ConnectionLost still raises: an
        unreachable server says nothing about whether the token is good."""
        key = email.strip().lower()
        stored = self.token_store.get(self.base_url, key)
        if not stored:
            return None
        try:
            tokens = self._post_refresh(stored)
        except AuthError:
            self._forget_if(key, stored)
            return None
        return self._begin(tokens, remember=True)

    def logout(self, *, forget: bool = True) -> None:
        """End the session. With `forget` (the user's Sign out) the server ends it too, so its
        refresh token, and any copy of it, is dead, and the stored one is deleted: the next
        start asks for the password. Without, only this client lets go of its tokens (the
        stored one still resumes). An unreachable server does not stop a sign out: the
        tokens are dropped here anyway, and the refresh token expires on its own."""
        with self._lock:
            email, refresh = self.email, self._refresh
            self._access = self._refresh = self.email = None
            self._remember = False
        if forget and refresh:
            self.revoke(refresh)
        if forget and email:
            self.token_store.delete(self.base_url, email)

    def revoke(self, refresh_token: str) -> bool:
        """Ask the server to end the session of `refresh_token` (POST /auth/logout); True if
        it did. A token it no longer accepts has no session left to end."""
        try:
            self._call("POST", "/auth/logout", auth=False,
                       json={"refresh_token": refresh_token})
        except ApiError:
            return False
        return True

    def me(self) -> User:
        return User.model_validate(self._call("GET", "/auth/me").json())

    def _begin(self, tokens: Tokens, remember: bool) -> User:
        """Adopt fresh tokens, learn who we are, then store or forget the refresh token under
        the server's spelling of the email (it lower-cases it)."""
        with self._lock:
            self._access, self._refresh = tokens.access_token, tokens.refresh_token
            self._remember, self.email = False, None
        try:
            user = self.me()
        except ApiError:
            self.logout(forget=False)
            raise
        with self._lock:
            self.email, self._remember = user.email, remember
            refresh = self._refresh
        if remember and refresh:
            self.token_store.set(self.base_url, user.email, refresh)
        elif not remember:
            self.token_store.delete(self.base_url, user.email)
        return user

    def _post_refresh(self, refresh_token: str) -> Tokens:
        response = self._call("POST", "/auth/refresh", auth=False,
                              json={"refresh_token": refresh_token})
        return Tokens.model_validate(response.json())

    def _renew(self, stale: str | None) -> bool:
        """After a 401 with access token `stale`: True once a newer access token is in place
        (ours or another thread's), False if there is no refresh token to try. A refused
        refresh ends the session and raises AuthError with the server's reason."""
        with self._refresh_lock:
            with self._lock:
                current, refresh = self._access, self._refresh
                remember, email = self._remember, self.email
            if current is not None and current != stale:
                return True
            if refresh is None:
                return False
            try:
                tokens = self._post_refresh(refresh)
            except AuthError:
                with self._lock:
                    if self._refresh == refresh:
                        self._access = self._refresh = None
                if remember and email:
                    self._forget_if(email, refresh)
                raise
            with self._lock:
                if self._refresh != refresh:  # signed out or in again meanwhile
                    return self._access is not None
                self._access, self._refresh = tokens.access_token, tokens.refresh_token
            if remember and email:
                self.token_store.set(self.base_url, email, tokens.refresh_token)
            return True

    def _forget_if(self, email: str, token: str) -> None:
        """Delete the stored token only if it is the refused one, not a newer one."""
        if self.token_store.get(self.base_url, email) == token:
            self.token_store.delete(self.base_url, email)

    # -- transport -----------------------------------------------------------------------

    def _unreachable(self, exc: httpx.TransportError) -> ConnectionLost:
        if isinstance(exc, httpx.TimeoutException):
            reason = "the request timed out"
        else:
            reason = str(exc) or type(exc).__name__
        return ConnectionLost(f"Cannot reach the server at {self.base_url}: {reason}")

    def _request(self, method: str, path: str, token: str | None, *, stream: bool = False,
                 timeout: httpx.Timeout | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
        try:
            request = self._http.build_request(method, path, headers=headers, **extra, **kwargs)
            return self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def _call(self, method: str, path: str, *, auth: bool = True,
              accept: Sequence[int] = (), **kwargs: Any) -> httpx.Response:
        """Send; on 401 renew the access token once and resend; raise the mapped ApiError.
        Statuses in `accept` come back as responses even though they are errors."""
        token = self._access if auth else None
        response = self._request(method, path, token, **kwargs)
        if response.status_code == 401 and auth and self._renew(token):
            response = self._request(method, path, self._access, **kwargs)
        if response.is_error and response.status_code not in accept:
            raise error_from_response(response)
        return response

    # -- server --------------------------------------------------------------------------

    def engines(self) -> list[Engine]:
        return [Engine.model_validate(e) for e in self._call("GET", "/engines").json()]

    def health(self) -> Health:
        """The server answers 503 with the same body when its database or broker is down;
        that body is what the GUI wants to show, so it is returned rather than raised."""
        response = self._call("GET", "/health", auth=False, accept=(503,))
        try:
            return Health.model_validate(response.json())
        except ValueError:
            raise error_from_response(response) from None

    # -- jobs ----------------------------------------------------------------------------

    def jobs(self, *, status: str | None = None, page: int = 1,
             page_size: int = 100) -> Page[Job]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status is not None:
            params["status"] = status
        return Page[Job].model_validate(self._call("GET", "/jobs", params=params).json())

    def all_jobs(self, status: str | None = None) -> list[Job]:
        """Every job, newest first, fetched in the largest pages the server allows."""
        found: dict[int, Job] = {}
        page = 1
        while True:
            batch = self.jobs(status=status, page=page, page_size=MAX_PAGE_SIZE)
            for job in batch.items:
                found.setdefault(job.id, job)  # a job created meanwhile shifts the pages
            if not batch.items or page * MAX_PAGE_SIZE >= batch.total:
                return sorted(found.values(), key=lambda j: j.id, reverse=True)
            page += 1

    def job(self, job_id: int) -> Job:
        return Job.model_validate(self._call("GET", f"/jobs/{job_id}").json())

    def create_job(self, name: str, keywords: Sequence[str], engines: Sequence[str],
                   max_images: int, *, validate: str | None = None,
                   respect_robots: bool = True, filters: Filters | None = None,
                   fill: bool = False, respect_optout: bool = True) -> Job:
        """`validate`, `filters`, `fill` (top up a keyword from its other engines) and
        `respect_optout` are only sent when not the server's default, so older servers still
        work."""
        body: dict[str, Any] = {"name": name, "keywords": list(keywords),
                                "engines": list(engines), "max_images": max_images,
                                "respect_robots": respect_robots}
        if fill:
            body["fill"] = True
        if not respect_optout:
            body["respect_optout"] = False
        if validate is not None:
            body["validate"] = validate
        if filters is not None:
            body["filters"] = filters.model_dump()
        return Job.model_validate(self._call("POST", "/jobs", json=body).json())

    def start(self, job_id: int) -> StartResult:
        return StartResult.model_validate(self._call("POST", f"/jobs/{job_id}/start").json())

    def cancel(self, job_id: int) -> CancelResult:
        return CancelResult.model_validate(self._call("POST", f"/jobs/{job_id}/cancel").json())

    def retry(self, job_id: int) -> StartResult:
        return StartResult.model_validate(self._call("POST", f"/jobs/{job_id}/retry").json())

    def delete(self, job_id: int) -> None:
        self._call("DELETE", f"/jobs/{job_id}")

    def progress(self, job_id: int) -> Progress:
        return Progress.model_validate(self._call("GET", f"/jobs/{job_id}/progress").json())

    def chunks(self, job_id: int) -> list[Chunk]:
        return [Chunk.model_validate(c)
                for c in self._call("GET", f"/jobs/{job_id}/chunks").json()]

    def events(self, job_id: int, *, timeout: float | None = None,
               waiting: bool = False) -> Iterator[Progress | Waiting]:
        """Progress each time it changes, ending after the first finished status; with
        `waiting`, also the chunks that wait for their engine's search quota, each time
        that set changes.

        `timeout` is the longest silence tolerated between events (default 45 s; the server
        sends a keep-alive every 15 s); past it, or if the connection drops, ConnectionLost.
        The stream also ends, without a finished status, if the job is deleted meanwhile.
        Errors before the first event (401 after refresh, 403, 404) raise as usual.
        """
        silence = timeout if timeout is not None else max(self.timeout, EVENTS_SILENCE)
        limits = httpx.Timeout(self.timeout, read=silence)
        # A stream opened again after a drop resumes: the server answers at once with the
        # current state, and its event ids go on.
        last_id = self._event_ids.get(job_id)
        headers = {"Last-Event-ID": last_id} if last_id else None
        response = self._open_stream("GET", f"/jobs/{job_id}/events", timeout=limits,
                                     headers=headers)
        with self._streams_lock:
            self._streams.add(response)
        try:
            yield from self._progress_events(job_id, response, waiting)
        finally:
            with self._streams_lock:
                self._streams.discard(response)
            response.close()

    def _open_stream(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A streamed response (the caller closes it) after the usual 401 renewal; an error
        status is read and raised like any other call's."""
        token = self._access
        response = self._request(method, path, token, stream=True, **kwargs)
        try:
            if response.status_code == 401 and self._renew(token):
                response.close()
                response = self._request(method, path, self._access, stream=True, **kwargs)
            if response.is_error:
                response.read()
                raise error_from_response(response)
        except BaseException:
            response.close()
            raise
        return response

    def _progress_events(self, job_id: int, response: httpx.Response,
                         waiting: bool) -> Iterator[Progress | Waiting]:
        try:
            for event in iter_events(response.iter_lines()):
                if event.event not in ("progress", "waiting"):
                    continue
                if event.id is not None:
                    self._event_ids[job_id] = event.id
                if event.event == "waiting":
                    if waiting:
                        yield Waiting.model_validate_json(event.data)
                    continue
                progress = Progress.model_validate_json(event.data)
                yield progress
                if progress.status in FINISHED:
                    return
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    # -- images and validation -----------------------------------------------------------

    def images(self, job_id: int, *, page: int = 1, page_size: int = 200,
               keyword: str | None = None, validation: str | None = None,
               engine: str | None = None, review: str | None = None) -> Page[Image]:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        for name, value in (("keyword", keyword), ("validation", validation),
                            ("engine", engine), ("review", review)):
            if value is not None:
                params[name] = value
        return Page[Image].model_validate(
            self._call("GET", f"/jobs/{job_id}/images", params=params).json())

    def review(self, image_id: int, state: str) -> Image:
        """Set one image's review state (unreviewed, accepted or rejected)."""
        response = self._call("PATCH", f"/images/{image_id}", json={"review": state})
        return Image.model_validate(response.json())

    def review_many(self, job_id: int, image_ids: Sequence[int], state: str) -> int:
        """Set one review state on many images of the job at once; how many were set."""
        response = self._call("PATCH", f"/jobs/{job_id}/images",
                              json={"ids": list(image_ids), "review": state})
        return int(response.json()["updated"])

    def review_counts(self, job_id: int) -> dict[str, int]:
        """How many of the job's images are in each review state."""
        return {state: self.images(job_id, page_size=1, review=state).total
                for state in REVIEW_STATES}

    def image_bytes(self, image_id: int) -> bytes:
        return self._call("GET", f"/images/{image_id}/file").content

    def validate(self, job_id: int, level: str = "medium") -> ValidationStarted:
        """Start a validation run over the job's images; NotFoundError if it has none."""
        response = self._call("POST", f"/validation/job/{job_id}/", json={"level": level})
        return ValidationStarted.model_validate(response.json())

    def validation(self, job_id: int) -> ValidationSummary | None:
        """The latest run's summary, or None if the job was never validated. A missing job
        still raises NotFoundError: the two 404s differ only in their detail."""
        try:
            response = self._call("GET", f"/validation/job/{job_id}/")
        except NotFoundError as exc:
            if exc.detail.endswith(NOT_VALIDATED):
                return None
            raise
        return ValidationSummary.model_validate(response.json())

    # -- export --------------------------------------------------------------------------

    def export_formats(self) -> list[ExportFormat]:
        """The dataset formats, and whether this server can write each (and if not, why)."""
        return [ExportFormat.model_validate(f)
                for f in self._call("GET", "/export/formats").json()]

    def download_export(self, job_id: int, dest: Path, *, include: str = "all",
                        split: str | None = None, export_format: str = "imagefolder",
                        shard_mb: int | None = None,
                        progress: Callable[[int], None] | None = None) -> Path:
        """Stream the job's dataset zip to `dest` (a folder: the server's file name inside
        it); returns the file written.

        The bytes go to a hidden temporary file next to the destination, renamed over it only
        once the whole archive arrived and reads as a zip, so `dest` is never half-written. On
        any error, or when `progress(bytes_so_far)` raises to cancel, the temporary file is
        removed and the exception propagates. `split` is "train:0.8,val:0.1,test:0.1";
        `shard_mb` is webdataset's shard size.
        """
        params: dict[str, Any] = {"include": include, "format": export_format,
                                  **({"split": split} if split else {})}
        if shard_mb is not None:
            params["shard_mb"] = shard_mb
        limits = httpx.Timeout(self.timeout, read=max(self.timeout, EXPORT_SILENCE))
        response = self._open_stream("GET", f"/jobs/{job_id}/export", params=params,
                                     timeout=limits)
        try:
            target = dest / download_name(response, job_id) if dest.is_dir() else dest
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                       suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    received = 0
                    for block in response.iter_bytes(DOWNLOAD_BLOCK):
                        fh.write(block)
                        received += len(block)
                        if progress is not None:
                            progress(received)
                    fh.flush()
                    os.fsync(fh.fileno())
                if not zipfile.is_zipfile(tmp):
                    raise ApiError(response.status_code,
                                   "The server's export is not a complete zip file")
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        finally:
            response.close()
        return target

    def export_to_folder(self, job_id: int, path: Path | str, *, include: str = "all",
                         split: str | None = None, export_format: str = "imagefolder",
                         shard_mb: int | None = None) -> ExportResult:
        """Have the server write the dataset into the folder `path` on its own disk, which is
        this computer's only for a server in embedded mode (others answer 403). The folder
        must be new or empty (409); the server writes it atomically."""
        body: dict[str, Any] = {"path": str(path), "include": include, "format": export_format}
        if split:
            body["split"] = split
        if shard_mb is not None:
            body["shard_mb"] = shard_mb
        limits = httpx.Timeout(self.timeout, read=FOLDER_EXPORT_TIMEOUT)
        response = self._call("POST", f"/jobs/{job_id}/export", json=body, timeout=limits)
        return ExportResult.model_validate(response.json())
