"""Plain data passed between engines, the downloader and the chunk runner.

Kept free of Celery, FastAPI and the database so crawl code can be tested and benchmarked alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Candidate:
    """One image an engine found for a keyword, in the engine's result order."""

    url: str
    page_url: str | None = None
    title: str | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_url: str | None = None
    # Provenance the engine gives (the open-licence sources do; scraped search engines do not).
    license: str | None = None  # e.g. "CC BY-SA 4.0", "Unsplash License", "public domain"
    license_url: str | None = None
    creator: str | None = None
    attribution: str | None = None  # ready-to-print credit line, when the source gives one
    # A URL the source asks to be called once the image is kept (Unsplash's download_location)
    ping_url: str | None = None


@dataclass(slots=True)
class ResultPage:
    """One page of engine results; ``next_cursor`` is None on the last page."""

    candidates: list[Candidate]
    next_cursor: Any = None


class EngineError(Exception):
    """An engine could not give results; the message is shown to users as the chunk's error.

    Always prefixed with the engine name, e.g. "bing: result page format not recognised".
    The subclasses say what kind of failure it was, for the engine health check.
    """


class EngineBlocked(EngineError):
    """The engine refuses us: a captcha page, HTTP 403, or 429 that does not end."""


class EngineFormatError(EngineError):
    """The engine answered, but in a format the parser does not recognise (a layout change)."""


class EngineUnavailable(EngineError):
    """The engine cannot be used here, e.g. its API key is not configured."""


@dataclass(slots=True)
class Fetched:
    """A downloaded image body, verified by magic bytes, sitting in a temporary file."""

    url: str
    temp_path: Path
    sha256: str
    size: int
    format: str  # "jpeg" | "png" | "gif" | "webp" | "bmp" | "tiff" | "avif" | "heic"
    extension: str  # without dot, e.g. "jpg"
    width: int | None = None
    height: int | None = None


# Why a download failed, as the chunk's breakdown counts it (one counter each): users see
# "31 failed (22 timeouts, 9 not images)" rather than a pile of messages.
FAILURE_REASONS = ("timeout", "not_image", "too_large", "robots", "optout", "http", "network",
                   "other")


class DownloadError(Exception):
    """A download failed for good (after retries); the message says why, for the chunk's log,
    and ``reason`` (one of FAILURE_REASONS) which counter of the breakdown it goes to."""

    def __init__(self, message: str, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason if reason in FAILURE_REASONS else "other"


class Failure(NamedTuple):
    """A failed download as recorded: its URL, the message, and the breakdown's reason."""

    url: str
    message: str
    reason: str = "other"


class LocalWriteError(Exception):
    """Writing on this machine failed (disk full, no permission): not the source's fault, and
    no other download would fare better. Wraps the OSError."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class ServiceDown(Exception):
    """A service the chunk needs (the database, Redis, the broker) did not answer. Worth
    waiting for: an outage is a pause, not a failure, up to the outage limit."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


class ChunkFault(Exception):
    """The chunk cannot go on here: the disk is full, a folder cannot be written, or a service
    stayed down past the outage limit. The chunk stops at once and ends failed with this
    message, whatever it downloaded."""


@dataclass(slots=True)
class StoredImage:
    """An image moved into the job folder, ready to be recorded."""

    keyword: str
    engine: str
    rank: int
    candidate: Candidate
    fetched: Fetched
    file_path: str  # relative to the data dir, POSIX separators


@dataclass(frozen=True, slots=True)
class Parked:
    """A chunk that gave its worker back to wait for its engine's search quota: the booked
    query slot (epoch seconds) and where its search stands, to go on from there."""

    until: float
    search: dict[str, Any]


# How a chunk's search ended short of its target: the engine had no more results, refused
# us (captcha, 403, a quota that does not end), or failed otherwise (a page it cannot read).
SEARCH_ENDS = ("ran_out", "blocked", "failed")


@dataclass(slots=True)
class ChunkOutcome:
    downloaded: int = 0
    duplicates: int = 0
    failed: int = 0
    failed_by: dict[str, int] = field(default_factory=dict)  # FAILURE_REASONS -> count
    results: int = 0  # results the engine gave in all (its global rank reached)
    search_end: str | None = None  # SEARCH_ENDS, once the search has ended
    # Where the search stands at the end (cursor, next rank, results not yet used), so a
    # chunk whose target is raised later (a top-up) goes on from there.
    search: dict[str, Any] | None = None
    error: str | None = None
    fault: str | None = None  # why the chunk stopped before its end (it then failed)
    cancelled: bool = False
    too_small: int = 0  # left out by the job's minimum size
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # for users, e.g. hosts that were skipped
    parked: Parked | None = None  # not finished: to run again when its quota slot comes


class ChunkSink(Protocol):
    """What the chunk runner needs from whoever records results (the Celery task and the DB)."""

    def already_recorded(self) -> dict[int, str]:
        """Ranks already stored for this chunk (a re-delivered chunk resumes): rank -> url."""

    def stored_elsewhere(self, urls: Sequence[str]) -> set[str]:
        """Those of ``urls`` that the job already stored from another chunk (its other engines
        list many of the same images): not worth downloading again."""

    def is_cancelled(self) -> bool:
        """True once the chunk or its job was cancelled; polled between downloads."""

    def note_wait(self, until: float) -> None:
        """The chunk waits for its engine's search quota until ``until`` (epoch seconds), for
        users to see. Best effort: called from a worker thread; errors are ignored."""

    def record_batch(
        self,
        images: Sequence[StoredImage],
        failures: Sequence[Failure],
        duplicates: int,
        place: Callable[[Sequence[StoredImage]], None],
        filtered: int = 0,
    ) -> list[str | None] | None:
        """Record images, failed downloads, duplicates the runner found itself and results
        its filters removed (``filtered``), in one transaction (called from a worker thread,
        never on the event loop).
        `place` moves the new images' files into place; it is called inside the transaction,
        so a file never shows without its committed row, nor after a cancel has committed.

        Returns, per image, None if it is new, else the file path of the job's existing image
        with the same sha256; or None for all when the chunk is no longer this run's
        (cancelled, or taken over): then nothing was recorded or placed.
        Raises ServiceDown when the database does not answer, ChunkFault when it cannot write.
        """
