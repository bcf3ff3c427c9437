"""Loopback fake web for tests: image-search engines in their real formats plus image hosts."""

from tests.fakeweb.server import FakeWeb, FakeWebConfig

__all__ = ["FakeWeb", "FakeWebConfig"]
