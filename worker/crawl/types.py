"""Plain data passed between engines, the downloader and the chunk runner.

Kept free of Celery, FastAPI and the database so crawl code can be tested and benchmarked alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


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


class DownloadError(Exception):
    """A download failed for good (after retries); the message says why, for the chunk's log."""


@dataclass(slots=True)
class StoredImage:
    """An image moved into the job folder, ready to be recorded."""

    keyword: str
    engine: str
    rank: int
    candidate: Candidate
    fetched: Fetched
    file_path: str  # relative to the data dir, POSIX separators


@dataclass(slots=True)
class ChunkOutcome:
    downloaded: int = 0
    duplicates: int = 0
    failed: int = 0
    error: str | None = None
    cancelled: bool = False
    too_small: int = 0  # left out by the job's minimum size
    errors: list[str] = field(default_factory=list)


class ChunkSink(Protocol):
    """What the chunk runner needs from whoever records results (the Celery task and the DB)."""

    def already_recorded(self) -> dict[int, str]:
        """Ranks already stored for this chunk (a re-delivered chunk resumes): rank -> url."""

    def is_cancelled(self) -> bool:
        """True once the chunk or its job was cancelled; polled between downloads."""

    def record_batch(
        self, images: Sequence[StoredImage], failures: Sequence[tuple[str, str]], duplicates: int
    ) -> list[str | None]:
        """Record placed images, failed downloads (url, reason) and duplicates the runner found
        itself, in one go (called from a worker thread, never on the event loop).

        Returns, per image, None if it is new, else the file path of the job's existing image
        with the same sha256 (the runner then removes its own copy if the paths differ).
        """
