"""What a source says is left of an API key's budget, kept for GET /engines to show.

Pexels allows 20,000 requests a month and sends, with each successful answer, the key's limit,
what remains and when the month rolls over (X-Ratelimit-Limit, -Remaining, -Reset). The
engine writes the latest into a small JSON file under the data folder, which the API reads;
written under a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Usage:
    limit: int
    remaining: int
    resets_at: int  # epoch seconds

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Usage | None:
        try:
            return cls(int(headers["X-Ratelimit-Limit"]), int(headers["X-Ratelimit-Remaining"]),
                       int(headers["X-Ratelimit-Reset"]))
        except (KeyError, ValueError):
            return None


def record(path: Path, usage: Usage) -> None:
    """Keep the latest; a folder that cannot be written only means nothing is shown."""
    temp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(asdict(usage)), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)


def read(path: Path) -> Usage | None:
    try:
        data = json.loads(path.read_bytes())
        return Usage(int(data["limit"]), int(data["remaining"]), int(data["resets_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def usage_path(data_dir: Path, engine: str) -> Path:
    return data_dir / "cache" / engine / "usage.json"
