"""The manifest rows of an export, kept on disk until the images are written.

The manifests, ATTRIBUTION.md (grouped by licence) and the README's counts are written after
the images, and only images actually found on disk belong in them. Holding those rows in memory
would grow with the job, so they go to a temporary SQLite file (deleted on close), which also
does the grouping and sorting.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

SCHEMA = """
CREATE TABLE entries (seq INTEGER PRIMARY KEY, keyword TEXT, split TEXT, license TEXT,
                      size INTEGER, row TEXT);
CREATE TABLE missing (seq INTEGER PRIMARY KEY, image_id INTEGER, keyword TEXT, path TEXT,
                      reason TEXT);
"""


class Spool:
    def __init__(self) -> None:
        # "" = a private temporary database on disk. The export generator resumes on whichever
        # thread-pool thread is free, hence check_same_thread=False (never used concurrently).
        self._db = sqlite3.connect("", check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._db.execute("BEGIN")  # one transaction: no sync per row; nothing here must last
        self.images = 0
        self.bytes = 0
        self.missing = 0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, row: dict[str, Any], size: int) -> None:
        """One exported image: its manifest row and the bytes written for it."""
        self._db.execute(
            "INSERT INTO entries (keyword, split, license, size, row) VALUES (?, ?, ?, ?, ?)",
            (
                row["keyword"],
                row["split"],
                row["license"] or None,
                size,
                json.dumps(row, ensure_ascii=False),
            ),
        )
        self.images += 1
        self.bytes += size

    def add_missing(self, image_id: int, keyword: str, path: str, reason: str) -> None:
        """An image whose file could not be read, so it is skipped and reported."""
        self._db.execute(
            "INSERT INTO missing (image_id, keyword, path, reason) VALUES (?,?,?,?)",
            (image_id, keyword, path, reason),
        )
        self.missing += 1

    def json_lines(self) -> Iterator[str]:
        """Manifest rows in export order, as the JSON text they were stored as."""
        for (text,) in self._db.execute("SELECT row FROM entries ORDER BY seq"):
            yield text

    def rows_of_split(self, split: str | None) -> Iterator[dict[str, Any]]:
        """Manifest rows of one split (None: the export has no splits), in export order."""
        for (text,) in self._db.execute(
            "SELECT row FROM entries WHERE split IS ? ORDER BY seq", (split,)
        ):
            yield json.loads(text)

    def rows(self) -> Iterator[dict[str, Any]]:
        """Manifest rows in export order."""
        for text in self.json_lines():
            yield json.loads(text)

    def rows_by_license(self) -> Iterator[dict[str, Any]]:
        """Manifest rows grouped by licence (known ones by name, unknown last)."""
        for (text,) in self._db.execute(
            "SELECT row FROM entries ORDER BY license IS NULL, lower(license), license, seq"
        ):
            yield json.loads(text)

    def license_counts(self) -> list[tuple[str | None, int]]:
        return list(
            self._db.execute(
                "SELECT license, count(*) FROM entries GROUP BY license "
                "ORDER BY license IS NULL, lower(license), license"
            )
        )

    def counts(self) -> list[tuple[str, str | None, int, int]]:
        """(keyword, split, images, bytes) for every pair that has images."""
        return list(
            self._db.execute(
                "SELECT keyword, split, count(*), sum(size) FROM entries GROUP BY keyword, split"
            )
        )

    def skipped(self) -> Iterator[tuple[int, str, str, str]]:
        """(image id, keyword, stored path, reason) of every image left out."""
        yield from self._db.execute(
            "SELECT image_id, keyword, path, reason FROM missing ORDER BY seq"
        )
