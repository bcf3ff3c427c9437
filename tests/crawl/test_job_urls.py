"""A keyword's engines list many of the same images: what one chunk stored, the job's other
chunks skip without a download (through the database, which every worker shares), and the
chunks are sent so that one keyword's engines run apart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from worker.crawl.types import Candidate, Fetched, StoredImage
from worker.db.models import Base, Chunk, Image, Job, JobStatus, User, url_key
from worker.lifecycle import Dispatch, spread
from worker.tasks.crawl import DbChunkSink


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'urls.db'}")
    Base.metadata.create_all(engine)
    made = sessionmaker(engine, expire_on_commit=False)
    with made() as db:
        db.add(User(id=1, email="a@example.com", password_hash="x"))
        db.add(Job(id=1, owner_id=1, name="j", keywords=["fox"], engines=["bing", "duckduckgo"],
                   max_images=20, status=JobStatus.running))
        db.add(Job(id=2, owner_id=1, name="k", keywords=["fox"], engines=["bing"],
                   max_images=10, status=JobStatus.running))
        for chunk_id, job_id, engine in ((1, 1, "bing"), (2, 1, "duckduckgo"), (3, 2, "bing")):
            db.add(Chunk(id=chunk_id, job_id=job_id, keyword="fox", engine=engine, target=10,
                         status=JobStatus.running, task_id=f"t{chunk_id}"))
        db.commit()
    return made


def stored(url: str, rank: int, engine: str = "bing") -> StoredImage:
    sha = hashlib.sha256(url.encode()).hexdigest()
    fetched = Fetched(url, Path("/nonexistent"), sha, 100, "jpeg", "jpg", 10, 10)
    return StoredImage("fox", engine, rank, Candidate(url), fetched,
                       f"jobs/1/fox/{engine}-{rank}-{sha[:12]}.jpg")


def sink(sessions: sessionmaker[Session], chunk_id: int, job_id: int = 1) -> DbChunkSink:
    return DbChunkSink(sessions, chunk_id, job_id, f"t{chunk_id}", heartbeat=60)


def test_urls_another_chunk_of_the_job_stored_are_known(sessions):
    urls = [f"http://img.example/{i}.jpg" for i in range(5)]
    bing = sink(sessions, 1)
    assert bing.record_batch([stored(u, i) for i, u in enumerate(urls[:3])], [], 0,
                             lambda _images: None) is not None
    with sessions() as db:
        keys = dict(db.execute(select(Image.source_url, Image.url_key)).all())
    assert keys == {u: url_key(u) for u in urls[:3]}

    # the job's other engine skips those three; its own chunk is not told its own images,
    # and another job's chunk is not told this job's
    assert sink(sessions, 2).stored_elsewhere(urls) == set(urls[:3])
    assert bing.stored_elsewhere(urls) == set()
    assert sink(sessions, 3, job_id=2).stored_elsewhere(urls) == set()
    assert sink(sessions, 2).stored_elsewhere([]) == set()


def test_a_url_key_clash_is_not_taken_for_the_url(sessions):
    """The key is an index, not the identity: only the exact URL counts."""
    url = "http://img.example/a.jpg"
    sink(sessions, 1).record_batch([stored(url, 0)], [], 0, lambda _images: None)
    with sessions() as db:  # another URL that happened to have the same key
        db.execute(Image.__table__.update().values(source_url="http://img.example/b.jpg"))
        db.commit()
    assert sink(sessions, 2).stored_elsewhere([url]) == set()


def test_one_keyword_s_engines_are_sent_apart_and_engines_alternate():
    dispatches = [Dispatch(f"t{n}", n, 1, f"kw{n // 2}", ("bing", "ddg")[n % 2], 10)
                  for n in range(8)]
    order = [(d.keyword, d.engine) for d in spread(dispatches)]
    assert order == [("kw0", "bing"), ("kw1", "ddg"), ("kw2", "bing"), ("kw3", "ddg"),
                     ("kw0", "ddg"), ("kw1", "bing"), ("kw2", "ddg"), ("kw3", "bing")]
    assert sorted(spread(dispatches), key=lambda d: d.chunk_id) == dispatches
    # uneven groups (a re-send of some chunks) lose none and repeat none
    some = dispatches[:3] + dispatches[6:]
    assert sorted(d.chunk_id for d in spread(some)) == [0, 1, 2, 6, 7]
    assert spread([]) == []
