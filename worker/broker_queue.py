"""The task ids a broker still holds in a queue, for finding chunks whose message was lost.

Celery has no broker-neutral way to list a queue, so each broker we deploy on is read
directly: the folder broker's message files, and Redis's lists (kombu keeps one list per
queue and priority step, each entry the message as JSON with the task id in its headers).
"""

from __future__ import annotations

import json

from worker.folder_broker import queued_task_ids as folder_queued
from worker.settings import Settings

# kombu's Redis transport: a queue's messages of priority p > 0 are in "<queue>\x06\x16<p>".
_REDIS_PRIORITY_SEP = "\x06\x16"
_REDIS_PRIORITY_STEPS = (3, 6, 9)


def queued_task_ids(settings: Settings, queue: str) -> set[str] | None:
    """Ids of the tasks waiting in `queue`, or None for a broker this cannot read."""
    if settings.uses_filesystem_broker:
        return folder_queued(settings.broker_dir / "in", queue)
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return _redis_queued(settings.broker_url, queue)
    return None


def _redis_queued(url: str, queue: str) -> set[str]:
    import redis  # a lab server's dependency only

    keys = [queue, *(f"{queue}{_REDIS_PRIORITY_SEP}{p}" for p in _REDIS_PRIORITY_STEPS)]
    client = redis.Redis.from_url(url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.lrange(key, 0, -1)
            lists = pipe.execute()
    finally:
        client.close()
    ids = set()
    for raw in (entry for entries in lists for entry in entries):
        try:
            ids.add(json.loads(raw)["headers"]["id"])
        except (ValueError, KeyError, TypeError):
            continue  # not a Celery task message
    return ids
