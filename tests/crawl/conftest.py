"""Fixtures for crawl tests: a fresh fake web per test and the shared recorded search pages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeweb import FakeWeb, FakeWebConfig

# ../shared/testdata beside the checkout (CI has it there too); never copied into the repo.
SEARCH_PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "search_pages"


@pytest.fixture
def fakeweb() -> Iterator[FakeWeb]:
    """A running fake web with default config; each test gets its own, so knobs never leak."""
    with FakeWeb(config=FakeWebConfig()) as web:
        yield web


@pytest.fixture(scope="session")
def search_pages() -> Path:
    """Folder of real recorded engine responses; skipped where absent, fatal in CI."""
    if not SEARCH_PAGES.is_dir():
        message = f"recorded search pages not found at {SEARCH_PAGES} (../shared/testdata)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must provide them", pytrace=False)
        pytest.skip(f"{message}; parser tests against real pages skipped")
    return SEARCH_PAGES
