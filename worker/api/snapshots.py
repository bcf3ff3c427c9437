"""A short-lived cache of job snapshots for the endpoints clients poll (progress, events).

Many clients watching one job then cost one database query per `ttl`, not one per request;
the API forgets a job's entry whenever it changes the job itself (start, cancel, retry,
delete), so its own answers are never stale. Changes made by workers show within `ttl`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from worker.lifecycle import JobSnapshot


class SnapshotCache:
    def __init__(self, ttl: float, max_entries: int = 4096) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[int, tuple[float, JobSnapshot | None]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, job_id: int, load: Callable[[], JobSnapshot | None]) -> JobSnapshot | None:
        if self._ttl <= 0:
            return load()
        fresh = self._fresh(job_id)
        if fresh is not None:
            return fresh[1]
        with self._guard:
            lock = self._locks.setdefault(job_id, threading.Lock())
        with lock:  # one loader per job; the others wait for its answer
            fresh = self._fresh(job_id)
            if fresh is not None:
                return fresh[1]
            value = load()
            with self._guard:
                if len(self._entries) >= self._max:
                    self._evict()
                self._entries[job_id] = (time.monotonic(), value)
            return value

    def forget(self, job_id: int) -> None:
        with self._guard:
            self._entries.pop(job_id, None)

    def _fresh(self, job_id: int) -> tuple[float, JobSnapshot | None] | None:
        entry = self._entries.get(job_id)
        if entry is not None and time.monotonic() - entry[0] < self._ttl:
            return entry
        return None

    def _evict(self) -> None:
        cutoff = time.monotonic() - self._ttl
        for job_id in [k for k, (at, _) in self._entries.items() if at < cutoff]:
            del self._entries[job_id]
            self._locks.pop(job_id, None)
        if len(self._entries) >= self._max:  # all fresh: drop the oldest half
            for job_id, _ in sorted(self._entries.items(), key=lambda kv: kv[1][0])[
                    : self._max // 2]:
                del self._entries[job_id]
