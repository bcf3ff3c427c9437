"""The cached health probes: callers never see a made-up answer while the first check runs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from worker.api.routers.system import CachedProbe


def test_first_callers_wait_for_the_first_answer():
    release = threading.Event()
    calls = []

    def check() -> dict:
        calls.append(1)
        release.wait(10)
        return {"ok": True, "count": 1}

    probe = CachedProbe(check, ttl=60)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(probe.status) for _ in range(8)]
        release.set()
        answers = [f.result(timeout=10) for f in futures]
    assert answers == [{"ok": True, "count": 1}] * 8
    assert len(calls) == 1  # one check served everyone


def test_failures_are_reported_and_checked_again_sooner():
    outcomes = iter([RuntimeError("broker down\nmore"), {"ok": True}])

    def check() -> dict:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    probe = CachedProbe(check, ttl=60, failed_ttl=0)
    assert probe.status() == {"ok": False, "error": "broker down"}
    assert probe.status() == {"ok": True}
    assert probe.status() == {"ok": True}  # cached now: the iterator would be exhausted
