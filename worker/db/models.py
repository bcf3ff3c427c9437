"""SQLAlchemy 2 models: users own jobs, jobs split into chunks (keyword × engine) that find images.

The same models run on SQLite (embedded) and PostgreSQL (server); only portable types are used.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware everywhere: SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):  # type: ignore[override]
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class JobStatus(enum.StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


ChunkStatus = JobStatus  # the same five states, by design (seed: "Task States")

FINISHED = frozenset({JobStatus.completed, JobStatus.failed, JobStatus.cancelled})


class ValidationStatus(enum.StrEnum):
    pending = "pending"
    valid = "valid"
    invalid = "invalid"
    duplicate = "duplicate"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native/CHECK enum) so adding a state is a code change only.
    return Enum(cls, name=name, native_enum=False, create_constraint=False, length=16,
                values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    jobs: Mapped[list[Job]] = relationship(back_populates="owner", passive_deletes=True)


class TokenFamily(Base):
    """One sign-in's chain of refresh tokens. Only ``current`` (a token id, the JWT's jti)
    may be exchanged, and doing so replaces it; presenting any earlier one means a token
    was copied, so the whole family is revoked (OAuth refresh-token rotation). Logout
    revokes it too. Access tokens stay stateless and simply run out."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    current: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Past this the family's newest token has expired too: rows safe to delete.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_owner_status", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    engines: Mapped[list[str]] = mapped_column(JSON)
    max_images: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"),
                                              default=JobStatus.pending)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(back_populates="jobs")
    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="job", order_by="Chunk.id", cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Chunk(Base):
    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("job_id", "keyword", "engine"),
        # Covers the progress aggregate, so polling progress never touches the table itself.
        Index("ix_chunks_progress", "job_id", "status", "target", "downloaded", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(String(200))
    engine: Mapped[str] = mapped_column(String(40))
    target: Mapped[int] = mapped_column(Integer)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "chunk_status"),
                                              default=JobStatus.pending)
    task_id: Mapped[str | None] = mapped_column(String(64))
    downloaded: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed_downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Things users should know that are not errors, e.g. a filter this engine cannot apply.
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The booked search-quota slot the chunk waits for (shown to users while in the future),
    # and where its search stood when it gave its worker back to wait (worker.crawl.chunk).
    waiting_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_state: Mapped[dict | None] = mapped_column(JSON)
    # Where the target went (worker.shortfall): results the engine gave in all, how its search
    # ended, results our filters removed, and failed downloads by reason (failed_downloads is
    # their sum). Counters, so each changes in one UPDATE (SET n = n + k).
    results_found: Mapped[int] = mapped_column(Integer, default=0)
    search_end: Mapped[str | None] = mapped_column(String(16))  # ran_out | blocked | failed
    filtered_out: Mapped[int] = mapped_column(Integer, default=0)
    failed_timeout: Mapped[int] = mapped_column(Integer, default=0)
    failed_not_image: Mapped[int] = mapped_column(Integer, default=0)
    failed_too_large: Mapped[int] = mapped_column(Integer, default=0)
    failed_robots: Mapped[int] = mapped_column(Integer, default=0)
    failed_optout: Mapped[int] = mapped_column(Integer, default=0)
    failed_http: Mapped[int] = mapped_column(Integer, default=0)
    failed_network: Mapped[int] = mapped_column(Integer, default=0)
    failed_other: Mapped[int] = mapped_column(Integer, default=0)
    # Top-up (job option `fill`): the shares of other chunks of its keyword this chunk took
    # over, [{"chunk_id", "engine", "images"}]; its target includes them.
    took_over: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    job: Mapped[Job] = relationship(back_populates="chunks")


class ReviewState(enum.StrEnum):
    """A person's decision on an image, which export honours."""

    unreviewed = "unreviewed"
    accepted = "accepted"
    rejected = "rejected"


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("job_id", "sha256"),
        Index("ix_images_chunk_rank", "chunk_id", "rank"),
        Index("ix_images_job_validation", "job_id", "validation_status"),
        Index("ix_images_job_review", "job_id", "review"),
        Index("ix_images_job_url", "job_id", "url_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunks.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(String(200))
    engine: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer)
    source_url: Mapped[str] = mapped_column(Text)
    # `url_key(source_url)`: an indexable stand-in for the URL, which can be longer than an
    # index entry may be. NULL on rows stored before migration 0009.
    url_key: Mapped[int | None] = mapped_column(BigInteger)
    page_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)  # what was sent to the engine
    license: Mapped[str | None] = mapped_column(String(200))
    license_url: Mapped[str | None] = mapped_column(Text)
    creator: Mapped[str | None] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(16))
    downloaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    validation_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("validation_runs.id", ondelete="SET NULL"))
    validation_status: Mapped[ValidationStatus] = mapped_column(
        _enum(ValidationStatus, "validation_status"), default=ValidationStatus.pending
    )
    validation_level: Mapped[str | None] = mapped_column(String(16))
    validation_issues: Mapped[list[str]] = mapped_column(JSON, default=list)
    validation_metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    pixel_hash: Mapped[str | None] = mapped_column(String(64))  # decoded pixels, for exact dups
    phash: Mapped[str | None] = mapped_column(String(16))  # 64-bit perceptual hash, hex
    review: Mapped[ReviewState] = mapped_column(_enum(ReviewState, "review_state"),
                                                default=ReviewState.unreviewed)


class RunStatus(enum.StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"


class ValidationRun(Base):
    """One validation of a job's images at one level; the latest run is the job's result."""

    __tablename__ = "validation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"),
                                              default=RunStatus.running)
    images_total: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    batches_done: Mapped[int] = mapped_column(Integer, default=0)
    task_offset: Mapped[int] = mapped_column(Integer)  # task ids continue across runs
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerPresence(Base):
    """A running worker process and the task ids it holds (reserved or executing), kept fresh
    by its recovery thread. A queued chunk that neither the broker nor a live worker holds was
    lost (a broker restart, a worker killed after taking it) and is sent again."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    holding: Mapped[list[str]] = mapped_column(JSON, default=list)


def url_key(url: str) -> int:
    """The first 8 bytes of the URL's SHA-256 as a signed 64-bit integer (fits BIGINT)."""
    return int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big", signed=True)
