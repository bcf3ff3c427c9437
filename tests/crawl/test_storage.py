"""Keyword slugs never escape the job folder; files land atomically where the layout says."""

from __future__ import annotations

import hashlib
import os
import random
import re
import unicodedata
from pathlib import Path

import pytest

from worker.crawl.storage import MAX_SLUG, MAX_SLUG_BYTES, JobStorage, keyword_slug
from worker.crawl.types import Fetched

HOSTILE = [
    "",
    ".",
    "..",
    "../../etc",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "C:\\boot.ini",
    "a/b",
    "a\\b",
    "a\x00b",
    "\x00",
    "CON",
    "con",
    "nul",
    "Aux",
    "com1",
    "LPT9",
    "COM\u00b9",  # NFKC turns the superscript into "com1"
    " ",
    "-",
    "---",
    "~",
    "$HOME",
    "cat\n",
    "\ud800",  # lone surrogate
    "ｃａｔ",  # full-width letters
    "Ǆemal",
    "猫",
    "Katze ünd Hund",
    "🐱",
    "x" * 10_000,
    "猫" * 500,
    "\U00020000" * 300,  # 4-byte letters: the byte cap matters
    "ﷺ" * 100,  # one char NFKC-expands to 18
]

SAFE_CHARS = re.compile(r"^[\w-]+$")


def random_keywords(count: int) -> list[str]:
    rng = random.Random(20240611)
    alphabet = 'aZ09 ./\\:*?"<>|\x00\x1f-_~é猫ß\u0307\u200b\U0001f431ｃ'
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def assert_safe(slug: str) -> None:
    assert slug and slug not in (".", "..")
    assert SAFE_CHARS.match(slug), slug
    assert "_" not in slug and not slug.startswith("-") and not slug.endswith("-")
    assert len(slug) <= MAX_SLUG and len(slug.encode("utf-8")) <= MAX_SLUG_BYTES
    # Windows reserves these names exactly (and with an extension; slugs have no dots)
    assert "." not in slug and slug not in {"con", "prn", "aux", "nul", "com1", "lpt9"}
    assert unicodedata.normalize("NFKC", slug) == slug


@pytest.mark.parametrize("keyword", HOSTILE + random_keywords(300))
def test_slug_is_a_safe_file_name(keyword: str) -> None:
    slug = keyword_slug(keyword)
    assert_safe(slug)
    assert keyword_slug(keyword) == slug  # deterministic


def test_clean_keywords_keep_their_name() -> None:
    assert keyword_slug("cat") == "cat"
    assert keyword_slug("red-panda") == "red-panda"
    assert keyword_slug("猫") == "猫"


def test_changed_keywords_get_a_hash_suffix() -> None:
    digest = hashlib.sha256(b"Red Panda").hexdigest()[:8]
    assert keyword_slug("Red Panda") == f"red-panda-{digest}"
    assert keyword_slug("x" * 200) == "x" * (MAX_SLUG - 9) + "-" + keyword_slug("x" * 200)[-8:]


def test_distinct_keywords_get_distinct_slugs() -> None:
    keywords = set(HOSTILE + random_keywords(2000)) | {"cat", "Cat", "CAT", "cat!", " cat", "c-a-t"}
    slugs = {keyword_slug(k) for k in keywords}
    assert len(slugs) == len(keywords)


@pytest.mark.parametrize("keyword", HOSTILE)
def test_relative_path_stays_inside_the_job(tmp_path: Path, keyword: str) -> None:
    storage = JobStorage(tmp_path, 7)
    rel = storage.relative_path(keyword, "bing", 3, "ab" * 32, "jpg")
    slug = keyword_slug(keyword)
    assert rel == f"jobs/7/{slug}/bing-3-{'ab' * 6}.jpg"
    path = storage.path_of(rel)
    assert path.resolve().is_relative_to((tmp_path / "jobs" / "7").resolve())
    assert path.parent.parent == tmp_path.resolve() / "jobs" / "7"


@pytest.mark.parametrize(
    "rel",
    [
        "jobs/7/../8/cat/x.jpg",
        "jobs/8/cat/x.jpg",
        "/etc/passwd",
        "jobs/7/cat/../../../x.jpg",
        "jobs/7/.tmp/dl-1.part",
        "jobs/7/x.jpg",
        "jobs/7/cat\\..\\..\\x.jpg",
        "jobs/7/cat/x\x00.jpg",
        "jobs/7//x.jpg",
    ],
)
def test_paths_outside_the_job_are_rejected(tmp_path: Path, rel: str) -> None:
    storage = JobStorage(tmp_path, 7)
    with pytest.raises(ValueError):
        storage.path_of(rel)
    with pytest.raises(ValueError):
        storage.remove(rel)


def test_symlinked_folder_cannot_lead_outside(tmp_path: Path) -> None:
    storage = JobStorage(tmp_path / "data", 7)
    outside = tmp_path / "outside"
    outside.mkdir()
    try:
        (storage.job_dir / "cat").symlink_to(outside, target_is_directory=True)
    except OSError:
        pytest.skip("symlinks not permitted here")
    with pytest.raises(ValueError, match="escapes"):
        storage.path_of("jobs/7/cat/bing-0-abc.jpg")


@pytest.mark.parametrize(
    ("engine", "rank", "sha", "ext"),
    [
        ("../bing", 0, "ab" * 32, "jpg"),
        ("bing", -1, "ab" * 32, "jpg"),
        ("bing", 0, "../" * 22, "jpg"),
        ("bing", 0, "ab" * 32, "jpg/../../x"),
        ("Bing", 0, "ab" * 32, "jpg"),
    ],
)
def test_relative_path_rejects_bad_parts(
    tmp_path: Path, engine: str, rank: int, sha: str, ext: str
) -> None:
    with pytest.raises(ValueError):
        JobStorage(tmp_path, 1).relative_path("cat", engine, rank, sha, ext)


def make_fetched(storage: JobStorage, body: bytes) -> Fetched:
    temp = storage.temp_dir / f"dl-{hashlib.md5(body).hexdigest()}.part"
    temp.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    return Fetched("http://x/a.jpg", temp, digest, len(body), "jpeg", "jpg", 1, 1)


def test_place_moves_atomically_and_remove_deletes(tmp_path: Path) -> None:
    storage = JobStorage(tmp_path, 42)
    assert storage.temp_dir == tmp_path.resolve() / "jobs" / "42" / ".tmp"
    assert storage.temp_dir.is_dir()
    fetched = make_fetched(storage, b"\xff\xd8\xff image bytes")
    inode = os.stat(fetched.temp_path).st_ino
    rel = storage.relative_path("Red Panda", "bing", 0, fetched.sha256, "jpg")

    final = storage.place(fetched, rel)

    assert final == tmp_path.resolve() / rel
    assert final.read_bytes() == b"\xff\xd8\xff image bytes"
    assert os.stat(final).st_ino == inode  # renamed in place, never copied
    assert not fetched.temp_path.exists()
    assert list(storage.temp_dir.iterdir()) == []

    storage.remove(rel)
    assert not final.exists()
    storage.remove(rel)  # removing twice is fine


def test_place_replaces_a_same_named_file(tmp_path: Path) -> None:
    storage = JobStorage(tmp_path, 1)
    first = make_fetched(storage, b"one")
    rel = storage.relative_path("cat", "bing", 0, first.sha256, "jpg")
    storage.place(first, rel)
    again = make_fetched(storage, b"one")
    assert storage.place(again, rel).read_bytes() == b"one"


def test_delete_job_removes_everything(tmp_path: Path) -> None:
    storage = JobStorage(tmp_path, 5)
    other = JobStorage(tmp_path, 6)
    fetched = make_fetched(storage, b"x")
    storage.place(fetched, storage.relative_path("cat", "bing", 0, fetched.sha256, "jpg"))
    (storage.temp_dir / "left.part").write_bytes(b"y")

    storage.delete_job()

    assert not storage.job_dir.exists()
    assert other.job_dir.is_dir()
    storage.delete_job()  # idempotent


@pytest.mark.parametrize("job_id", [-1, True, "7", 1.5])
def test_job_id_must_be_a_plain_integer(tmp_path: Path, job_id: object) -> None:
    with pytest.raises(ValueError):
        JobStorage(tmp_path, job_id)  # type: ignore[arg-type]


def test_sweep_chunk_removes_only_unrecorded_files_and_dead_tasks_temp(tmp_path: Path) -> None:
    storage = JobStorage(tmp_path, 3)
    folder = tmp_path / "jobs" / "3" / keyword_slug("owl")
    folder.mkdir(parents=True)
    kept, orphan, other_engine, stranger = (
        folder / "bing-1-aaaaaaaaaaaa.jpg", folder / "bing-2-bbbbbbbbbbbb.png",
        folder / "duckduckgo-2-cccccccccccc.jpg", folder / "notes.txt")
    for path in (kept, orphan, other_engine, stranger):
        path.write_bytes(b"x")
    live = storage.task_temp_dir(7, "live-task")
    dead = storage.task_temp_dir(7, "dead-task")
    other_chunk = storage.task_temp_dir(8, "dead-task")
    for path in (live, dead, other_chunk):
        path.mkdir(parents=True)
        (path / "dl-1.part").write_bytes(b"x")
    recorded = {f"jobs/3/{folder.name}/{kept.name}"}

    assert storage.sweep_chunk(7, "owl", "bing", recorded, keep_task="live-task") == 1
    assert not orphan.exists() and kept.exists() and other_engine.exists() and stranger.exists()
    assert live.exists() and not dead.exists() and other_chunk.exists()
    with pytest.raises(ValueError):
        storage.task_temp_dir(7, "../escape")
