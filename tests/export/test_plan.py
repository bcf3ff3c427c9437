"""Planning an export against a real SQLite database: order, filters, names, missing files."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import update

from tests.export.helpers import add_images, blob, chunk_ids, image_values, make_job
from worker.db.models import Image, ValidationRun
from worker.export.dataset import JobFiles, OutsideJob, entries
from worker.export.plan import (
    NotValidated,
    OptionError,
    Options,
    image_rows,
    make_plan,
    parse_options,
)
from worker.export.split import parse_split
from worker.export.spool import Spool


@pytest.fixture
def job(db, data_dir):
    job = make_job(db, 1, ["dog", "cat", "Cat!"], ["bing", "duckduckgo"])
    chunks = chunk_ids(db, job.id)
    rows = [
        (
            image_values(
                job.id,
                chunks["cat", "duckduckgo"],
                "cat",
                1,
                blob(1),
                engine="duckduckgo",
                validation_status="valid",
            ),
            blob(1),
        ),
        (image_values(job.id, chunks["cat", "bing"], "cat", 2, blob(2)), blob(2)),
        (
            image_values(
                job.id, chunks["cat", "bing"], "cat", 1, blob(3), validation_status="valid"
            ),
            blob(3),
        ),
        (
            image_values(
                job.id,
                chunks["dog", "bing"],
                "dog",
                5,
                blob(4),
                validation_status="invalid",
                validation_issues=["too_small"],
            ),
            blob(4),
        ),
        (image_values(job.id, chunks["Cat!", "bing"], "Cat!", 1, blob(5)), blob(5)),
        # An image filed under a keyword the job does not list (renamed, say).
        (image_values(job.id, chunks["cat", "bing"], "kitten", 9, blob(6)), blob(6)),
    ]
    add_images(db, data_dir, job.id, rows)
    return job


def test_parse_options():
    assert parse_options(None, None) == Options("all", ())
    assert parse_options("valid", "  ") == Options("valid", ())
    assert parse_options("all", "a:0.5,b:0.5").splits == parse_split("a:0.5,b:0.5")
    with pytest.raises(OptionError,
                       match="include must be 'all', 'valid' or 'reviewed', got 'some'"):
        parse_options("some", None)
    with pytest.raises(OptionError, match="add up to 1"):
        parse_options("all", "a:0.5")


def test_rows_in_keyword_then_engine_then_rank_order(db, data_dir, job):
    plan = make_plan(db, job, Options(), data_dir)
    assert plan.folders == {"dog": "dog", "cat": "cat", "Cat!": "Cat-2", "kitten": "kitten"}
    order = [(r.keyword, r.engine, r.rank) for r in image_rows(db, plan)]
    assert order == [
        ("dog", "bing", 5),
        ("cat", "bing", 1),
        ("cat", "bing", 2),
        ("cat", "duckduckgo", 1),
        ("Cat!", "bing", 1),
        ("kitten", "bing", 9),
    ]
    assert plan.validation is None and plan.filters["license"] == "any"


def test_include_valid_needs_a_validation_run(db, data_dir, job):
    with pytest.raises(
        NotValidated,
        match=f"Job {job.id} has not been validated; validate it first or export with include=all",
    ):
        make_plan(db, job, Options("valid"), data_dir)
    db.add(
        ValidationRun(
            job_id=job.id,
            level="fast",
            status="completed",
            images_total=6,
            batches=1,
            task_offset=0,
        )
    )
    db.commit()
    plan = make_plan(db, job, Options("valid"), data_dir)
    assert plan.validation.level == "fast" and plan.validation.status == "completed"
    assert [(r.keyword, r.engine) for r in image_rows(db, plan)] == [
        ("cat", "bing"),
        ("cat", "duckduckgo"),
    ]


def test_places_with_and_without_split(db, data_dir, job):
    plain = make_plan(db, job, Options(), data_dir)
    split = make_plan(db, job, Options("all", parse_split("train:0.5,test:0.5")), data_dir)
    for row in image_rows(db, plain):
        assert plain.place(row) == (
            None,
            f"{plain.folders[row.keyword]}/{row.engine}-{row.rank:04d}-{row.sha256[:12]}.jpg",
        )
        name, path = split.place(row)
        first, folder, file = path.split("/")
        assert name in ("train", "test") and first == name
        assert (folder, file) == tuple(plain.place(row)[1].split("/"))


def test_missing_and_escaping_files_are_skipped_not_fatal(db, data_dir, job, tmp_path):
    rows = {
        r.rank: r
        for r in image_rows(db, make_plan(db, job, Options(), data_dir))
        if r.keyword == "cat"
    }
    (data_dir / rows[2].file_path).unlink()
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    db.execute(
        update(Image).where(Image.id == rows[1].id).values(file_path="jobs/../../secret.jpg")
    )
    db.commit()
    plan = make_plan(db, job, Options(), data_dir)
    with Spool() as spool:
        written = [
            (e.name, hashlib.sha256(e.file.read()).hexdigest(), e.size)
            for e in entries(db, plan, spool)
        ]
        assert spool.images == 4 and spool.missing == 2
        assert written == [(r["file"], r["sha256"], r["bytes"]) for r in spool.rows()]
        skipped = {image_id: reason for image_id, _, _, reason in spool.skipped()}
        assert skipped == {
            rows[2].id: "No such file or directory",
            rows[1].id: "the stored path is outside the job's folder",
        }


def test_files_open_only_inside_the_job_folder(data_dir, tmp_path):
    job = data_dir / "jobs" / "3"
    (job / "cat").mkdir(parents=True)
    (job / "cat" / "a.jpg").write_bytes(b"a")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "s.jpg").write_bytes(b"s")
    (job / "cat" / "link.jpg").symlink_to(tmp_path / "secret" / "s.jpg")
    (job / "away").symlink_to(tmp_path / "secret")
    (data_dir / "jobs" / "4").mkdir()
    (data_dir / "jobs" / "4" / "b.jpg").write_bytes(b"b")
    files = JobFiles(data_dir, 3)
    path, fh = files.open("jobs/3/cat/a.jpg")
    with fh:
        assert fh.read() == b"a" and path == str((job / "cat" / "a.jpg").resolve())
    for escaping in ("jobs/3/away/s.jpg", "jobs/3/../4/b.jpg", "jobs/3/cat/../../../x.jpg"):
        with pytest.raises(OutsideJob):
            files.open(escaping)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        files.open("jobs/3/cat/link.jpg")  # a symlink in a file's place is not followed
    with pytest.raises(FileNotFoundError):
        files.open("jobs/3/cat/gone.jpg")
