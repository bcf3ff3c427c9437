"""Schemathesis over /openapi.json against a live API, on each backend (issue 16): every
operation, positive and negative data, signed in; it fails on any 5xx, any answer its schema
does not document, and any other check below.

All checks run but `positive_data_acceptance`: it expects every schema-valid request to
succeed, and some rules hold across fields (split fractions add up to 1, shard_mb only with
webdataset, an engine needs its API key), which JSON Schema does not say; their 422s are the
right answer.

Bounded by examples per operation and by time (SCHEMATHESIS_SECONDS, 60 s per backend by
default). Its own process, so it exercises the API exactly as an outside client would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, deploy
from tests.support.stack import Stack

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SECONDS = int(os.environ.get("SCHEMATHESIS_SECONDS", "60"))
EXAMPLES = 25
SEED = 16  # fixed, so a CI failure can be replayed with the same data


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(request, fakeweb, tmp_path_factory) -> Iterator[Stack]:
    """A stack of its own: the fuzzing spends the address's login quota and fills tables."""
    yield from deploy(request.param, fakeweb, tmp_path_factory, worker=False, name="fuzz")


@pytest.mark.timeout(SECONDS + 240)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(fuzzed, users, tmp_path):
    token = users(fuzzed).client.headers["Authorization"]
    report = tmp_path / "schemathesis.json"
    config = tmp_path / "schemathesis.toml"
    # A running job's event stream lasts as long as the job (no worker here): read its first
    # two events (retry, progress) and close, instead of waiting out the request timeout.
    config.write_text("max-stream-events = 2\n")
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "run", f"{fuzzed.api_url}/openapi.json",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--max-examples", str(EXAMPLES), "--max-time", str(SECONDS), "--seed", str(SEED),
        "--header", f"Authorization: {token}", "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report), "--no-color",
    ]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                         timeout=SECONDS + 180)
    summary = json.loads(report.read_text())
    failures = {f["code"]: f["count"] for f in summary["failures"]}
    print(f"schemathesis on {fuzzed.kind}: {summary['operations']['tested']} operations, "
          f"{summary['test_cases']['generated']} test cases, "
          f"{failures.get('ST101', 0)} server errors, failures {failures or 'none'}, "
          f"{summary['running_time']:.0f} s")
    assert summary["operations"]["tested"] == summary["operations"]["total"]
    assert run.returncode == 0 and not failures, run.stdout[-6000:] + fuzzed.log("api")[-2000:]
