"""Embedded mode: run the PixCrawler server (API + Celery worker) on this computer, in the
background, by re-running this program with a role argument (works the same when frozen)."""

from pixcrawler_desktop.local.account import local_credentials
from pixcrawler_desktop.local.backend import BackendError, EmbeddedBackend

__all__ = ["BackendError", "EmbeddedBackend", "local_credentials"]
