"""The `webdataset` format: each split's images in tar shards, `<split>/<name>-000000.tar`.

A sample is three members that share a key: `<key>.<ext>` (the image as downloaded),
`<key>.cls` (its label, an index into the keywords, as text) and `<key>.json` (its manifest
row: provenance, licence, validation). WebDataset cuts the key at the first dot of a member's
name (webdataset #237), so keys have none: they are the image's file name without its
extension, already unique within a job. A shard is closed before the sample that would take it
past the shard size, so only a single sample bigger than that makes a bigger shard.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from worker.export import names
from worker.export.items import Entry, Packed
from worker.export.pieces import Pieces

if TYPE_CHECKING:
    from worker.export.plan import Plan

BLOCK = tarfile.BLOCKSIZE
FILE_MODE = 0o644
READ = 256 * 1024


def shard_name(plan: Plan, split: str | None, number: int) -> str:
    stem = names.loader_safe(names.slugify(plan.job_name, "dataset").lower())
    name = f"{stem}-{number:06d}.tar"
    return f"{split}/{name}" if split else name


def sample_key(entry: Entry) -> str:
    """The image's file name without its extension (no dots: see the module's note)."""
    return entry.name.rsplit("/", 1)[-1].split(".", 1)[0]


def shards(plan: Plan, found: Iterator[Entry], split: str | None) -> Iterator[Packed]:
    """The split's shards, each written while it is read; none when the split is empty."""
    source = _Ahead(found)
    number = 0
    while source.head is not None:
        name = shard_name(plan, split, number)
        yield Packed(name, _shard(plan, source, name, plan.options.shard_mb * 1_000_000))
        number += 1


class _Ahead:
    """The split's entries with the next one in view: it may have to start the next shard."""

    def __init__(self, found: Iterator[Entry]) -> None:
        self._found = found
        self.head: Entry | None = next(found, None)

    def advance(self) -> None:
        """Done with the head: the entry is recorded in the manifest as the next one comes."""
        self.head = next(self._found, None)


def _shard(plan: Plan, source: _Ahead, shard: str, limit: int) -> Iterator[bytes]:
    """One tar, written member by member: tarfile makes each header (PAX where a name needs
    it), the image's bytes go out as read, in big pieces rather than through tarfile's own
    small stream buffer (which made this format a third slower than the others)."""
    out = Pieces()
    label = {keyword: n for n, keyword in enumerate(plan.classes)}
    written = 0
    while (entry := source.head) is not None:
        key = sample_key(entry)
        ext = entry.name.rsplit(".", 1)[-1]
        entry.name = f"{shard}/{key}.{ext}"
        about = json.dumps(entry.manifest_row(), ensure_ascii=False).encode()
        cls = str(label[entry.image.keyword]).encode()
        size = sum(BLOCK + _padded(n) for n in (entry.size, len(cls), len(about)))
        if written and written + size > limit:
            break  # the entry starts the next shard, where it is named again
        stamp = entry.modified.timestamp()
        out.write(_header(f"{key}.{ext}", entry.size, stamp))
        sent = 0
        while sent < entry.size and (piece := entry.file.read(min(READ, entry.size - sent))):
            out.write(piece)
            sent += len(piece)
            if out.full():
                yield out.take()
        if sent != entry.size:
            raise OSError(f"{entry.path} changed size while it was exported")
        out.write(bytes(_padded(sent) - sent))
        for name, data in ((f"{key}.cls", cls), (f"{key}.json", about)):
            out.write(_header(name, len(data), stamp))
            out.write(data + bytes(_padded(len(data)) - len(data)))
        written += size
        source.advance()
        if out.full():
            yield out.take()
    out.write(bytes(2 * BLOCK))  # the end-of-archive marker
    yield out.take()


def _padded(n: int) -> int:
    return -(-n // BLOCK) * BLOCK


def _header(name: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = FILE_MODE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
