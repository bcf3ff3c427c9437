"""A job's dataset written to a folder, which appears whole or not at all.

Everything goes to a hidden sibling folder first and is renamed into place at the end, so
neither a crash nor a full disk leaves a half-written dataset under the chosen name. Images are
hard-linked from the data folder when the file system allows (no copy, no extra space), and
copied otherwise.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from worker.export.dataset import contents, documents
from worker.export.items import Entry, Packed
from worker.export.plan import Plan
from worker.export.spool import Spool

COPY_CHUNK = 1024 * 1024


class FolderNotEmpty(Exception):
    """The destination exists and is not an empty folder."""


@dataclass(frozen=True, slots=True)
class FolderResult:
    path: Path
    images: int
    bytes: int  # everything written: images and text files
    missing: int


def check_destination(dest: Path) -> None:
    """Refuse anything but a new path or an empty folder: mixing two exports in one folder
    would leave files that its manifest does not list."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FolderNotEmpty(f"Folder {dest} is not empty")


def write_folder(session: Session, plan: Plan, dest: Path) -> FolderResult:
    check_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir()  # plain mkdir, unlike mkdtemp, so the folder gets the user's usual mode
    try:
        with Spool() as spool:
            written = _fill(session, plan, spool, staging)
            result = FolderResult(dest, spool.images, written, spool.missing)
        _move_into_place(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _fill(session: Session, plan: Plan, spool: Spool, staging: Path) -> int:
    """Images, then the text files; returns the bytes written."""
    images = _Images(staging)
    with closing(contents(session, plan, spool)) as found:
        for item in found:
            if isinstance(item, Packed):
                images.write(item)
            else:
                images.place(item)
    written = images.bytes
    for name, text in documents(plan, spool):
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)  # a split may have no images
        with path.open("x", encoding="utf-8", newline="") as out:
            for piece in text:
                out.write(piece)
        written += path.stat().st_size
    return written


class _Images:
    """Puts images in place: hard links while the file system allows them, copies after; or
    writes the files that pack them."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.bytes = 0
        self._made: set[Path] = set()
        self._can_link = True

    def place(self, entry: Entry) -> None:
        target = self._folder_of(self.staging / entry.name)
        if not (self._can_link and self._link(entry.path, target)):
            # "x": never open an existing name for writing, it could be a link to an original
            with target.open("xb") as out:
                shutil.copyfileobj(entry.file, out, COPY_CHUNK)
        self.bytes += entry.size

    def write(self, packed: Packed) -> None:
        target = self._folder_of(self.staging / packed.name)
        with target.open("xb") as out:
            for piece in packed.pieces:
                out.write(piece)
        self.bytes += target.stat().st_size

    def _folder_of(self, target: Path) -> Path:
        """``target``, its folder made."""
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        return target

    def _link(self, source: str, target: Path) -> bool:
        try:
            os.link(source, target)
        except FileExistsError:
            raise
        except OSError as exc:
            # Gone meanwhile: copy from the file already open. Anything else (another file
            # system, no hard links there): copy, and stop trying.
            self._can_link = isinstance(exc, FileNotFoundError)
            return False
        return True


def _move_into_place(staging: Path, dest: Path) -> None:
    """Rename the finished folder to ``dest``. POSIX renames over an empty folder atomically;
    elsewhere the empty folder is removed first."""
    try:
        os.rename(staging, dest)
    except OSError:
        check_destination(dest)  # someone filled it meanwhile: say so rather than clobber it
        if not dest.exists():
            raise
        dest.rmdir()
        os.rename(staging, dest)
