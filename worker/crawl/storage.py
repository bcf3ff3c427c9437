"""Where a job's images live on disk, and safe names for keyword folders.

Layout: ``<data dir>/jobs/<job id>/<keyword slug>/<engine>-<rank>-<sha256[:12]>.<ext>``, with
downloads streaming into ``<data dir>/jobs/<job id>/.tmp`` first. The temp folder sits inside the
job folder so the final move is a same-file-system ``os.replace`` (atomic).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath

from worker.crawl.types import Fetched

MAX_SLUG = 80
MAX_SLUG_BYTES = 200  # file systems cap a name at 255 bytes; CJK/astral letters take 3-4 each
_HASH_LEN = 8
_NON_WORD = re.compile(r"[\W_]+")
_ENGINE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_EXT = re.compile(r"^[a-z0-9]{1,5}$")
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


def keyword_hash(keyword: str) -> str:
    # surrogatepass: a lone surrogate from a hostile client must hash, not crash
    data = keyword.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:_HASH_LEN]


def keyword_slug(keyword: str) -> str:
    """A safe, deterministic folder name for ``keyword``.

    NFKC, lowercase, runs of anything but letters/digits become one '-', trimmed to 80 chars.
    Whenever that changes the keyword at all, an 8-char hash of the original is appended, so
    distinct keywords ("Cat", "cat!", "cat") never share a folder. Never empty, never '.' or
    '..', never a Windows device name, never contains a path separator.
    """
    base = unicodedata.normalize("NFKC", keyword).lower()
    base = _NON_WORD.sub("-", base).strip("-")
    if base == keyword and _fits(base, 0) and base not in _WINDOWS_RESERVED:
        return base
    base = base[: MAX_SLUG - _HASH_LEN - 1]
    while not _fits(base, _HASH_LEN + 1):
        base = base[:-1]
    return f"{base.rstrip('-') or 'keyword'}-{keyword_hash(keyword)}"


def _fits(base: str, extra: int) -> bool:
    return 0 < len(base) + extra <= MAX_SLUG and len(base.encode("utf-8")) + extra <= MAX_SLUG_BYTES


class JobStorage:
    """Files of one job under ``data_dir``; every path handed out stays inside the job folder."""

    def __init__(self, data_dir: Path, job_id: int) -> None:
        if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 0:
            raise ValueError(f"job id must be a non-negative integer, got {job_id!r}")
        self.data_dir = Path(data_dir).resolve()
        self.job_id = job_id
        self.job_dir = self.data_dir / "jobs" / str(job_id)
        self.temp_dir = self.job_dir / ".tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self._real_job_dir = self.job_dir.resolve()
        self._checked: set[Path] = set()  # folders known to resolve inside the job
        self._made: set[Path] = set()  # keyword folders this process created or found

    def relative_path(self, keyword: str, engine: str, rank: int, sha256: str, ext: str) -> str:
        """``jobs/<job id>/<slug>/<engine>-<rank>-<sha256[:12]>.<ext>`` (POSIX, relative to the
        data dir); rejects anything that is not a plain engine name, rank, digest or extension."""
        if not _ENGINE.match(engine):
            raise ValueError(f"bad engine name {engine!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
            raise ValueError(f"bad rank {rank!r}")
        if not _SHA256.match(sha256):
            raise ValueError("sha256 must be 64 lowercase hex digits")
        if not _EXT.match(ext):
            raise ValueError(f"bad extension {ext!r}")
        slug = keyword_slug(keyword)
        return f"jobs/{self.job_id}/{slug}/{engine}-{rank}-{sha256[:12]}.{ext}"

    def path_of(self, rel_path: str) -> Path:
        """Absolute path for ``rel_path``; ValueError unless it names a file inside this job."""
        rel = PurePosixPath(rel_path)
        parts = rel.parts
        if (
            rel.is_absolute()
            or "\\" in rel_path
            or "\x00" in rel_path
            or len(parts) < 4
            or parts[:2] != ("jobs", str(self.job_id))
            or any(p in ("", ".", "..") for p in parts)
            or parts[2] == ".tmp"
        ):
            raise ValueError(f"path {rel_path!r} is not a file inside job {self.job_id}")
        path = self.data_dir.joinpath(*parts)
        # resolve() also defeats a symlinked keyword folder pointing elsewhere. Folders are
        # checked once: resolving costs a stat per path part, which adds up at hundreds of
        # images a second. A symlink in place of a file needs no check: rename and unlink act
        # on the link itself, never on its target.
        folder = path.parent
        if folder not in self._checked:
            if not folder.resolve().is_relative_to(self._real_job_dir):
                raise ValueError(f"path {rel_path!r} escapes job {self.job_id}")
            self._checked.add(folder)
        return path

    def place(self, fetched: Fetched, rel_path: str) -> Path:
        """Move the downloaded temp file to ``rel_path`` atomically; returns the final path."""
        dest = self.path_of(rel_path)
        if dest.parent not in self._made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(dest.parent)
        try:
            os.replace(fetched.temp_path, dest)
        except FileNotFoundError:  # someone removed the keyword folder meanwhile
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(fetched.temp_path, dest)
        return dest

    def unplace(self, fetched: Fetched, rel_path: str) -> None:
        """Undo :meth:`place`: the file goes back to its temp name (gone if that fails)."""
        dest = self.path_of(rel_path)
        try:
            os.replace(dest, fetched.temp_path)
        except OSError:
            dest.unlink(missing_ok=True)

    def task_temp_dir(self, chunk_id: int, task_id: str) -> Path:
        """The temp folder of one task's downloads: a dead task's leftovers can be told apart
        from a live one's, and a task ending late never removes its successor's."""
        if not _TASK_ID.match(task_id):
            raise ValueError(f"bad task id {task_id!r}")
        return self.temp_dir / f"chunk-{int(chunk_id)}-{task_id}"

    def sweep_chunk(self, chunk_id: int, keyword: str, engine: str, recorded: set[str],
                    keep_task: str | None = None) -> int:
        """Remove the chunk's files that have no row (left by a task killed between placing
        and committing) and the temp folders of its tasks but `keep_task`; returns how many
        files went. The caller holds the chunk's row lock, so no live task is between placing
        and committing."""
        if not _ENGINE.match(engine):
            raise ValueError(f"bad engine name {engine!r}")
        keep = self.task_temp_dir(chunk_id, keep_task) if keep_task else None
        for folder in self.temp_dir.glob(f"chunk-{int(chunk_id)}-*"):
            if folder != keep:
                shutil.rmtree(folder, ignore_errors=True)
        folder = self.job_dir / keyword_slug(keyword)
        pattern = re.compile(rf"^{engine}-\d+-[0-9a-f]{{12}}\.[a-z0-9]{{1,5}}$")
        removed = 0
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return 0
        for name in names:
            rel = f"jobs/{self.job_id}/{folder.name}/{name}"
            if pattern.match(name) and rel not in recorded:
                (folder / name).unlink(missing_ok=True)
                removed += 1
        return removed

    def remove(self, rel_path: str) -> None:
        """Delete one placed file (e.g. our copy of a duplicate); missing is fine."""
        self.path_of(rel_path).unlink(missing_ok=True)

    def delete_job(self) -> None:
        """Remove the whole job folder, images and temp files alike."""
        if self.job_dir.exists():
            shutil.rmtree(self.job_dir)
