"""Unpacking a downloaded dataset zip into a folder that appears whole or not at all.

The archive comes from the network, so no member is trusted to name its own place: absolute
paths, drive letters, "..", backslashes and links are refused before anything is written, and
each target is checked to stay inside the folder. Nor are its sizes trusted: it is unpacked
only if the sizes its members declare fit the free space, and a member that holds more bytes
than it declares stops the unpacking at its first extra byte (a zip bomb, or a damaged
archive), so the disk cannot be filled by surprise. Everything lands in a hidden sibling
folder first, renamed to the chosen name at the end, and is removed on any refusal.
"""

from __future__ import annotations

import copy
import shutil
import stat
import tempfile
import zipfile
import zlib
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
            _require_space(staging, sum(info.file_size for info, _ in members))
            for info, target in members:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_member(zf, info, target)
                size += info.file_size
        images = _manifest_rows(staging / MANIFEST)
        if dest.exists():
            dest.rmdir()  # empty, as checked before the download; fails if that changed
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Extracted(dest, images, size)


def _require_space(folder: Path, needed: int) -> None:
    """CliError unless the members' declared sizes fit the free space where they will go."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise CliError(
            f"the export unpacks to {needed / 1e6:,.1f} MB but only {free / 1e6:,.1f} MB is "
            f"free in {folder.parent}; nothing was written. Free some space, or choose a "
            "folder on another disk")


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member, refusing it at its first byte past its declared size.

    zipfile itself would cut the member at its declared size and then fail its CRC; here it is
    told no size, so an entry longer than it says is told apart from a merely damaged one,
    and stopped by the count below, not by the end of its data."""
    probe = copy.copy(info)
    probe.file_size = 1 << 62
    left = info.file_size
    try:
        with zf.open(probe) as src, target.open("xb") as out:
            while block := src.read(min(COPY_BLOCK, left + 1)):
                if len(block) > left:
                    raise CliError(
                        f"the export's {info.filename!r} holds more than the {info.file_size:,} "
                        "bytes it declares; nothing was written")
                out.write(block)
                left -= len(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise CliError(f"the export's {info.filename!r} cannot be read ({exc}); "
                       "nothing was written") from None
    if left:
        raise CliError(f"the export's {info.filename!r} holds fewer bytes than it declares; "
                       "nothing was written")


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
