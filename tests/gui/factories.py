"""Client model objects built from the JSON the server sends, for the model-level tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pixcrawler_desktop.client.models import Chunk, Image, Job

T0 = datetime(2025, 1, 2, 9, 30, tzinfo=UTC)


def job(job_id: int, name: str, status: str = "pending", *, progress: int = 0,
        keywords: tuple[str, ...] = ("cat", "dog"), engines: tuple[str, ...] = ("bing",),
        downloaded: int = 0, completed: int = 0, failed: int = 0, cancelled: int = 0,
        active: int = 0) -> Job:
    total = len(keywords) * len(engines)
    return Job.model_validate({
        "id": job_id, "name": name, "keywords": list(keywords), "engines": list(engines),
        "max_images": 10, "respect_robots": True, "validate": None, "status": status,
        "progress": progress, "total_chunks": total, "active_chunks": active,
        "completed_chunks": completed, "failed_chunks": failed, "cancelled_chunks": cancelled,
        "downloaded_images": downloaded,
        "created_at": (T0 + timedelta(minutes=job_id)).isoformat(),
        "started_at": None, "finished_at": None,
        "updated_at": (T0 + timedelta(minutes=job_id, seconds=30)).isoformat(),
    })


def chunk(chunk_id: int, keyword: str, engine: str, status: str = "running", *,
          downloaded: int = 0, target: int = 10, error: str | None = None) -> Chunk:
    return Chunk.model_validate({
        "id": chunk_id, "keyword": keyword, "engine": engine, "status": status,
        "target": target, "downloaded": downloaded, "duplicates_skipped": 0,
        "failed_downloads": 1 if error else 0, "last_error": error, "task_id": None,
        "created_at": T0.isoformat(), "started_at": None, "finished_at": None,
        "updated_at": T0.isoformat(),
    })


def image(image_id: int, keyword: str, outcome: str = "pending", *, rank: int = 1) -> Image:
    return Image.model_validate({
        "id": image_id, "job_id": 1, "chunk_id": 1, "keyword": keyword, "engine": "bing",
        "rank": rank, "source_url": f"http://127.0.0.1/img/{keyword}-{rank}.jpg",
        "page_url": None, "title": f"{keyword} {rank}",
        "file_path": f"jobs/1/{keyword}/bing-{rank}-abc.jpg", "sha256": f"{image_id:064x}",
        "bytes": 2048, "width": 320, "height": 240, "format": "jpeg",
        "downloaded_at": T0.isoformat(), "validation_status": outcome,
        "validation_level": None if outcome == "pending" else "fast",
        "validation_issues": ["too_dark"] if outcome == "invalid" else [],
        "validation_metrics": {},
    })
