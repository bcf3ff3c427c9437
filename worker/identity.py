"""Who we say we are: the User-Agent of image downloads, robots.txt and the API engines.

It names PixCrawler, its version and a contact (PIXCRAWLER_CONTACT, an email or a URL), as
Wikimedia's User-Agent policy requires and other sites expect before they block anonymous
clients: "PixCrawler/0.1.0 (lab@example.org; +https://github.com/alaamer12/pixcrawler)".
Robots rules and X-Robots-Tag opt-outs name us by the product token, "PixCrawler".
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata

PRODUCT = "PixCrawler"
PROJECT_URL = "https://github.com/alaamer12/pixcrawler"
DISTRIBUTION = "pixcrawler-desktop"


@lru_cache(maxsize=1)
def version() -> str:
    """The installed package's version (pyproject.toml), "unknown" in a tree never installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def user_agent(contact: str = "") -> str:
    """Our User-Agent, with the contact when one is set."""
    contact = " ".join(contact.split())  # one line: a header value cannot hold a newline
    about = f"{contact}; +{PROJECT_URL}" if contact else f"+{PROJECT_URL}"
    return f"{PRODUCT}/{version()} ({about})"


_EMAIL = re.compile(r"[^\s@()<>;,]+@[^\s@()<>;,]+\.[^\s@()<>;,]+")
_URL = re.compile(r"https?://[^\s()<>;,]+")


def contact_problem(contact: str) -> str | None:
    """Why ``contact`` cannot be our User-Agent's contact, or None (empty is allowed)."""
    value = contact.strip()
    if value and not (_EMAIL.fullmatch(value) or _URL.fullmatch(value)):
        return f"not an email address or an http(s) URL: {value!r}"
    return None
