"""Commands that need a worker: watching a job to its end, validating, and `crawl --server`,
whose files come through the API (GET /images/{id}/file) instead of from disk."""

from __future__ import annotations

import threading

import pytest

from tests.cli.helpers import check_dataset, served_by
from tests.cli.test_server_commands import sign_in
from tests.support.stack import wait_for

pytestmark = pytest.mark.slow


def test_create_start_watch_validate_retry(live, users, cli):
    sign_in(cli, live, users(live))
    created = cli("--json", "jobs", "create", "cli watch", "--engines", "bing,duckduckgo",
                  "--max-images", "6", "--start")
    assert created.code == 0, created.err
    job = created.json()
    assert job["status"] == "running"
    job_id = str(job["id"])

    watch = cli("--json", "jobs", "watch", job_id)
    assert watch.code == 0, watch.err
    events = watch.json_lines()
    assert events[-1]["status"] == "completed" and events[-1]["downloaded_images"] == 6
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100
    assert {e["job_id"] for e in events} == {job["id"]}

    human = cli("jobs", "watch", job_id)
    assert human.code == 0 and human.out.strip() == f"Job {job_id} completed: 6 images"

    validated = cli("--json", "validate", job_id, "--level", "fast", "--wait")
    assert validated.code == 0, validated.err
    summary = validated.json()
    assert (summary["level"], summary["status"]) == ("fast", "completed")
    assert summary["validated"] == summary["images_total"] == summary["valid"] == 6

    retry = cli("jobs", "retry", job_id)
    assert retry.code == 1
    assert retry.err.strip() == "error: Job has no failed or cancelled chunks to retry"


def test_crawl_on_a_server(live, users, cli, tmp_path, fakeweb):
    user = users(live)
    sign_in(cli, live, user)
    # Another job of the same account runs meanwhile (its downloads hang): the crawl says it
    # shares the workers with it.
    fakeweb.config.faults["busy owl"] = dict.fromkeys(range(60), "hang=1")
    busy = user.client.post("/jobs", json={"name": "busy", "keywords": ["busy owl"],
                                           "engines": ["bing"], "max_images": 5})
    assert user.client.post(f"/jobs/{busy.json()['id']}/start").status_code == 200
    out = tmp_path / "dataset"
    result = cli("--server", live.api_url, "--json", "crawl", "remote cat", "remote/dog",
                 "--engines", "bing", "--max-images", "4", "--out", str(out),
                 "--validate", "fast")
    user.client.post(f"/jobs/{busy.json()['id']}/cancel")
    assert result.code == 0, result.err
    assert f"The backend is also running job {busy.json()['id']} (busy): this job's 2 " \
           "chunks share its workers with 1 chunk queued or running" in result.err
    report = result.json()
    assert report["status"] == "completed" and report["interrupted"] is False
    assert report["dataset"]["images"] == 8 and report["dataset"]["missing"] == 0
    assert report["validation"]["status"] == "completed"

    rows = check_dataset(out, {"remote-cat", "remote-dog"})
    assert len(rows) == 8
    assert sorted(r["keyword"] for r in rows) == ["remote cat"] * 4 + ["remote/dog"] * 4
    assert all(r["validation_status"] == "valid" for r in rows)
    assert all(served_by(fakeweb, r) for r in rows)



def test_watch_outlasts_an_api_restart(live, users, cli, fakeweb):
    """The API restarts while `jobs watch` follows a job: the command says so in a line,
    reconnects by itself and follows the job to its end."""
    fakeweb.config.latency = 0.3
    fakeweb.config.results_per_keyword = 200
    user = users(live)
    sign_in(cli, live, user)
    created = cli("--json", "jobs", "create", "api restart", "--engines", "bing",
                  "--max-images", "150", "--start")
    assert created.code == 0, created.err
    job_id = created.json()["id"]

    def restart() -> None:
        wait_for(lambda: user.client.get(f"/jobs/{job_id}/progress").json()
                 ["downloaded_images"] >= 3, 60, "the first downloads")
        live.restart_api()

    restarter = threading.Thread(target=restart)
    restarter.start()
    watch = cli("jobs", "watch", str(job_id))
    restarter.join()
    assert watch.code == 0, watch.err
    assert "; reconnecting …" in watch.err and "reconnected to the server" in watch.err
    assert watch.out.strip() == f"Job {job_id} completed: 150 images"
