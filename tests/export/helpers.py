"""Jobs with images on disk for export tests: rows inserted in bulk, files written directly."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from worker.crawl.storage import keyword_slug
from worker.db.models import Chunk, Image, Job

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def blob(key: object, size: int = 64) -> bytes:
    """Distinct bytes per key (so distinct hashes), starting like a JPEG."""
    seed = hashlib.sha256(str(key).encode()).digest()
    return (b"\xff\xd8\xff\xe0" + seed * (size // 32 + 1))[:size]


def image_values(
    job_id: int,
    chunk_id: int,
    keyword: str,
    n: int,
    data: bytes,
    engine: str = "bing",
    **fields: Any,
) -> dict[str, Any]:
    """One images row, with the file path the crawler would have used."""
    sha = hashlib.sha256(data).hexdigest()
    values = {
        "job_id": job_id,
        "chunk_id": chunk_id,
        "keyword": keyword,
        "engine": engine,
        "rank": n,
        "source_url": f"https://img.example/{n}.jpg",
        "page_url": f"https://page.example/{n}",
        "title": f"Picture {n}",
        "query": keyword,
        "license": None,
        "license_url": None,
        "creator": None,
        "attribution": None,
        "file_path": f"jobs/{job_id}/{keyword_slug(keyword)}/{engine}-{n}-{sha[:12]}.jpg",
        "sha256": sha,
        "bytes": len(data),
        "width": 4,
        "height": 3,
        "format": "jpeg",
        "downloaded_at": T0 + timedelta(seconds=n),
        "validation_status": "pending",
        "validation_level": None,
        "validation_issues": [],
        "validation_metrics": {},
    }
    values.update(fields)
    return values


def add_images(db: Session, data_dir: Path, job_id: int, rows: list[tuple[dict, bytes]]) -> None:
    """Insert rows (one statement) and write each file where its row says."""
    db.execute(insert(Image), [values for values, _ in rows])
    db.commit()
    made: set[Path] = set()
    for values, data in rows:
        path = data_dir / values["file_path"]
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)


def chunk_ids(db: Session, job_id: int) -> dict[tuple[str, str], int]:
    return {
        (k, e): i
        for i, k, e in db.execute(
            select(Chunk.id, Chunk.keyword, Chunk.engine).where(Chunk.job_id == job_id)
        )
    }


def make_job(
    db: Session, owner_id: int, keywords: list[str], engines: list[str], name: str = "Pets"
) -> Job:
    """A job with its chunks, as the API creates it, without going through the API."""
    job = Job(
        owner_id=owner_id,
        name=name,
        keywords=keywords,
        engines=engines,
        max_images=10,
        options={"filters": {"license": "any"}},
        status="completed",
    )
    job.chunks = [Chunk(keyword=k, engine=e, target=10) for k in keywords for e in engines]
    db.add(job)
    db.commit()
    return job
