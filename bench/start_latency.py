"""Time from POST /jobs/{id}/start to its 200 for a 100-keyword × 2-engine job (200 tasks),
against sending the same 200 tasks with bare `send_task` on the same broker, in one run.

Goal (issue 2): under 0.5 s, and at most 2× bare send_task.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import backend_arg, deployment, make_job, signed_in
from worker.celery_app import CRAWL_QUEUE, DOWNLOAD_TASK, make_celery
from worker.settings import Settings


def bare_send(settings: Settings, n: int) -> float:
    celery = make_celery(settings)
    t0 = time.perf_counter()
    with celery.producer_or_acquire() as producer:
        for i in range(n):
            celery.send_task(DOWNLOAD_TASK, kwargs={"keyword": f"kw {i}", "engine": "bing",
                                                    "max_images": 50, "job_id": 0,
                                                    "chunk_id": i},
                             task_id=str(uuid.uuid4()), queue=CRAWL_QUEUE, producer=producer)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    backend_arg(parser)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    with deployment(args.backend, start_rate_limit="1000/minute") as stack:
        client = signed_in(stack)
        settings = Settings(_env_file=None, **{k.removeprefix("PIXCRAWLER_").lower(): v
                                               for k, v in stack.env.items()
                                               if not k.startswith("PIXCRAWLER_ENGINE_")})
        bare_send(settings, 20)  # warm up the broker connection path
        api_times, bare_times = [], []
        for _ in range(args.reps):
            job_id = make_job(client, 100, ["bing", "duckduckgo"])
            t0 = time.perf_counter()
            r = client.post(f"/jobs/{job_id}/start")
            api_times.append(time.perf_counter() - t0)
            assert r.status_code == 200 and len(r.json()["task_ids"]) == 200, r.text
            bare_times.append(bare_send(settings, 200))
    api, bare = statistics.median(api_times), statistics.median(bare_times)
    print(f"backend={args.backend} reps={args.reps} (medians)")
    print(f"  POST /start, 200 tasks : {api * 1000:7.1f} ms   (goal < 500 ms)")
    print(f"  bare send_task x200    : {bare * 1000:7.1f} ms")
    print(f"  ratio                  : {api / bare:7.2f}   (goal <= 2.0)")


if __name__ == "__main__":
    main()
