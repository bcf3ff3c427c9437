"""`engines`, and the search filter options of `jobs create`, against a real API (no worker)."""

from __future__ import annotations

import argparse

import pytest

from pixcrawler_desktop.cli.filters import filters_from
from pixcrawler_desktop.cli.output import engine_rows
from pixcrawler_desktop.cli.parser import build_parser
from pixcrawler_desktop.client import Engine, Filters
from tests.cli.test_server_commands import sign_in

FLICKR_REASON = "needs an API key: set PIXCRAWLER_FLICKR_API_KEY"
DEFAULT_FILTERS = {
    "safe_search": True,
    "min_width": 0,
    "min_height": 0,
    "license": "any",
    "image_type": "any",
    "color": "any",
}


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["jobs", "create", "cat", *argv])


def test_filter_options_make_filters_only_when_given():
    assert filters_from(parse()) is None
    assert filters_from(parse("--no-safe-search")) == Filters(safe_search=False)
    assert filters_from(
        parse(
            "--min-size",
            "640 x 480",
            "--license",
            "public_domain",
            "--type",
            "photo",
            "--color",
            "grayscale",
        )
    ) == Filters(
        min_width=640,
        min_height=480,
        license="public_domain",
        image_type="photo",
        color="grayscale",
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--min-size", "640"],
        ["--min-size", "axb"],
        ["--min-size", "200000x1"],
        ["--license", "gpl"],
        ["--type", "vector"],
        ["--color", "magenta"],
    ],
)
def test_bad_filter_values_are_usage_errors(cli, argv):
    result = cli("jobs", "create", "cat", *argv)
    assert result.code == 2 and "Traceback" not in result.err


def test_engine_table_says_why_an_engine_is_unavailable():
    rows = engine_rows(
        [
            Engine(name="bing", kind="scraped", available=True),
            Engine(
                name="flickr",
                kind="api",
                available=False,
                reason=FLICKR_REASON,
                filters=["license", "safe_search"],
            ),
        ]
    )
    assert rows == [
        "NAME    KIND     AVAILABLE                                            FILTERS",
        "bing    scraped  yes                                                  -",
        f"flickr  api      no: {FLICKR_REASON}  license, safe_search",
    ]


def test_engines_need_no_sign_in(server, cli):
    table = cli("--server", server.api_url, "engines")
    assert table.code == 0, table.err
    header, *rows = table.out.splitlines()
    assert header.split() == ["NAME", "KIND", "AVAILABLE", "FILTERS"]
    names = [row.split()[0] for row in rows]
    assert {"bing", "duckduckgo"} <= set(names)
    listed = cli("--server", server.api_url, "--json", "engines").json()
    assert [e["name"] for e in listed] == names
    assert all(e["available"] and e["reason"] is None for e in listed)


def test_an_engine_without_its_key_is_listed_and_refused(keyless_server, users, cli):
    table = cli("--server", keyless_server.api_url, "engines")
    flickr = next(line for line in table.out.splitlines() if line.startswith("flickr "))
    assert flickr.split()[1:3] == ["api", "no:"] and FLICKR_REASON in flickr
    sign_in(cli, keyless_server, users(keyless_server))
    refused = cli("jobs", "create", "cat", "--engines", "bing,flickr")
    assert refused.code == 1
    assert refused.err.strip() == f"error: Engine 'flickr' is not available: {FLICKR_REASON}"
    assert cli("--json", "jobs", "list").json() == []


def test_jobs_create_sends_filters_and_show_prints_them(server, users, cli):
    sign_in(cli, server, users(server))
    created = cli(
        "--json",
        "jobs",
        "create",
        "cat",
        "--engines",
        "bing",
        "--no-safe-search",
        "--min-size",
        "640x480",
        "--license",
        "commercial",
        "--type",
        "photo",
        "--color",
        "blue",
    )
    assert created.code == 0, created.err
    job = created.json()
    assert job["filters"] == {
        **DEFAULT_FILTERS,
        "safe_search": False,
        "min_width": 640,
        "min_height": 480,
        "license": "commercial",
        "image_type": "photo",
        "color": "blue",
    }
    plain = cli("--json", "jobs", "create", "dog", "--engines", "bing").json()
    assert plain["filters"] == DEFAULT_FILTERS

    shown = cli("jobs", "show", str(job["id"]))
    assert (
        "  filters     safe search off, at least 640×480, licence commercial, type photo, "
        "colour blue"
    ) in shown.out.splitlines()
    assert "  filters     safe search on" in cli("jobs", "show", str(plain["id"])).out
