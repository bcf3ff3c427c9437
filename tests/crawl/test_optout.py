"""X-Robots-Tag opt-outs, read by the rules of the header (Google's, which others follow)."""

from __future__ import annotations

import pytest

from worker.crawl.optout import agent_token, opted_out

TOKEN = "pixcrawler"


@pytest.mark.parametrize("values, found", [
    (["noai"], "noai"),
    (["noimageai"], "noimageai"),
    (["noindex"], "noindex"),
    (["NoImageIndex"], "noimageindex"),
    (["none"], "none"),
    (["nofollow, noarchive"], None),
    (["noarchive", "noai, noimageai"], "noai"),  # several headers
    (["pixcrawler: noindex"], "noindex"),  # scoped to us
    (["PixCrawler: noai"], "noai"),  # tokens are case-insensitive
    (["otherbot: noindex"], None),  # scoped to another crawler
    (["otherbot: noindex, nofollow", "googlebot: noai"], None),
    (["googlebot: nofollow, pixcrawler: noimageai"], "noimageai"),  # a second token in a value
    (["pixcrawler: nofollow, otherbot: noindex"], None),  # the scope moves on
    (["otherbot: noindex", "noai"], "noai"),  # an unscoped header applies to all
    (["unavailable_after: 25 Jun 2010 15:00:00 PST"], None),  # a directive with a colon
    (["max-image-preview: large, noindex"], "noindex"),
    ([], None),
])  # fmt: skip
def test_opt_out_directives(values: list[str], found: str | None) -> None:
    assert opted_out(values, TOKEN) == found


def test_agent_token() -> None:
    assert agent_token("PixCrawler/0.2 (+mailto:lab@example.org)") == "pixcrawler"
    assert agent_token("pixcrawler") == "pixcrawler"
