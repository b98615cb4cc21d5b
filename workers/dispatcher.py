"""Send runnable steps to their Celery queues; re-send those whose lease or dispatch went stale.

The catalogue stays the source of truth: a lost message or a killed worker only means
the step is dispatched again after ``lease_seconds``; the task's claim makes that safe.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from storage.catalogue.models import JobStep, StepState, utcnow
from workers.celery_app import RUN_STEP, make_app
from workers.services import Services

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, services: Services):
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.app = make_app(services.settings)

    def dispatch_once(self) -> int:
        now = utcnow()
        stale = now - timedelta(seconds=self.services.settings.workers.lease_seconds)
        with self.services.catalogue.session() as s:
            rows = s.execute(
                select(JobStep.id, JobStep.queue)
                .where(
                    or_(JobStep.dispatched_at.is_(None), JobStep.dispatched_at < stale),
                    or_(
                        and_(
                            JobStep.state == StepState.PENDING,
                            or_(JobStep.not_before.is_(None), JobStep.not_before <= now),
                        ),
                        and_(JobStep.state == StepState.RUNNING, JobStep.lease_until < now),
                    ),
                )
                .order_by(JobStep.id)
                .limit(500)
            ).all()
            if rows:
                s.execute(
                    update(JobStep).where(JobStep.id.in_([r.id for r in rows])).values(dispatched_at=now),
                    execution_options={"synchronize_session": False},
                )
        for step_id, queue in rows:
            self.app.send_task(RUN_STEP, args=[step_id], queue=queue)
        if rows:
            log.info("dispatched %d steps", len(rows))
        return len(rows)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sohoa-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        self.app.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch_once()
            except Exception:
                log.exception("dispatch failed; will retry")
            self._stop.wait(self.services.settings.workers.poll_interval_s)
