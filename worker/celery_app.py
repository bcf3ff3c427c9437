"""The Celery app: one broker per mode, two queues, and the crash-safety defaults every task shares.

`celery -A worker.celery_app inspect active` and Flower work against it in server mode.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from worker.settings import Settings, get_settings

CRAWL_QUEUE = "crawl"
VALIDATION_QUEUE = "validation"
DOWNLOAD_TASK = "worker.tasks.crawl.download_images_task"
LEVELS = ("fast", "medium", "slow")


def validation_task_name(level: str) -> str:
    return f"worker.tasks.validation.validate_image_{level}_task"


def make_celery(settings: Settings) -> Celery:
    app = Celery("pixcrawler", broker=settings.broker_url,
                 include=["worker.tasks.crawl", "worker.tasks.recovery",
                          "worker.tasks.validation"])
    transport_options: dict = {}
    if settings.uses_filesystem_broker:
        settings.prepare_dirs()
        inbox = str(settings.broker_dir / "in")
        transport_options = {
            "data_folder_in": inbox,
            "data_folder_out": inbox,
            "control_folder": str(settings.broker_dir / "control"),
            "processed_folder": str(settings.broker_dir / "processed"),
            "store_processed": False,
            # How long a consumer sleeps between looks at its folders (kombu's default is
            # 1 s). With one task prefetched per thread, each finished chunk or validation
            # batch waits for the next look before its thread gets more work, and the API
            # waits as long for a ping's reply. 50 ms instead of 1 s took a 500-image crawl
            # with medium validation from 22 s to 16 s (bench/cli_crawl.py --validate); an
            # idle worker then uses about 0.7% of a core instead of next to nothing.
            "polling_interval": 0.05,
        }
    elif settings.broker_url.startswith(("redis://", "rediss://")):
        # Longer than any chunk runs; a killed worker's chunks are recovered sooner by the
        # heartbeat sweep in worker.tasks.recovery, so this is only the broker's backstop.
        transport_options = {"visibility_timeout": 6 * 3600}
    app.conf.update(
        # The folder broker is kombu's filesystem transport with whole-message writes.
        broker_transport=("worker.folder_broker:Transport" if settings.uses_filesystem_broker
                          else None),
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_queues=[Queue(CRAWL_QUEUE), Queue(VALIDATION_QUEUE)],
        task_default_queue=CRAWL_QUEUE,
        task_routes={"worker.tasks.crawl.*": {"queue": CRAWL_QUEUE},
                     "worker.tasks.validation.*": {"queue": VALIDATION_QUEUE}},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # The longest the worker's timer thread sleeps (Celery's default is 1 s). A warm
        # shutdown waits for that sleep to end (it took 0.7-1 s of every embedded stop), and
        # chunks parked on a search-quota slot (an ETA) start up to that late.
        worker_timer_precision=0.1,
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        result_backend=None,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
    )
    app.conf.pixcrawler_settings = settings
    return app


app = make_celery(get_settings())
