"""Errors of the services a task needs, told apart from bugs: an unreachable database or
broker becomes ServiceDown (wait for it), a database on a full disk a LocalWriteError (stop)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from worker.crawl.types import LocalWriteError, ServiceDown


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def database_call() -> Iterator[None]:
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        detail = _first_line(exc)
        if "disk is full" in detail or "No space left" in detail:
            raise LocalWriteError(OSError(errno.ENOSPC, detail)) from exc
        raise ServiceDown("database", detail) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise ServiceDown("database", _first_line(exc)) from exc
        raise


@contextmanager
def broker_call() -> Iterator[None]:
    try:
        yield
    except (BrokerError, ConnectionError, TimeoutError) as exc:
        raise ServiceDown("broker", _first_line(exc)) from exc
