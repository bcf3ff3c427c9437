"""`pixcrawler crawl`: keywords in, a dataset folder out, in one command.

By default the work is done by the embedded backend, started for the crawl and stopped after
it; with --server by that server. The first Ctrl-C cancels the job through the API, waits for
the server to confirm, and still writes what was downloaded (exit 130).
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import API_ERROR, INTERRUPTED, OK, CliError, UsageError
from pixcrawler_desktop.cli.export import check_destination, write_folder
from pixcrawler_desktop.cli.filters import filters_from
from pixcrawler_desktop.cli.follow import cancel_and_wait, follow_job, wait_validation
from pixcrawler_desktop.cli.interrupt import Interrupt
from pixcrawler_desktop.cli.output import chunk_warnings, outcome_line
from pixcrawler_desktop.cli.progress import make_view
from pixcrawler_desktop.cli.session import Session, job_session
from pixcrawler_desktop.client import ApiError, Job, PixCrawlerClient, ValidationSummary
from pixcrawler_desktop.client.quota import least_time_sentence
from pixcrawler_desktop.client.shortfall import job_sentences

MAX_NAME = 200


def run(args: argparse.Namespace, ctx: Context) -> int:
    folder = Path(args.out).expanduser().resolve()
    try:
        check_destination(folder)
    except FileExistsError as exc:
        raise UsageError(f"--out: {exc}") from None
    with job_session(args, ctx, signed_in_default=False,
                     concurrency=args.concurrency) as session:
        return _crawl(args, ctx, session, folder)


def _crawl(args: argparse.Namespace, ctx: Context, session: Session, folder: Path) -> int:
    out, client = ctx.out, session.client
    summary: ValidationSummary | None = None
    # From here on Ctrl-C only sets a flag: a job created or started while it arrives is
    # still cancelled properly instead of being left running on the server.
    _check_format(client, args.format)
    engines = client.engines()
    with Interrupt() as stop:
        job = _create_and_start(client, args)
        out.info(f"Crawling job {job.id}: {', '.join(job.keywords)} on "
                 f"{', '.join(job.engines)} (Ctrl-C cancels and keeps what was downloaded)")
        for warning in job.warnings:  # its sources' terms, e.g. Unsplash's on ML use
            out.warn(warning)
        if quota := least_time_sentence(client.chunks(job.id), engines):
            out.info(quota)
        if busy := _busy_with_others(client, job):
            out.info(busy)
        view = make_view(out, engines=engines)
        try:
            final = follow_job(client, job.id, view, stop, say=out.warn)
            if stop.requested and not final.finished:
                out.info("Cancelling …")
                final = cancel_and_wait(client, job.id, view)
            if args.validate and not stop.requested and final.downloaded_images > 0:
                client.validate(job.id, args.validate)
                summary = wait_validation(client, job.id, view, stop, say=out.warn)
        finally:
            view.close()
        dataset = write_folder(client, job.id, folder, ctx, include=args.include,
                               split=args.split, export_format=args.format,
                               shard_mb=args.shard_mb)
        interrupted = stop.requested
    job = client.job(job.id)
    chunks = client.chunks(job.id)
    warnings = chunk_warnings(chunks)
    missing = dataset["missing"] or 0
    if missing:
        out.warn(f"{missing} images were left out because their files are gone; the "
                 "dataset's README.md lists them")
    _report(ctx, job, final.status, dataset, summary, interrupted, warnings,
            outcome_line(job.id, final.status, chunks),
            job_sentences(job, chunks, short_only=True))
    if interrupted:
        return INTERRUPTED
    if job.status != "completed" or missing or (summary and summary.status == "failed"):
        return API_ERROR
    return OK


def _busy_with_others(client: PixCrawlerClient, job: Job) -> str | None:
    """Say so when the backend (an app's, attached to) runs other jobs: this one's chunks
    queue behind theirs."""
    others = [j for j in client.all_jobs("running") if j.id != job.id]
    if not others:
        return None
    ahead = sum(j.active_chunks for j in others)
    names = ", ".join(f"{j.id} ({j.name})" for j in others[:3])
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return (f"The backend is also running job{'s' if len(others) > 1 else ''} {names}{more}: "
            f"this job's {job.total_chunks} chunks share its workers with {ahead} "
            f"chunk{'s' if ahead != 1 else ''} queued or running before them.")


def _check_format(client: PixCrawlerClient, export_format: str) -> None:
    """Refuse before crawling a format the server cannot write, rather than after."""
    for known in client.export_formats():
        if known.name == export_format and not known.available:
            raise CliError(f"--format {export_format}: {known.detail}")


def _create_and_start(client: PixCrawlerClient, args: argparse.Namespace) -> Job:
    """A job that could not be started (rate limit, broker down) is deleted again, so a
    failed command leaves nothing behind."""
    job = client.create_job(args.name or _default_name(args.keywords), args.keywords,
                            args.engines, args.max_images, respect_robots=not args.no_robots,
                            filters=filters_from(args), fill=not args.no_fill)
    try:
        client.start(job.id)
    except ApiError:
        with contextlib.suppress(ApiError):
            client.delete(job.id)
        raise
    return job


def _default_name(keywords: list[str]) -> str:
    name = "crawl: " + ", ".join(keywords)
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _report(ctx: Context, job: Job, status: str, dataset: dict[str, Any],
            summary: ValidationSummary | None, interrupted: bool, warnings: list[str],
            ending: str, short: list[str]) -> None:
    """The warnings were said on stderr while crawling; --json also gets them here, and
    `short`: a sentence per keyword that got fewer images than asked, saying where the rest
    went ("red fox: 86 of 100; bing ran out after 140 results, 9 failed (9 timeouts)")."""
    result = {
        "job": job,
        "status": status,
        "interrupted": interrupted,
        "warnings": warnings,
        "short": short,
        "dataset": {"folder": dataset["path"], "images": dataset["images"],
                    "bytes": dataset["bytes"], "missing": dataset["missing"] or 0},
        "validation": summary,
    }
    lines = [ending, *short, f"{dataset['images']} images saved to {dataset['path']}"]
    if summary is not None:
        lines.append(f"Validation ({summary.level}) {summary.status}: {summary.valid} valid, "
                     f"{summary.invalid} invalid, {summary.duplicate} duplicate")
    ctx.out.data(result, lines)
