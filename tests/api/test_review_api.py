"""Review decisions through the API: one image or many at once, the owner only, kept by the
server, and honoured by every export."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from tests.api.test_export import db_images, download, fill, manifest, new_job
from worker.db.models import Image
from worker.db.session import session_scope


def job_with_images(server, user, n: int = 6) -> tuple[int, list[int]]:
    job_id = new_job(user.client, keywords=["cat"], engines=["bing"])
    fill(server, job_id, [("cat", "bing", i, {}) for i in range(n)])
    return job_id, sorted(db_images(server, job_id))


def reviews(client, job_id: int, **params) -> dict[int, str]:
    body = client.get(f"/jobs/{job_id}/images", params={"page_size": 500, **params}).json()
    return {i["id"]: i["review"] for i in body["items"]}


def test_review_one_and_many(server, user):
    job_id, ids = job_with_images(server, user)
    assert set(reviews(user.client, job_id).values()) == {"unreviewed"}

    r = user.client.patch(f"/images/{ids[0]}", json={"review": "accepted"})
    assert r.status_code == 200 and r.json()["review"] == "accepted"
    r = user.client.patch(f"/jobs/{job_id}/images", json={"ids": ids[1:4], "review": "rejected"})
    assert r.status_code == 200 and r.json() == {"updated": 3, "review": "rejected"}
    assert reviews(user.client, job_id, review="accepted") == {ids[0]: "accepted"}
    assert set(reviews(user.client, job_id, review="rejected")) == set(ids[1:4])
    assert set(reviews(user.client, job_id, review="unreviewed")) == set(ids[4:])

    r = user.client.patch(f"/images/{ids[1]}", json={"review": "unreviewed"})  # undo
    assert r.status_code == 200 and r.json()["review"] == "unreviewed"


def test_bulk_review_is_all_or_nothing(server, user):
    job_id, ids = job_with_images(server, user)
    other, other_ids = job_with_images(server, user, 1)
    r = user.client.patch(f"/jobs/{job_id}/images",
                          json={"ids": [ids[0], other_ids[0], 999_999], "review": "rejected"})
    assert r.status_code == 422
    assert r.json() == {"detail": f"No image of job {job_id} has id {other_ids[0]}, 999999"}
    assert set(reviews(user.client, job_id).values()) == {"unreviewed"}
    assert set(reviews(user.client, other).values()) == {"unreviewed"}


def test_review_input_is_checked(server, user):
    job_id, ids = job_with_images(server, user, 1)
    for body in ({"review": "maybe"}, {}, {"review": "accepted", "extra": 1}):
        r = user.client.patch(f"/images/{ids[0]}", json=body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "body"
    for ids_value in ([], list(range(1001)), ["x"]):
        r = user.client.patch(f"/jobs/{job_id}/images",
                              json={"ids": ids_value, "review": "accepted"})
        assert r.status_code == 422
    assert user.client.patch("/images/999999", json={"review": "accepted"}).json() == {
        "detail": "Image not found"}


def test_only_the_owner_reviews(server, users):
    owner, stranger = users(server), users(server)
    job_id, ids = job_with_images(server, owner, 1)
    r = stranger.client.patch(f"/images/{ids[0]}", json={"review": "rejected"})
    assert r.status_code == 403 and r.json() == {"detail": "Access denied to this resource"}
    r = stranger.client.patch(f"/jobs/{job_id}/images", json={"ids": ids, "review": "rejected"})
    assert r.status_code == 403
    r = stranger.client.patch("/jobs/999999/images", json={"ids": ids, "review": "rejected"})
    assert r.status_code == 404 and r.json() == {"detail": "Crawl job not found"}
    assert set(reviews(owner.client, job_id).values()) == {"unreviewed"}


def test_exports_honour_reviews(server, user):
    job_id, ids = job_with_images(server, user)
    accepted, rejected = ids[:2], ids[2:4]
    user.client.patch(f"/jobs/{job_id}/images", json={"ids": accepted, "review": "accepted"})
    user.client.patch(f"/jobs/{job_id}/images", json={"ids": rejected, "review": "rejected"})
    with session_scope(server.settings()) as db:  # as a validation run would have left them
        db.execute(update(Image).where(Image.job_id == job_id).values(validation_status="valid"))
    fill_run(server, job_id)

    def exported(**params) -> set[int]:
        return {r["image_id"] for r in manifest(download(user.client, job_id, **params))[1]}

    assert exported() == set(ids) - set(rejected)
    assert exported(include="valid") == set(ids) - set(rejected)
    assert exported(include="reviewed") == set(accepted)
    images = db_images(server, job_id)
    assert all(Path(server.data_dir, images[i].file_path).is_file() for i in rejected)
    r = user.client.get(f"/jobs/{job_id}/export", params={"include": "best"})
    assert r.status_code == 422
    assert r.json() == {"detail": "include must be 'all', 'valid' or 'reviewed', got 'best'"}


def fill_run(server, job_id: int) -> None:
    """A finished validation run, so include=valid is allowed."""
    from datetime import UTC, datetime

    from worker.db.models import ValidationRun

    with session_scope(server.settings()) as db:
        db.add(ValidationRun(job_id=job_id, level="fast", status="completed", images_total=6,
                             batches=1, batches_done=1, task_offset=0,
                             finished_at=datetime.now(UTC)))
