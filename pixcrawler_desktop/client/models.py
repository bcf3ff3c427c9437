"""The server's JSON as typed objects, defined here because the client may not import `worker`.

Every model ignores unknown fields, so a newer server that adds fields does not break an older
desktop app. Statuses stay plain strings for the same reason. The `can_*` helpers hold the
server's rules for which action a job accepts, so the GUI greys out buttons the server would
refuse anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
FINISHED = frozenset({"completed", "failed", "cancelled"})
VALIDATION_LEVELS = ("fast", "medium", "slow")
# The filter vocabulary of the server's worker/crawl/filters.py (not importable here).
LICENSES = ("any", "commercial", "modify", "commercial_modify", "public_domain")
IMAGE_TYPES = ("any", "photo", "clipart", "lineart", "animated", "transparent")
COLORS = (
    "any", "color", "grayscale", "red", "orange", "yellow", "green", "teal", "blue", "purple",
    "pink", "white", "gray", "black", "brown",
)  # fmt: skip
EXPORT_INCLUDE = ("all", "valid", "reviewed")
EXPORT_FORMATS = ("imagefolder", "huggingface", "webdataset", "parquet")
REVIEW_STATES = ("unreviewed", "accepted", "rejected")
# Images per keyword: the one default of the app and the CLI, and the server's upper bound.
DEFAULT_MAX_IMAGES = 100
MAX_IMAGES = 10_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class User(_Model):
    id: int
    email: str
    created_at: datetime


class Tokens(_Model):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class _Counts(_Model):
    """What a job and its progress report share: status and chunk counters."""

    status: str
    progress: int
    total_chunks: int
    active_chunks: int
    completed_chunks: int
    failed_chunks: int
    downloaded_images: int
    started_at: datetime | None = None
    updated_at: datetime


class Filters(_Model):
    """Search filters of a job (see the server's GET /engines for who applies what)."""

    safe_search: bool = True
    min_width: int = 0
    min_height: int = 0
    license: str = "any"
    image_type: str = "any"
    color: str = "any"


def requested_filters(filters: Filters) -> dict[str, object]:
    """The filters an engine is asked to apply (name -> value), leaving out the "any"s and the
    minimum size, which the server enforces for every engine itself."""
    wanted: dict[str, object] = {"safe_search": True} if filters.safe_search else {}
    for name in ("license", "image_type", "color"):
        value = getattr(filters, name)
        if value != "any":
            wanted[name] = value
    return wanted


class FailedBy(_Model):
    """Failed downloads by reason (the server's breakdown)."""

    timeout: int = 0
    not_image: int = 0
    too_large: int = 0
    robots: int = 0
    optout: int = 0  # the owner opted out (X-Robots-Tag noai, noindex, ...)
    http: int = 0
    network: int = 0
    other: int = 0


class TookOver(_Model):
    chunk_id: int
    engine: str
    images: int


class Shortfall(_Model):
    """Where the images went: downloaded + duplicates + filtered + failed = the results the
    engine gave; ran_out / blocked / search_failed: images no result was there for."""

    downloaded: int = 0
    results: int = 0
    ran_out: int = 0
    blocked: int = 0
    search_failed: int = 0
    filtered: int = 0
    duplicates: int = 0
    failed: int = 0
    failed_by: FailedBy = Field(default_factory=lambda: FailedBy())


class ChunkBreakdown(Shortfall):
    target: int = 0
    share: int = 0  # its own share of the keyword (target minus what it took over)
    search_end: str | None = None  # "ran_out" | "blocked" | "failed" once its search ended
    took_over: list[TookOver] = Field(default_factory=list)


class JobBreakdown(Shortfall):
    wanted: int = 0  # max_images × keywords
    targets: int = 0
    topped_up: int = 0  # images moved to another engine of the same keyword (fill)


class Job(_Counts):
    id: int
    name: str
    keywords: list[str]
    engines: list[str]
    max_images: int
    respect_robots: bool = True
    respect_optout: bool = True  # owners' X-Robots-Tag opt-outs honoured
    fill: bool = False  # a keyword's shortfall on one engine goes to its other engines
    warnings: list[str] = Field(default_factory=list)  # its sources' terms (e.g. Unsplash)
    # JSON key "validate"; renamed because a field of that name shadows BaseModel.validate.
    validate_level: str | None = Field(None, alias="validate")
    filters: Filters = Field(default_factory=lambda: Filters())
    cancelled_chunks: int
    created_at: datetime
    finished_at: datetime | None = None
    breakdown: JobBreakdown | None = None  # where the images went (servers before issue 19: None)


class Progress(_Counts):
    job_id: int
    estimated_completion: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class Chunk(_Model):
    id: int
    keyword: str
    engine: str
    status: str
    target: int
    downloaded: int
    duplicates_skipped: int
    failed_downloads: int
    last_error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    task_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime
    # While it waits for its engine's search quota: when its booked query goes, and for what.
    waiting_until: datetime | None = None
    waiting_for: str | None = None
    breakdown: ChunkBreakdown | None = None  # where its target went (older servers: None)


class WaitingChunk(_Model):
    id: int
    keyword: str
    engine: str
    waiting_until: datetime


class Waiting(_Model):
    """The events stream's `waiting` event: the chunks that wait for their engine's quota."""

    job_id: int
    chunks: list[WaitingChunk] = Field(default_factory=list)


class Image(_Model):
    id: int
    job_id: int
    chunk_id: int
    keyword: str
    engine: str
    rank: int
    source_url: str
    page_url: str | None = None
    title: str | None = None
    query: str | None = None
    license: str | None = None
    license_url: str | None = None
    creator: str | None = None
    attribution: str | None = None
    file_path: str
    sha256: str
    bytes: int
    width: int | None = None
    height: int | None = None
    format: str
    downloaded_at: datetime
    validation_status: str = "pending"
    validation_level: str | None = None
    validation_issues: list[str] = Field(default_factory=list)
    validation_metrics: dict[str, Any] = Field(default_factory=dict)
    review: str = "unreviewed"  # a person's decision: unreviewed | accepted | rejected


class Page(_Model, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class EngineTerms(_Model):
    """An engine's terms that matter for a dataset (GET /engines `terms`)."""

    summary: str = ""
    url: str | None = None
    warning: str | None = None  # to show whenever a job uses it (e.g. Unsplash on ML use)
    notes: list[str] = Field(default_factory=list)


class Engine(_Model):
    name: str
    label: str = ""
    kind: str = "scraped"
    available: bool
    reason: str | None = None
    key_setting: str | None = None
    filters: list[str] = Field(default_factory=list)
    filter_values: dict[str, list[str | bool]] = Field(default_factory=dict)
    search_rate: str | None = None  # its search-query quota, e.g. "10/minute"
    page_size: int | None = None  # results one query gives
    terms: EngineTerms | None = None  # older servers: None


class ExportFormat(_Model):
    name: str
    available: bool = True
    detail: str | None = None  # why not, and how to get it


def filters_not_applied(engine: Engine, filters: Filters) -> list[str]:
    """The requested filters `engine` cannot apply, so a form can say so before the chunk
    warnings do."""
    return [name for name, value in requested_filters(filters).items()
            if value not in engine.filter_values.get(name, [])]


class ExportResult(_Model):
    """A folder export the server wrote: where, how many images and bytes, and how many
    images it skipped because their file was gone."""

    path: str
    images: int
    bytes: int
    missing: int = 0


class Health(_Model):
    """Overall status ("ok", "degraded" or "unavailable") and each part's {"ok": ..., ...}."""

    status: str
    database: dict[str, Any]
    broker: dict[str, Any]
    workers: dict[str, Any]


class StartResult(_Model):
    job_id: int
    status: str
    task_ids: list[str]
    total_chunks: int
    message: str


class CancelResult(_Model):
    job_id: int
    status: str
    revoked_tasks: int
    message: str


class ValidationStarted(_Model):
    job_id: int
    images_count: int
    validation_level: str
    task_ids: list[str]
    message: str


class ValidationSummary(_Model):
    job_id: int
    run_id: int
    level: str
    status: str
    images_total: int
    validated: int
    valid: int
    invalid: int
    duplicate: int
    issues: dict[str, int] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None


def can_start(job: Job) -> bool:
    """Only a pending job starts; a finished one is retried instead."""
    return job.status == "pending"


def failure_reasons(chunks: Sequence[Chunk]) -> list[str]:
    """Why the failed chunks failed, each reason once (a full disk stops every chunk alike)."""
    return list(dict.fromkeys(c.last_error or "no reason given" for c in chunks
                              if c.status == "failed"))


def can_cancel(job: Job) -> bool:
    return job.status in ("pending", "running")


def can_retry(job: Job) -> bool:
    """The server refuses a retry with nothing to redo, so a fully completed job cannot."""
    return job.status in FINISHED and job.failed_chunks + job.cancelled_chunks > 0


def can_validate(job: Job) -> bool:
    """Validation needs stored images, and checking a set that is still growing is pointless."""
    return job.downloaded_images > 0 and job.status != "running"


def can_export(job: Job) -> bool:
    """A dataset needs images; a running job exports what it has so far."""
    return job.downloaded_images > 0


def can_delete(job: Job) -> bool:
    """The server refuses to delete a running job: its workers are still writing files."""
    return job.status != "running"
