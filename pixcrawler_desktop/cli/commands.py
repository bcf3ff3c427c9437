"""The server commands: login, logout, engines, jobs …, validate. Each is a thin call of the shared
API client plus how to print its answer; errors propagate to `main`, which maps them to exit
codes."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from pixcrawler_desktop.cli.config import CliConfig
from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import API_ERROR, INTERRUPTED, OK, UsageError
from pixcrawler_desktop.cli.filters import filters_from
from pixcrawler_desktop.cli.follow import follow_job, wait_validation
from pixcrawler_desktop.cli.interrupt import Interrupt
from pixcrawler_desktop.cli.output import engine_rows, job_details, job_rows, outcome_line
from pixcrawler_desktop.cli.progress import make_view
from pixcrawler_desktop.cli.session import read_email, read_password, remote_session, server_url
from pixcrawler_desktop.client import MemoryTokenStore, PixCrawlerClient, server_root
from pixcrawler_desktop.client.quota import least_time_sentence

NOT_SAVED = ("no usable keyring, so the sign-in was not saved ({reason}); later commands need "
             "--email and --password-stdin")


@contextlib.contextmanager
def _client(args: argparse.Namespace, ctx: Context) -> Iterator[PixCrawlerClient]:
    session = remote_session(args, ctx.token_store())
    try:
        yield session.client
    finally:
        session.client.close()


def login(args: argparse.Namespace, ctx: Context) -> int:
    """Sign in and keep the refresh token in the keyring; the server and email go to the
    config file so later commands need neither."""
    config = CliConfig.load()
    server = args.server or config.server
    if not server:
        raise UsageError("login needs --server URL")
    store = ctx.token_store()
    with PixCrawlerClient(server, token_store=store) as client:
        email = read_email(args, config.accounts.get(client.base_url))
        user = client.login(email, read_password(args), remember=True)
        config.server = client.base_url
        config.accounts[client.base_url] = user.email
        config.save()
        warning = None if store.available else NOT_SAVED.format(reason=store.reason)
        if warning:
            ctx.out.warn(warning)
        ctx.out.data({"server": client.base_url, "email": user.email, "user_id": user.id,
                      "remembered": warning is None, "warning": warning},
                     f"Signed in to {client.base_url} as {user.email}")
    return OK


def logout(args: argparse.Namespace, ctx: Context) -> int:
    """End the session on the server (its refresh token and any copy of it stop working) and
    forget the stored sign-in. An unreachable server does not stop it: the stored token is
    deleted anyway and expires on its own."""
    config = CliConfig.load()
    server = args.server or config.server
    if not server:
        ctx.out.data({"server": None, "email": None}, "Not signed in")
        return OK
    root = server_root(server)
    email = args.email.strip().lower() if args.email else config.accounts.get(root)
    if email:
        store = ctx.token_store()
        if refresh := store.get(root, email):
            with PixCrawlerClient(root, token_store=MemoryTokenStore()) as client:
                client.revoke(refresh)
        store.delete(root, email)
    config.accounts.pop(root, None)
    if config.server == root:
        config.server = None
    config.save()
    ctx.out.data({"server": root, "email": email},
                 f"Signed out of {root}" + (f" ({email})" if email else ""))
    return OK


def engines(args: argparse.Namespace, ctx: Context) -> int:
    """The server's engines. The list is public, so no sign-in (and no keyring) is needed."""
    with PixCrawlerClient(server_url(args, CliConfig.load()),
                          token_store=MemoryTokenStore()) as client:
        found = client.engines()
    ctx.out.data(found, engine_rows(found) if found else "This server offers no engines")
    return OK


def jobs_list(args: argparse.Namespace, ctx: Context) -> int:
    with _client(args, ctx) as client:
        jobs = client.all_jobs(args.status)
    ctx.out.data(jobs, job_rows(jobs) if jobs else "No jobs")
    return OK


def jobs_show(args: argparse.Namespace, ctx: Context) -> int:
    with _client(args, ctx) as client:
        job = client.job(args.job)
        chunks = client.chunks(args.job)
        reviews = client.review_counts(args.job)
    ctx.out.data({**job.model_dump(mode="json", by_alias=True), "chunks": chunks,
                  "review": reviews}, job_details(job, chunks, reviews))
    return OK


def jobs_create(args: argparse.Namespace, ctx: Context) -> int:
    with _client(args, ctx) as client:
        job = client.create_job(args.name or ", ".join(args.keywords)[:200], args.keywords,
                                args.engines, args.max_images, validate=args.validate,
                                respect_robots=not args.no_robots, filters=filters_from(args),
                                fill=not args.no_fill)
        if args.start:
            client.start(job.id)
            job = client.job(job.id)
        quota = least_time_sentence(client.chunks(job.id), client.engines())
    ctx.out.data(job, f"Created job {job.id} ({job.status})")
    for warning in job.warnings:  # its sources' terms, e.g. Unsplash's on ML use
        ctx.out.warn(warning)
    if quota:
        ctx.out.info(quota)
    return OK


def _job_action(action: str):
    """`jobs start|cancel|retry JOB`: call the client method of that name, print its answer."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        with _client(args, ctx) as client:
            result = getattr(client, action)(args.job)
        ctx.out.data(result, result.message)
        return OK

    command.__name__ = f"jobs_{action}"
    return command


jobs_start = _job_action("start")
jobs_cancel = _job_action("cancel")
jobs_retry = _job_action("retry")


def jobs_delete(args: argparse.Namespace, ctx: Context) -> int:
    with _client(args, ctx) as client:
        client.delete(args.job)
    ctx.out.data({"job_id": args.job, "deleted": True}, f"Deleted job {args.job}")
    return OK


def jobs_watch(args: argparse.Namespace, ctx: Context) -> int:
    """Follow a job until it ends; --json prints its progress as JSON lines. Exit 0 only if
    it completed, so `pixcrawler jobs watch 7 && train.sh` does the right thing."""
    with _client(args, ctx) as client, Interrupt() as stop:
        view = make_view(ctx.out, json_lines=ctx.out.json_mode, engines=client.engines())
        try:
            final = follow_job(client, args.job, view, stop, say=ctx.out.warn)
        finally:
            view.close()
        if stop.requested and not final.finished:
            return INTERRUPTED
        if not ctx.out.json_mode:
            chunks = client.chunks(args.job) if final.failed_chunks else []
            ctx.out.data(final, outcome_line(final.job_id, final.status, chunks,
                                             final.downloaded_images))
    return OK if final.status == "completed" else API_ERROR


def validate(args: argparse.Namespace, ctx: Context) -> int:
    """Start a validation run; with --wait, show it and print its summary."""
    with _client(args, ctx) as client:
        started = client.validate(args.job, args.level)
        if not args.wait:
            ctx.out.data(started, started.message)
            return OK
        with Interrupt() as stop:
            view = make_view(ctx.out)
            try:
                summary = wait_validation(client, args.job, view, stop, say=ctx.out.warn)
            finally:
                view.close()
    ctx.out.data(summary, f"Validation ({summary.level}) {summary.status}: "
                          f"{summary.valid} valid, {summary.invalid} invalid, "
                          f"{summary.duplicate} duplicate of {summary.images_total}")
    if summary.status == "running":
        return INTERRUPTED
    return OK if summary.status == "completed" else API_ERROR
