"""What the export's writers are handed: an image with its file open, or a packed file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Row

from worker.export import manifests


@dataclass(slots=True)
class Entry:
    """One image to write: its name in the export and its open source file. A packed format
    sets ``name`` to where the image went (``<shard or Parquet file>/<name inside>``) before
    it asks for the next entry, which is when this one is recorded in the manifest."""

    name: str
    path: str  # real path of the source, for hard links
    file: BinaryIO
    size: int
    modified: datetime
    image: Row
    split: str | None

    def manifest_row(self) -> dict[str, Any]:
        return manifests.manifest_row(self.image, self.name, self.split)


@dataclass(frozen=True, slots=True)
class Packed:
    """A file that holds many images, produced as byte pieces while it is written."""

    name: str
    pieces: Iterator[bytes]
