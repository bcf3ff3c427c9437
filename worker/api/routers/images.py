"""Image files and review decisions, for the owner of the image's job only."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse

from worker.api.deps import DB, IMAGE_NOT_FOUND, UserId, WriterId, owned_job
from worker.api.schemas import ImageOut, ReviewIn
from worker.db.models import Image

router = APIRouter(prefix="/images", tags=["images"])

MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
               "webp": "image/webp", "bmp": "image/bmp", "tiff": "image/tiff",
               "avif": "image/avif", "heic": "image/heic"}


@router.get("/{image_id}/file")
def image_file(image_id: int, request: Request, user_id: UserId, db: DB) -> FileResponse:
    image = db.get(Image, image_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=IMAGE_NOT_FOUND)
    owned_job(db, image.job_id, user_id)
    root = request.app.state.settings.data_dir.resolve()
    path = (root / image.file_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Image file not found on disk")
    return FileResponse(path, media_type=MEDIA_TYPES.get(image.format, "application/octet-stream"))


@router.patch("/{image_id}", response_model=ImageOut)
def review_image(image_id: int, body: ReviewIn, user_id: WriterId, db: DB) -> Image:
    """Set the image's review state: `accepted`, `rejected` or back to `unreviewed`."""
    image = db.get(Image, image_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=IMAGE_NOT_FOUND)
    owned_job(db, image.job_id, user_id)
    image.review = body.review
    db.commit()
    return image
