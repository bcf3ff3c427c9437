"""What an export will contain: which images, in which order, under which names and splits.

A plan is plain data taken from the job once, before any byte is sent, so the request can be
refused with a clear error up front; the image rows are read later, in batches, while writing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from worker.crawl.filters import SearchFilters
from worker.crawl.terms import crawl_notices
from worker.db.models import Image, Job, ReviewState, ValidationRun, ValidationStatus, utcnow
from worker.export import names
from worker.export.split import Split, assign, parse_split
from worker.validate.thresholds import Thresholds

# all: every image a person did not reject; valid: of those, the ones validation passed;
# reviewed: only the ones a person accepted.
Include = Literal["all", "valid", "reviewed"]
INCLUDE: tuple[Include, ...] = ("all", "valid", "reviewed")
# imagefolder: the images in <split>/<class>/ with our manifests; huggingface: the same, plus
# a metadata.jsonl per split and a dataset card for the Hugging Face hub; webdataset: tar
# shards per split; parquet: one Parquet file per split, images inside.
Format = Literal["imagefolder", "huggingface", "webdataset", "parquet"]
FORMATS: tuple[Format, ...] = ("imagefolder", "huggingface", "webdataset", "parquet")
# Formats that pack many images into one file (a tar shard, a Parquet file).
PACKED: tuple[Format, ...] = ("webdataset", "parquet")
SHARD_MB = 1000  # webdataset's own guidance: shards of a few hundred MB to a few GB
MAX_SHARD_MB = 100_000
BATCH = 500

# The columns an export needs (not the validation metrics or hashes, which can be large).
COLUMNS = (
    Image.id, Image.keyword, Image.engine, Image.query, Image.rank, Image.source_url,
    Image.page_url, Image.title, Image.license, Image.license_url, Image.creator,
    Image.attribution, Image.file_path, Image.sha256, Image.bytes, Image.width, Image.height,
    Image.format, Image.downloaded_at, Image.validation_status, Image.validation_level,
    Image.validation_issues,
)  # fmt: skip


class OptionError(ValueError):
    """Export options that cannot be used; the message is one line for the user."""


class NotValidated(Exception):
    """include=valid asked of a job that was never validated."""


@dataclass(frozen=True, slots=True)
class Options:
    include: Include = "all"
    splits: tuple[Split, ...] = ()
    format: Format = "imagefolder"
    shard_mb: int = SHARD_MB  # webdataset: the most MB in one tar shard


def parse_options(include: str | None, split: str | None, export_format: str | None = None,
                  shard_mb: int | None = None) -> Options:
    """Options from the request's strings; a blank split means no split."""
    include = include or "all"
    export_format = export_format or "imagefolder"
    if export_format not in FORMATS:
        raise OptionError(f"format must be one of {', '.join(FORMATS)}, got {export_format!r}")
    if shard_mb is not None and export_format != "webdataset":
        raise OptionError("shard_mb applies only to format=webdataset")
    if shard_mb is not None and not 1 <= shard_mb <= MAX_SHARD_MB:
        raise OptionError(f"shard_mb must be between 1 and {MAX_SHARD_MB}, got {shard_mb}")
    if include not in INCLUDE:
        raise OptionError(f"include must be 'all', 'valid' or 'reviewed', got {include!r}")
    try:
        splits = parse_split(split) if split and split.strip() else ()
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    return Options(include, splits, export_format,  # type: ignore[arg-type]
                   SHARD_MB if shard_mb is None else shard_mb)


@dataclass(frozen=True, slots=True)
class Validation:
    """The job's latest validation run, as the README reports it."""

    level: str
    status: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Plan:
    job_id: int
    job_name: str
    keywords: tuple[str, ...]
    engines: tuple[str, ...]
    filters: dict[str, Any]
    options: Options
    folders: dict[str, str]  # keyword -> class folder, job keywords first
    validation: Validation | None
    # image id -> the sha256 its split follows: a duplicate's is its kept image's, so a
    # duplicate group never straddles splits. Images not listed follow their own.
    split_keys: dict[int, str]
    # Near-duplicate pairs (by the perceptual hashes of a slow validation) whose two images
    # fall in different splits; None when there are no splits or no such hashes.
    cross_split_pairs: int | None
    data_dir: Path
    exported_at: datetime
    # What whoever uses the dataset must know of how it was crawled and of its sources' terms
    # (worker.crawl.terms): the README and the dataset card repeat them.
    notices: tuple[str, ...] = ()

    @property
    def classes(self) -> list[str]:
        """The keywords in label order: a label is an index into this list."""
        return list(self.folders)

    @property
    def download_names(self) -> tuple[str, str]:
        return names.archive_names(self.job_name, self.job_id)

    @property
    def split_names(self) -> list[str | None]:
        """Each split's name (its folder), or [None] for an export without splits."""
        return [s.name for s in self.options.splits] or [None]

    def split_of(self, row: Row) -> str | None:
        splits = self.options.splits
        return assign(self.split_keys.get(row.id, row.sha256), splits) if splits else None

    def place(self, row: Row) -> tuple[str | None, str]:
        """(split, path inside the export) of one image row: `<split>/<class>/<file>`, or
        `<class>/<file>` without splits, the layout torchvision's ImageFolder and the
        `datasets` imagefolder loader read."""
        split = self.split_of(row)
        folder = self.folders[row.keyword]
        name = names.file_name(row.engine, row.rank, row.sha256, row.format)
        return split, f"{split}/{folder}/{name}" if split else f"{folder}/{name}"


def make_plan(session: Session, job: Job, options: Options, data_dir: Path,
              near_distance: int = Thresholds().near_duplicate_max_distance) -> Plan:
    """Everything but the image rows; NotValidated when include=valid cannot be honoured.
    `near_distance` is the near-duplicate threshold the job was validated with."""
    run = session.scalar(
        select(ValidationRun)
        .where(ValidationRun.job_id == job.id)
        .order_by(ValidationRun.id.desc())
        .limit(1)
    )
    if run is None and options.include == "valid":
        raise NotValidated(
            f"Job {job.id} has not been validated; validate it first or export with include=all"
        )
    # Images of a keyword the job no longer lists still get a folder, after the job's own.
    stray = session.scalars(select(Image.keyword).where(Image.job_id == job.id).distinct())
    keywords = [*job.keywords, *sorted(set(stray) - set(job.keywords))]
    validation = (
        Validation(run.level, str(run.status), run.created_at, run.finished_at) if run else None
    )
    split_keys = _split_keys(session, job.id) if options.splits else {}
    plan = Plan(
        job_id=job.id,
        job_name=job.name,
        keywords=tuple(job.keywords),
        engines=tuple(job.engines),
        filters=SearchFilters.from_options(job.options).as_dict(),
        options=options,
        folders=names.keyword_folders(keywords),
        validation=validation,
        split_keys=split_keys,
        cross_split_pairs=None,
        data_dir=Path(data_dir),
        exported_at=utcnow(),
        notices=crawl_notices(job.options, job.engines),
    )
    if not options.splits:
        return plan
    return replace(plan, cross_split_pairs=_cross_split_pairs(session, plan, near_distance))


def _cross_split_pairs(session: Session, plan: Plan, near_distance: int) -> int | None:
    """Count the near-duplicate pairs the export's splits would separate."""
    hashed = []
    query = _included(select(Image.id, Image.sha256, Image.phash), plan).where(
        Image.job_id == plan.job_id, Image.phash.is_not(None))
    for image_id, sha256, phash in session.execute(query.execution_options(yield_per=BATCH)):
        split = assign(plan.split_keys.get(image_id, sha256), plan.options.splits)
        hashed.append((split, int(phash, 16)))
    if not hashed:
        return None
    # numpy comes with it: imported here so the API process starts without it
    from worker.validate.duplicates import cross_group_pairs

    return cross_group_pairs(hashed, near_distance)


def _included(query: Select, plan: Plan) -> Select:
    """The include rule: never rejected images; only accepted ones for `reviewed`; only
    valid ones for `valid`."""
    if plan.options.include == "reviewed":
        query = query.where(Image.review == ReviewState.accepted)
    else:
        query = query.where(Image.review != ReviewState.rejected)
    if plan.options.include == "valid":
        query = query.where(Image.validation_status == ValidationStatus.valid)
    return query


def _split_keys(session: Session, job_id: int) -> dict[int, str]:
    """Each duplicate (exact or near) the latest validation found -> its kept image's sha256."""
    keepers: dict[int, int] = {}
    rows = session.execute(select(Image.id, Image.validation_metrics).where(
        Image.job_id == job_id, Image.validation_status == ValidationStatus.duplicate))
    for image_id, metrics in rows:
        keeper = (metrics or {}).get("duplicate_of")
        if isinstance(keeper, int):
            keepers[image_id] = keeper
    if not keepers:
        return {}
    ids = sorted(set(keepers.values()))
    sha = {}
    for start in range(0, len(ids), BATCH):
        sha.update(session.execute(select(Image.id, Image.sha256).where(
            Image.job_id == job_id, Image.id.in_(ids[start:start + BATCH]))).all())
    return {image_id: sha[keeper] for image_id, keeper in keepers.items() if keeper in sha}


def image_rows(session: Session, plan: Plan) -> Iterator[Row]:
    """The included images, keyword by keyword in the job's order, then by engine and rank;
    fetched ``BATCH`` at a time (a server-side cursor on PostgreSQL). Packed formats take them
    by content hash instead, a fixed order that mixes the classes, so a tar shard or a Parquet
    row group is not all one class (training reads them in order, shuffling only nearby)."""
    if plan.options.format in PACKED:
        query = (
            select(*COLUMNS)
            .where(Image.job_id == plan.job_id)
            .order_by(Image.sha256, Image.id)
            .execution_options(yield_per=BATCH)
        )
        yield from session.execute(_included(query, plan))
        return
    for keyword in plan.folders:
        query = (
            select(*COLUMNS)
            .where(Image.job_id == plan.job_id, Image.keyword == keyword)
            .order_by(Image.engine, Image.rank, Image.id)
            .execution_options(yield_per=BATCH)
        )
        yield from session.execute(_included(query, plan))
