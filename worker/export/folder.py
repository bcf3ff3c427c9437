"""A job's dataset written to a folder, which appears whole or not at all.

Everything goes to a hidden sibling folder first and is renamed into place at the end, so
neither a crash nor a full disk leaves a half-written dataset under the chosen name. Images are
hard-linked from the data folder when the file system allows (no copy, no extra space), and
copied otherwise.

The folder is the owner's alone: folders are made 0700 and files 0600 (the umask can only
narrow that), so an export to a shared disk does not hand the images to its other users. The
checks run on the real path (symbolic links in the parents followed, ``..`` resolved the way
the file system will), and the chosen name itself may not be a symbolic link.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from worker.export.dataset import contents, documents
from worker.export.items import Entry, Packed
from worker.export.plan import Plan
from worker.export.spool import Spool

COPY_CHUNK = 1024 * 1024
FOLDER_MODE = 0o700
FILE_MODE = 0o600


class FolderNotEmpty(Exception):
    """The destination exists and is not an empty folder."""


class FolderIsLink(FolderNotEmpty):
    """The destination is a symbolic link: writing through it would put the dataset somewhere
    the user did not name (a conflict, like a folder that is not empty)."""


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


def resolve_destination(dest: Path) -> Path:
    """The real path ``dest`` names, refusing a symbolic link as its last part; the checks
    and the writes then use that one path."""
    if os.path.islink(dest):
        raise FolderIsLink(f"Folder {dest} is a symbolic link")
    real = Path(os.path.realpath(dest))
    if real != dest and os.path.islink(real):  # (a link that appears meanwhile)
        raise FolderIsLink(f"Folder {real} is a symbolic link")
    return real


def make_folders(folder: Path) -> None:
    """``folder`` and its missing parents, each new one the owner's alone."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(FOLDER_MODE)
        except FileExistsError:
            if not path.is_dir():
                raise


def _create(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """A new file, 0600, never an existing one (it could be a link to an original)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                 FILE_MODE)
    return os.fdopen(fd, mode, **kwargs)


def write_folder(session: Session, plan: Plan, dest: Path) -> FolderResult:
    dest = resolve_destination(dest)
    check_destination(dest)
    make_folders(dest.parent)
    staging = dest.parent / f".{dest.name}.{uuid.uuid4().hex[:12]}.partial"
    staging.mkdir(FOLDER_MODE)
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
        make_folders(path.parent)  # a split may have no images
        with _create(path, "w", encoding="utf-8", newline="") as out:
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
            with _create(target) as out:
                shutil.copyfileobj(entry.file, out, COPY_CHUNK)
        self.bytes += entry.size

    def write(self, packed: Packed) -> None:
        target = self._folder_of(self.staging / packed.name)
        with _create(target) as out:
            for piece in packed.pieces:
                out.write(piece)
        self.bytes += target.stat().st_size

    def _folder_of(self, target: Path) -> Path:
        """``target``, its folder made."""
        if target.parent not in self._made:
            make_folders(target.parent)
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
