"""Search answers kept on disk for a while, for the sources whose terms ask for it.

Pixabay's API terms: "requests must be cached for 24 hours". The cache is a folder of JSON
files under the data folder (which every worker of a deployment shares), one per request,
named by the SHA-256 of the request without its API key; a file older than the time to keep
is a miss. Files are written under a temporary name and renamed, so a reader never sees half
of one, and a damaged file is only a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class AnswerCache:
    def __init__(self, folder: Path, seconds: float) -> None:
        self.folder = folder
        self.seconds = seconds

    def _path(self, url: str, params: Mapping[str, str]) -> Path:
        request = json.dumps([url, sorted(params.items())], ensure_ascii=False)
        return self.folder / f"{hashlib.sha256(request.encode()).hexdigest()}.json"

    def get(self, url: str, params: Mapping[str, str]) -> Any | None:
        """The kept answer to this request, or None (never asked, expired or unreadable)."""
        path = self._path(url, params)
        try:
            if time.time() - path.stat().st_mtime >= self.seconds:
                return None
            return json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, url: str, params: Mapping[str, str], answer: Any) -> None:
        """Keep the answer; a folder that cannot be written only means no caching."""
        path = self._path(url, params)
        temp = path.with_name(f".{uuid.uuid4().hex}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(answer), encoding="utf-8")
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
