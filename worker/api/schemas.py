"""Request and response bodies; field names follow the seed contract exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from worker.crawl.engines import ENGINES
from worker.crawl.filters import COLORS, IMAGE_TYPES, LICENSES
from worker.db.models import JobStatus, ReviewState
from worker.shortfall import chunk_breakdown

T = TypeVar("T")

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Documented as the registry's names; the validator below also takes them in any case.
EngineName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ENGINES)})]


class Credentials(BaseModel):
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)


class LoginBody(BaseModel):
    email: EmailStr
    password: str = Field(max_length=256)


class RefreshBody(BaseModel):
    refresh_token: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class FiltersIn(BaseModel):
    """Search filters passed to the engines that can apply them (see GET /engines)."""

    model_config = ConfigDict(extra="forbid")

    safe_search: StrictBool = True
    min_width: StrictInt = Field(0, ge=0, le=100_000)
    min_height: StrictInt = Field(0, ge=0, le=100_000)
    license: Literal[LICENSES] = "any"  # type: ignore[valid-type]
    image_type: Literal[IMAGE_TYPES] = "any"  # type: ignore[valid-type]
    color: Literal[COLORS] = "any"  # type: ignore[valid-type]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    keywords: list[Keyword] = Field(min_length=1, max_length=100)
    engines: list[EngineName] = Field(min_length=1)
    max_images: StrictInt = Field(ge=1, le=10000, description="Images wanted per keyword")
    respect_robots: StrictBool = True
    respect_optout: StrictBool = Field(
        True, description="Leave out images whose owner opted out (X-Robots-Tag noai, "
                          "noimageai, noindex, noimageindex); the export's README says if not")
    fill: StrictBool = Field(
        False, description="Top up to the count: a keyword's images one engine cannot give "
                           "go to the job's other engines for that keyword")
    validate_level: Literal["fast", "medium", "slow"] | None = Field(
        None, alias="validate", description="Validate at this level when the crawl finishes")
    filters: FiltersIn = Field(default_factory=FiltersIn)

    @field_validator("keywords")
    @classmethod
    def _unique_keywords(cls, value: list[str]) -> list[str]:
        """Drop repeats (case-insensitive), keeping the first spelling and the order."""
        seen: set[str] = set()
        out = []
        for kw in value:
            if kw.casefold() not in seen:
                seen.add(kw.casefold())
                out.append(kw)
        return out

    @field_validator("engines")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        names = [e.strip().lower() for e in value]
        unknown = [e for e in names if e not in ENGINES]
        if unknown:
            permitted = ", ".join(f"'{n}'" for n in ENGINES)
            raise ValueError(f"unknown engine {unknown[0]!r}; permitted: {permitted}")
        return list(dict.fromkeys(names))


class FailedByOut(BaseModel):
    """Failed downloads by reason."""

    timeout: int = 0
    not_image: int = Field(0, description="not an image, or a broken one")
    too_large: int = 0
    robots: int = Field(0, description="disallowed by robots.txt")
    optout: int = Field(0, description="the owner opted out (X-Robots-Tag noai, noindex, ...)")
    http: int = Field(0, description="an HTTP error status")
    network: int = Field(0, description="connection, DNS or a body cut short")
    other: int = 0


class TookOverOut(BaseModel):
    chunk_id: int
    engine: str
    images: int


class ShortfallOut(BaseModel):
    """Where the images went: downloaded + duplicates + filtered + failed are the results the
    engine gave; ran_out / blocked / search_failed are the images of the target that no
    result was there for."""

    downloaded: int
    results: int = Field(description="Results the engine gave in all")
    ran_out: int = Field(description="Short because the engine had no more results")
    blocked: int = Field(description="Short because the engine refused us")
    search_failed: int = Field(description="Short because a result page could not be read")
    filtered: int = Field(description="Results our filters removed (min size)")
    duplicates: int = Field(description="Listed twice, or bytes the job already has")
    failed: int
    failed_by: FailedByOut


class ChunkBreakdownOut(ShortfallOut):
    target: int
    share: int = Field(description="Its own share of the keyword's images (target minus "
                                   "what it took over)")
    search_end: Literal["ran_out", "blocked", "failed"] | None = Field(
        None, description="How its search ended, once it has")
    took_over: list[TookOverOut] = Field(
        default_factory=list, description="Shares of other chunks of its keyword it took over "
                                          "(job option fill)")


class JobBreakdownOut(ShortfallOut):
    wanted: int = Field(description="max_images × keywords")
    targets: int = Field(description="Sum of the chunks' targets")
    topped_up: int = Field(description="Images moved to another engine of the same keyword")


class JobOut(BaseModel):
    id: int
    name: str
    keywords: list[str]
    engines: list[str]
    max_images: int
    respect_robots: bool
    respect_optout: bool = True
    fill: bool = False
    validate_level: str | None = Field(None, serialization_alias="validate")
    filters: FiltersIn
    status: JobStatus
    progress: int
    total_chunks: int
    active_chunks: int
    completed_chunks: int
    failed_chunks: int
    cancelled_chunks: int
    downloaded_images: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    breakdown: JobBreakdownOut | None = Field(
        None, description="Where the images went, summed over its chunks")
    warnings: list[str] = Field(
        default_factory=list, description="What its engines' terms say a dataset user must "
                                          "know (e.g. Unsplash's licence on ML use)")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class StartOut(BaseModel):
    job_id: int
    status: JobStatus
    task_ids: list[str]
    total_chunks: int
    message: str


class CancelOut(BaseModel):
    job_id: int
    status: JobStatus
    revoked_tasks: int
    message: str


class ProgressOut(BaseModel):
    job_id: int
    status: JobStatus
    progress: int
    total_chunks: int
    active_chunks: int
    completed_chunks: int
    failed_chunks: int
    downloaded_images: int
    estimated_completion: datetime | None
    started_at: datetime | None
    updated_at: datetime


class ChunkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    keyword: str
    engine: str
    status: JobStatus
    target: int
    downloaded: int
    duplicates_skipped: int
    failed_downloads: int
    last_error: str | None
    warnings: list[str]
    task_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    waiting_until: datetime | None = Field(
        None, description="While the chunk waits for its engine's search quota: when its "
                          "booked query goes (else null)")
    waiting_for: str | None = Field(None, description='What it waits for, e.g. "bing search '
                                                      'quota"')
    breakdown: ChunkBreakdownOut | None = Field(None, description="Where its target went")

    @model_validator(mode="before")
    @classmethod
    def _with_breakdown(cls, data: object) -> object:
        """A chunk row gets its breakdown from its counters (worker.shortfall)."""
        if isinstance(data, dict) or not hasattr(data, "failed_downloads"):
            return data
        fields = {name: getattr(data, name) for name in cls.model_fields
                  if name not in ("breakdown", "waiting_for")}
        return {**fields, "breakdown": chunk_breakdown(data)}

    @model_validator(mode="after")
    def _waiting_now(self) -> ChunkOut:
        """Only a wait still ahead of an open chunk is shown."""
        until = self.waiting_until
        if (until is None or self.status not in (JobStatus.pending, JobStatus.running)
                or until <= datetime.now(UTC)):
            self.waiting_until = self.waiting_for = None
        else:
            self.waiting_for = f"{self.engine} search quota"
        return self


class WaitingChunkOut(BaseModel):
    id: int
    keyword: str
    engine: str
    waiting_until: datetime


class WaitingOut(BaseModel):
    """The events stream's `waiting` event: chunks waiting for their engine's quota."""

    job_id: int
    chunks: list[WaitingChunkOut]


class ImageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    job_id: int
    chunk_id: int
    keyword: str
    engine: str
    rank: int
    source_url: str
    page_url: str | None
    title: str | None
    query: str | None
    license: str | None
    license_url: str | None
    creator: str | None
    attribution: str | None
    file_path: str
    sha256: str
    bytes: int
    width: int | None
    height: int | None
    format: str
    downloaded_at: datetime
    validation_status: str
    validation_level: str | None
    validation_issues: list[str]
    validation_metrics: dict
    review: ReviewState


MAX_REVIEW_IDS = 1000


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    review: ReviewState


class ReviewManyIn(ReviewIn):
    ids: list[StrictInt] = Field(min_length=1, max_length=MAX_REVIEW_IDS,
                           description=f"Images of the job, at most {MAX_REVIEW_IDS} at once")


class ReviewManyOut(BaseModel):
    updated: int
    review: ReviewState


class EngineTermsOut(BaseModel):
    summary: str
    url: str | None = None
    warning: str | None = Field(None, description="Told to every job that uses it")
    notes: list[str] = Field(default_factory=list, description="How we follow them")


class EngineUsageOut(BaseModel):
    limit: int = Field(description="Requests the key may make in the period (Pexels: a month)")
    remaining: int = Field(description="What the source said was left, at its last answer")
    resets_at: datetime = Field(description="When the period rolls over")


class EngineOut(BaseModel):
    name: str
    label: str
    kind: str
    available: bool
    reason: str | None = None
    key_setting: str | None = Field(None, description="Variable that holds its API key")
    filters: list[str] = Field(description="Filters it applies itself (min size: all engines)")
    filter_values: dict[str, list[str | bool]] = Field(
        description="For each filter it applies, the values it can apply")
    search_rate: str = Field(description="Its search-query quota, shared by every worker "
                                         "(PIXCRAWLER_ENGINE_<NAME>_SEARCH_RATE)")
    page_size: int = Field(description="Results one search query gives")
    terms: EngineTermsOut | None = Field(None, description="Its terms that matter for a dataset")
    usage: EngineUsageOut | None = Field(
        None, description="What is left of its API key's budget, as the source last said")


class EngineHealthOut(BaseModel):
    name: str
    status: Literal["ok", "zero_results", "format_not_recognised", "blocked", "unavailable",
                    "failed"]
    results: int
    elapsed_ms: int
    message: str | None
