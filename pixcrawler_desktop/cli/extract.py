"""Unpacking a downloaded dataset zip into a folder that appears whole or not at all.

The archive comes from the network, so no member is trusted to name its own place: absolute
paths, drive letters, "..", backslashes and links are refused before anything is written, and
each target is checked to stay inside the folder. Everything lands in a hidden sibling folder
first, renamed to the chosen name at the end.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pixcrawler_desktop.cli.exitcodes import CliError

COPY_BLOCK = 1024 * 1024
MANIFEST = "manifest.jsonl"  # one line per image in every export


@dataclass(frozen=True)
class Extracted:
    folder: Path
    images: int  # rows of the dataset's manifest.jsonl: one per image, whatever the format
    bytes: int


def extract_dataset(archive: Path, dest: Path) -> Extracted:
    """Unpack `archive` as the folder `dest`, which must not exist or be empty."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        size = 0
        with zipfile.ZipFile(archive) as zf:
            members = [(info, member_path(staging, info)) for info in zf.infolist()]
            for info, target in members:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as out:
                    shutil.copyfileobj(src, out, COPY_BLOCK)
                size += info.file_size
        images = _manifest_rows(staging / MANIFEST)
        if dest.exists():
            dest.rmdir()  # empty, as checked before the download; fails if that changed
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Extracted(dest, images, size)


def _manifest_rows(manifest: Path) -> int:
    if not manifest.is_file():
        raise CliError(f"the server's export has no {MANIFEST}")
    with manifest.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(COPY_BLOCK), b""))


def member_path(root: Path, info: zipfile.ZipInfo) -> Path:
    """Where a member may go inside `root`; CliError for one that would go anywhere else."""
    name = info.filename
    parts = PurePosixPath(name).parts
    mode = info.external_attr >> 16
    unsafe = (
        not parts
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or any(p in ("..", ".") for p in parts)
        or stat.S_ISLNK(mode)
    )
    target = root.joinpath(*parts)
    if unsafe or not target.resolve().is_relative_to(root.resolve()):
        raise CliError(f"the export holds an unsafe path {name!r}; nothing was written")
    return target
