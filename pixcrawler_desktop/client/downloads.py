"""The file name a download should get on this computer.

The server suggests one in Content-Disposition; it is only a suggestion from the network, so
only its last path part is kept and anything that could name another place (separators, "..",
control characters) falls back to a name of our own.
"""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value

import httpx

MAX_NAME = 200


def download_name(response: httpx.Response, job_id: int) -> str:
    """The server's file name (filename* preferred, as it carries Unicode), made safe."""
    fallback = f"job-{job_id}.zip"
    header = response.headers.get("content-disposition")
    if not header:
        return fallback
    message = Message()
    message["content-disposition"] = header
    names = [
        (isinstance(value, tuple), collapse_rfc2231_value(value))
        for key, value in message.get_params([], header="content-disposition")
        if key == "filename"
    ]
    names.sort(key=lambda pair: not pair[0])  # the encoded filename* first
    return safe_file_name(names[0][1] if names else "", fallback)


def safe_file_name(name: str, fallback: str) -> str:
    """`name` reduced to one harmless path part, or `fallback` if nothing usable is left."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 or ch in ':*?"<>|' for ch in name):
        return fallback
    return name
