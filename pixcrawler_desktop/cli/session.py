"""Getting a signed-in client: to a server (stored sign-in or a password on stdin), or to the
embedded backend on this computer, started for the command and stopped after it.

`job_session` is the one place that decides which of the two a command that works on jobs
uses, so `crawl` and `export` agree: `--server` is a server, `--local`/`--data-dir` the local
backend, and with neither, `crawl` runs locally and `export` uses the server you signed in
to, or the local backend if you never did."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from pixcrawler_desktop.cli.config import CliConfig, default_data_dir
from pixcrawler_desktop.cli.context import Context
from pixcrawler_desktop.cli.exitcodes import CONNECTION, CliError, NeedsSignIn, UsageError
from pixcrawler_desktop.cli.interrupt import uninterruptible
from pixcrawler_desktop.cli.output import Output
from pixcrawler_desktop.client import (
    MemoryTokenStore,
    PixCrawlerClient,
    TokenStore,
)
from pixcrawler_desktop.local import BackendError, EmbeddedBackend
from pixcrawler_desktop.local.contact import CONTACT_VARIABLE
from pixcrawler_desktop.local.signin import sign_in_local
from pixcrawler_desktop.local.state import stop_processes


@dataclass
class Session:
    """A signed-in client."""

    client: PixCrawlerClient


def read_password(args: argparse.Namespace) -> str:
    """The first line of stdin with --password-stdin (so it stays out of `ps` and the shell
    history), else a hidden prompt."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: no password on standard input")
        return password
    try:
        return getpass.getpass("Password: ")
    except EOFError:
        raise UsageError("no password given (use --password-stdin in scripts)") from None


def read_email(args: argparse.Namespace, known: str | None) -> str:
    if args.email:
        return args.email.strip()
    if known:
        return known
    if args.password_stdin or not sys.stdin.isatty():
        raise UsageError("--email is required when the password comes from standard input")
    print("Email: ", end="", file=sys.stderr, flush=True)
    email = sys.stdin.readline().strip()
    if not email:
        raise UsageError("no email given")
    return email


def server_url(args: argparse.Namespace, config: CliConfig) -> str:
    server = args.server or config.server
    if not server:
        raise NeedsSignIn("no server: sign in first with `pixcrawler --server URL login`")
    return server


def remote_session(args: argparse.Namespace, store: TokenStore) -> Session:
    """The server from --server or the config, signed in with --password-stdin (kept nowhere)
    or with the refresh token `login` stored."""
    config = CliConfig.load()
    client = PixCrawlerClient(server_url(args, config), token_store=store)
    try:
        known = config.accounts.get(client.base_url)
        if args.password_stdin:
            client.login(read_email(args, known), read_password(args))
            return Session(client)
        email = args.email.strip() if args.email else known
        if email is None:
            raise NeedsSignIn(f"not signed in to {client.base_url}: run "
                              f"`pixcrawler --server {client.base_url} login`")
        if client.resume(email) is None:
            hint = "" if store.available else f" ({store.reason})"
            raise NeedsSignIn(f"not signed in to {client.base_url} as {email}{hint}: run "
                              f"`pixcrawler --server {client.base_url} login`, or pass "
                              "--email and --password-stdin")
    except BaseException:
        client.close()
        raise
    return Session(client)


def data_dir_of(args: argparse.Namespace) -> Path:
    """--data-dir, else PIXCRAWLER_DATA_DIR or the user data folder (the app's too)."""
    given = getattr(args, "data_dir", None)
    return Path(given).expanduser().resolve() if given else default_data_dir()


def wants_local(args: argparse.Namespace, *, signed_in_default: bool) -> bool:
    """Local unless --server; with `signed_in_default`, also a stored server wins over the
    local backend unless --local or --data-dir says otherwise."""
    if args.server:
        if getattr(args, "local", False) or getattr(args, "data_dir", None):
            raise UsageError("--server and --local/--data-dir: choose one")
        return False
    if getattr(args, "local", False) or getattr(args, "data_dir", None):
        return True
    return not (signed_in_default and CliConfig.load().server)


@contextlib.contextmanager
def job_session(args: argparse.Namespace, ctx: Context, *, signed_in_default: bool,
                concurrency: int = 1) -> Iterator[Session]:
    """A server's session or the local backend's, closed (and a backend started for it
    stopped) on the way out."""
    if wants_local(args, signed_in_default=signed_in_default):
        with local_session(data_dir_of(args), concurrency, ctx.out) as session:
            yield session
        return
    session = remote_session(args, ctx.token_store())
    try:
        yield session
    finally:
        session.client.close()


CONTACT_NOTE = (f"Sites see this crawler without a contact: set {CONTACT_VARIABLE} to your "
                "email or web page (for example `export PIXCRAWLER_CONTACT=you@example.org`). "
                "Wikimedia's policy asks for one, and other sites block crawlers that give none.")


@contextlib.contextmanager
def local_session(data_dir: Path, concurrency: int, out: Output) -> Iterator[Session]:
    """The embedded backend for `data_dir`, signed in with its automatic local account.

    An app already running the backend on this folder is joined and left running; one started
    here is stopped on the way out, whatever happened (an exception, Ctrl-C, SIGTERM, SIGHUP:
    see `interrupt.ending_signals`), and without letting a signal cut the stop short.
    """
    backend = EmbeddedBackend(data_dir, concurrency=concurrency, on_event=out.info)
    client: PixCrawlerClient | None = None
    try:
        out.info(f"Starting the local backend in {data_dir} …")
        try:
            url = backend.start()
        except BackendError as exc:
            raise CliError(f"the local backend did not start: {exc}", CONNECTION) from None
        client = PixCrawlerClient(url, token_store=MemoryTokenStore())
        sign_in_local(client, data_dir)
        if backend.owned and not os.environ.get(CONTACT_VARIABLE, "").strip():
            out.info(CONTACT_NOTE)
        yield Session(client)
    finally:
        with uninterruptible():
            try:
                if client is not None:
                    client.close()
                if backend.owned:
                    with contextlib.suppress(OSError):  # a closed terminal must not skip the stop
                        out.info("Stopping the local backend …")
            finally:
                backend.stop()
                end_children_in(data_dir)


def end_children_in(data_dir: Path) -> None:
    """End this process's own children still running in `data_dir` (the backend's processes
    run there). A signal that lands while the backend is spawning them, before it counts
    them as its own, would otherwise leave them behind; a backend we only attached to is
    never our child."""
    found = []
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if Path(child.cwd()) == data_dir:
                found.append(child)
    stop_processes(found)

