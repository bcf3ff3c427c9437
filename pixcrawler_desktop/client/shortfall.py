"""Where the images went, in words: "red fox: 86 of 100; bing ran out after 140 results, 31
failed (22 timeouts, 9 not images), 23 duplicates".

The server keeps a breakdown per chunk (GET /jobs/{id}/chunks, `breakdown`) and per job
(GET /jobs/{id}). The app's chunk tooltip and job view and the CLI's end of crawl say the same
sentences, from these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pixcrawler_desktop.client.models import Chunk, FailedBy, Job, Shortfall

# reason -> (one, many)
_REASONS = {
    "timeout": ("timeout", "timeouts"),
    "not_image": ("not an image", "not images"),
    "too_large": ("too large", "too large"),
    "robots": ("barred by robots.txt", "barred by robots.txt"),
    "optout": ("owner opt-out", "owner opt-outs"),
    "http": ("HTTP error", "HTTP errors"),
    "network": ("network error", "network errors"),
    "other": ("other", "other"),
}
_ENDS = {"ran_out": "ran out", "blocked": "was blocked", "failed": "could not be read"}


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def failures_text(failed_by: FailedBy) -> str:
    """ "31 failed (22 timeouts, 9 not images)", or "" when none failed."""
    counts = failed_by.model_dump()
    total = sum(counts.values())
    if not total:
        return ""
    parts = [_plural(n, *_REASONS[r]) for r, n in sorted(counts.items(), key=lambda i: -i[1])
             if n and r in _REASONS]
    return f"{total} failed ({', '.join(parts)})"


def _losses(s: Shortfall) -> list[str]:
    parts = [failures_text(s.failed_by)] if s.failed else []
    if s.duplicates:
        parts.append(_plural(s.duplicates, "duplicate", "duplicates"))
    if s.filtered:
        parts.append(f"{s.filtered} removed by filters")
    return parts


def _sum(chunks: Iterable[Chunk]) -> Shortfall:
    total = Shortfall()
    by = FailedBy()
    for c in chunks:
        b = c.breakdown
        if b is None:
            total.downloaded += c.downloaded
            total.duplicates += c.duplicates_skipped
            total.failed += c.failed_downloads
            by.other += c.failed_downloads
            continue
        for name in ("downloaded", "results", "ran_out", "blocked", "search_failed",
                     "filtered", "duplicates", "failed"):
            setattr(total, name, getattr(total, name) + getattr(b, name))
        for name, n in b.failed_by.model_dump().items():
            setattr(by, name, getattr(by, name) + n)
    total.failed_by = by
    return total


def _search_ends(chunks: Iterable[Chunk]) -> list[str]:
    out = []
    for c in chunks:
        b = c.breakdown
        if b is not None and b.search_end in _ENDS and c.downloaded < c.target:
            out.append(f"{c.engine} {_ENDS[b.search_end]} after "
                       f"{_plural(b.results, 'result', 'results')}")
    return out


def taken_over(chunk: Chunk) -> int:
    """Images of other engines' shares this chunk took over (its grid cell shows "+N")."""
    return sum(t.images for t in chunk.breakdown.took_over) if chunk.breakdown else 0


def _took_over(chunks: Iterable[Chunk]) -> list[str]:
    return [f"{c.engine} filled in {t.images} for {t.engine}"
            for c in chunks if c.breakdown is not None for t in c.breakdown.took_over]


def keyword_sentence(keyword: str, chunks: Sequence[Chunk], wanted: int) -> str:
    """One keyword's sentence over its chunks (one per engine); `wanted`: the job's
    max_images. "red fox: 86 of 100; bing ran out after 140 results, 31 failed (22
    timeouts, 9 not images), 23 duplicates"."""
    mine = [c for c in chunks if c.keyword == keyword]
    got = sum(c.downloaded for c in mine)
    head = f"{keyword}: {got} of {wanted}"
    parts = _took_over(mine)
    if got < wanted:  # losses of the chunks that met their target were made up for
        parts += _search_ends(mine) + _losses(_sum(c for c in mine if c.downloaded < c.target))
    return f"{head}; {', '.join(parts)}" if parts else head


def chunk_sentence(chunk: Chunk) -> str:
    """A chunk cell's tooltip: "bing: 30 of 50; bing ran out after 30 results"."""
    head = f"{chunk.engine}: {chunk.downloaded} of {chunk.target}"
    parts = _took_over([chunk])
    if chunk.downloaded < chunk.target:
        parts += _search_ends([chunk]) + _losses(_sum([chunk]))
    return f"{head}; {', '.join(parts)}" if parts else head


def job_sentences(job: Job, chunks: Sequence[Chunk], *, short_only: bool = False) -> list[str]:
    """One sentence per keyword of the job, in its order (only the short ones with
    `short_only`): what the CLI prints at the end of a crawl."""
    out = []
    for keyword in job.keywords:
        mine = [c for c in chunks if c.keyword == keyword]
        if short_only and sum(c.downloaded for c in mine) >= job.max_images:
            continue
        out.append(keyword_sentence(keyword, mine, job.max_images))
    return out


def job_summary(job: Job) -> str:
    """The job in one line from its summed breakdown: "430 of 500; 70 short: 40 the engines
    did not have, 18 failed (12 timeouts, 6 not images), 12 duplicates" (the losses of all
    its chunks, also those that made them up with further results)."""
    b = job.breakdown
    if b is None:
        return f"{job.downloaded_images} images"
    head = f"{b.downloaded} of {b.wanted}"
    if b.downloaded >= b.wanted:
        return head
    parts = []
    unfound = b.ran_out + b.blocked + b.search_failed
    if unfound:
        parts.append(f"{unfound} the engines did not have")
    parts += _losses(b)
    short = f"{b.wanted - b.downloaded} short"
    return f"{head}; {short}: {', '.join(parts)}" if parts else f"{head}; {short}"
