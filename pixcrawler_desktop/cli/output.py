"""What the CLI prints, and where: data on stdout, everything else on stderr.

With `--json` stdout carries only JSON, so scripts can pipe it to `jq` while progress, warnings
and errors still reach the person at the terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from pixcrawler_desktop.cli.filters import describe_filters
from pixcrawler_desktop.client import Chunk, Engine, Job, failure_reasons


def as_json(value: Any) -> Any:
    """Models as the server's JSON (`validate`, not `validate_level`; ISO dates)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


class Output:
    """The streams are looked up on each write, so tests capturing sys.stdout see it all."""

    def __init__(self, *, json_mode: bool = False, quiet: bool = False) -> None:
        self.json_mode = json_mode
        self.quiet = quiet

    def data(self, value: Any, text: str | Iterable[str] | None = None) -> None:
        """The command's result: JSON in --json mode, else `text` (lines) if given."""
        if self.json_mode:
            self.json_line(value, indent=2)
        elif text is not None:
            lines = [text] if isinstance(text, str) else list(text)
            for line in lines:
                print(line, file=sys.stdout)
            sys.stdout.flush()

    def json_line(self, value: Any, *, indent: int | None = None) -> None:
        sys.stdout.write(json.dumps(as_json(value), ensure_ascii=False, indent=indent) + "\n")
        sys.stdout.flush()

    def info(self, message: str) -> None:
        """Progress notes for people; `--quiet` drops them."""
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        print(f"error: {message}", file=sys.stderr, flush=True)


def job_rows(jobs: Sequence[Job]) -> list[str]:
    """`jobs list` as aligned columns."""
    rows = [("ID", "STATUS", "PROGRESS", "IMAGES", "NAME")]
    rows += [(str(j.id), j.status, f"{j.progress}%", str(j.downloaded_images), j.name)
             for j in jobs]
    return _columns(rows)


def job_details(job: Job, chunks: Sequence[Chunk], reviews: dict[str, int]) -> list[str]:
    """`jobs show`: the job's fields, then one line per keyword × engine chunk."""
    lines = [
        f"job {job.id}: {job.name}",
        f"  status      {job.status} ({job.progress}%)",
        f"  keywords    {', '.join(job.keywords)}",
        f"  engines     {', '.join(job.engines)}",
        f"  max images  {job.max_images} per keyword",
        f"  images      {job.downloaded_images}",
        f"  reviewed    {reviews['accepted'] + reviews['rejected']} of "
        f"{sum(reviews.values())}: {reviews['accepted']} accepted, "
        f"{reviews['rejected']} rejected",
        f"  chunks      {job.completed_chunks} completed, {job.active_chunks} active, "
        f"{job.failed_chunks} failed, {job.cancelled_chunks} cancelled of {job.total_chunks}",
        f"  filters     {describe_filters(job.filters)}",
        f"  robots.txt  {'respected' if job.respect_robots else 'ignored'}",
        f"  created     {job.created_at:%Y-%m-%d %H:%M:%S}",
    ]
    if job.validate_level:
        lines.append(f"  validate    {job.validate_level}")
    if chunks:
        lines.append("")
        rows = [("KEYWORD", "ENGINE", "STATUS", "IMAGES", "ERROR")]
        rows += [(c.keyword, c.engine, c.status, f"{c.downloaded}/{c.target}",
                  c.last_error or "") for c in chunks]
        lines += _columns(rows)
    warnings = chunk_warnings(chunks)
    if warnings:
        lines += ["", "warnings:", *(f"  {w}" for w in warnings)]
    return lines


def outcome_line(job_id: int, status: str, chunks: Sequence[Chunk],
                 images: int | None = None) -> str:
    """How a job ended, failed chunks and their reasons included: "completed" alone would
    hide that a full disk stopped half of it."""
    failed = [c for c in chunks if c.status == "failed"]
    line = f"Job {job_id} {status}"
    if failed and status == "completed":
        line += f" with {len(failed)} failed chunk{'s' if len(failed) > 1 else ''}"
    if images is not None:
        line += f": {images} images"
    reasons = failure_reasons(chunks)
    if reasons:
        shown = "; ".join(reasons[:3]) + (" …" if len(reasons) > 3 else "")
        line += f" ({shown}; `pixcrawler jobs retry {job_id}` resumes them)"
    return line


def chunk_warnings(chunks: Sequence[Chunk]) -> list[str]:
    """Each warning once: the same engine warns alike for every keyword."""
    return list(dict.fromkeys(w for chunk in chunks for w in chunk.warnings))


def engine_rows(engines: Sequence[Engine]) -> list[str]:
    """`engines`: what each engine is, whether this server can use it, what it filters."""
    rows = [("NAME", "KIND", "AVAILABLE", "FILTERS")]
    rows += [(e.name, e.kind, "yes" if e.available else f"no: {e.reason or 'unavailable'}",
              ", ".join(e.filters) or "-") for e in engines]
    return _columns(rows)


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]
