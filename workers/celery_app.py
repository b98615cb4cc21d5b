"""The Celery application: queues by capability, JSON only, late acks, ids as the only payload."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from sohoa.settings import Settings, get_settings

QUEUES = ("ingest", "ocr", "sign", "store")
RUN_STEP = "sohoa.run_step"


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("sohoa", broker=settings.workers.broker_url, include=["workers.tasks"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(q, Exchange(q), routing_key=q, durable=True, auto_delete=False) for q in QUEUES],
        task_default_queue="store",
        task_time_limit=settings.ocr.timeout_s * 10,
        task_soft_time_limit=settings.ocr.timeout_s * 9,
        worker_max_tasks_per_child=settings.workers.max_tasks_per_child,
        worker_send_task_events=True,
        task_send_sent_event=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={"visibility_timeout": settings.workers.lease_seconds * 2},
    )
    return app


app = make_app()
