"""Owners' opt-outs sent with an image: ``X-Robots-Tag`` with noai, noimageai, noindex or
noimageindex (or none, which means noindex) keeps the image out of a dataset.

The header follows Google's rules for it: it may come several times, each value is a
comma-separated list of directives, and a value may begin with a user agent token and a colon
("otherbot: noindex, nofollow"), which scopes the directives after it to that crawler alone,
up to the next token. Directives without a token apply to every crawler. Some directives
carry a value after a colon themselves ("unavailable_after: 25 Jun 2010 15:00:00 PST",
"max-image-preview: large"); those are directives, not tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

OPT_OUT = frozenset({"noai", "noimageai", "noindex", "noimageindex", "none"})
# Directives whose own syntax has a colon: never read as a user agent token.
_VALUED = frozenset({"unavailable_after", "max-snippet", "max-image-preview",
                     "max-video-preview", "indexifembedded"})
_SCOPED = re.compile(r"^\s*([A-Za-z0-9_.*-]+)\s*:\s*(.*)$", re.S)


def agent_token(user_agent: str) -> str:
    """The product token crawlers are named by in robots rules: "PixCrawler/0.2 (...)" ->
    "pixcrawler"."""
    return re.split(r"[/\s;(]", user_agent.strip(), maxsplit=1)[0].lower()


def opted_out(values: Iterable[str], token: str) -> str | None:
    """The first opt-out directive in these ``X-Robots-Tag`` values that applies to crawler
    ``token`` (lower case), else None."""
    token = token.lower()
    for value in values:
        scope: str | None = None  # None: every crawler
        for item in value.split(","):
            match = _SCOPED.match(item)
            if match and match.group(1).lower() not in _VALUED:
                scope, item = match.group(1).lower(), match.group(2)
            directive = item.strip().lower()
            if directive in OPT_OUT and scope in (None, token):
                return directive
    return None
