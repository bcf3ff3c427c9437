"""Exit codes: one per thing a script reacts to differently, documented in `pixcrawler --help`.

Scripts branch on the code (sign in again, the job is gone, retry later), so every failure is
mapped here in one place rather than decided by each command.
"""

from __future__ import annotations

from pixcrawler_desktop.client import (
    ApiError,
    AuthError,
    ConnectionLost,
    NotFoundError,
    RateLimited,
)

OK = 0
API_ERROR = 1
USAGE = 2
AUTH_NEEDED = 3
NOT_FOUND = 4
CONNECTION = 5
INTERRUPTED = 130

EPILOG = f"""\
exit codes:
  {OK}    success
  {API_ERROR}    the server refused the request, or a job ended failed or cancelled
  {USAGE}    wrong arguments
  {AUTH_NEEDED}    sign-in needed or refused (run `pixcrawler --server URL login`)
  {NOT_FOUND}    no such job, or nothing to validate
  {CONNECTION}    cannot reach the server, or the local backend did not start
  {INTERRUPTED}  interrupted (Ctrl-C, SIGTERM, SIGHUP): a crawl cancels its job and saves what it
       has; a local backend the command started is stopped
"""


class CliError(Exception):
    """A failure the CLI explains itself, in one line, with the exit code it deserves."""

    code = API_ERROR

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class UsageError(CliError):
    code = USAGE


class NeedsSignIn(CliError):
    code = AUTH_NEEDED


def code_for(exc: ApiError) -> int:
    """The exit code for an error of the API client."""
    if isinstance(exc, ConnectionLost):
        return CONNECTION
    if isinstance(exc, AuthError):
        return AUTH_NEEDED
    if isinstance(exc, NotFoundError):
        return NOT_FOUND
    return API_ERROR


def describe(exc: ApiError) -> str:
    """The server's own `detail` (a 429's already says how long to wait); a proxy's bare
    429 gets the Retry-After it sent."""
    if (isinstance(exc, RateLimited) and exc.retry_after is not None
            and "try again" not in exc.detail.lower()):
        return f"{exc.detail} (try again in {exc.retry_after:.0f} s)"
    return exc.detail
