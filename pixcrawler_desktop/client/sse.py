"""A server-sent events parser (the WHATWG event-stream format) over lines of text.

The progress stream needs only a small part of the format, but parsing all of it (comments,
multi-line data, `id`, `retry`, a missing space after the colon) keeps the client working if
the server or a proxy in between writes events a little differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from decoded lines without their line endings (what httpx's iter_lines gives).

    An event is dispatched at a blank line; one with no data field is dropped, as the spec
    says, and so is an unfinished event when the stream ends.
    """
    event, data, last_id, retry = "", [], None, None
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event or "message", "\n".join(data), last_id, retry)
            event, data, retry = "", [], None
            continue
        if line.startswith(":"):
            continue  # a comment, e.g. the server's keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
