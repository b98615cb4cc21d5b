"""The reconciler: send runnable steps to their Celery queues, re-send those whose message or worker was lost.

The catalogue stays the source of truth. A step is (re)dispatched when it is pending and
was never sent or was sent longer than a lease ago, or when it is running under an
expired lease (its worker died) with attempts left; one whose worker died on its last
attempt is failed instead. Taking the right to dispatch is an atomic conditional
UPDATE, so several API instances can run dispatchers side by side; the task's own claim
makes any duplicate message harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from dossiers.services import Services
from dossiers.steps import page_bound, step_time_limit
from storage.catalogue.models import Component, JobStep, StepState, utcnow
from workers.celery_app import RUN_STEP, make_app
from workers.runner import AbandonedSweep, lost_lease

log = logging.getLogger(__name__)
BATCH = 500


class Dispatcher:
    def __init__(self, services: Services):
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.app = make_app(services.settings)
        self._sweep = AbandonedSweep(services)

    def time_limit(self, kind: str, pages: int = 1) -> int:
        """Hard time limit of a step's task: the step's own limit (``step_time_limit``)."""
        return step_time_limit(self.services.settings.ocr.timeout_s, kind, pages)

    def dispatch_once(self) -> int:
        now = utcnow()
        stale = now - timedelta(seconds=self.services.settings.workers.lease_seconds)
        runnable = and_(
            or_(JobStep.dispatched_at.is_(None), JobStep.dispatched_at < stale),
            or_(
                and_(
                    JobStep.state == StepState.PENDING,
                    or_(JobStep.not_before.is_(None), JobStep.not_before <= now),
                ),
                lost_lease(now, self.services.settings.workers.max_attempts),
            ),
        )
        self._sweep()
        with self.services.catalogue.session() as s:
            ids = s.scalars(select(JobStep.id).where(runnable).order_by(JobStep.id).limit(BATCH)).all()
            if not ids:
                return 0
            taken = s.execute(
                update(JobStep)
                .where(JobStep.id.in_(ids), runnable)
                .values(dispatched_at=now)
                .returning(JobStep.id, JobStep.queue, JobStep.kind)
                .execution_options(synchronize_session=False)
            ).all()
        pages = self._pages({step_id for step_id, _queue, kind in taken if kind == "digitize"})
        for step_id, queue, kind in taken:
            limit = self.time_limit(kind, pages.get(step_id, 1))
            self.app.send_task(RUN_STEP, args=[step_id], queue=queue, time_limit=limit, soft_time_limit=limit - 10)
        if taken:
            log.info("dispatched %d steps", len(taken))
        return len(taken)

    def _pages(self, step_ids: set[int]) -> dict[int, int]:
        if not step_ids:
            return {}
        max_pages = self.services.settings.ocr.max_pages_per_component
        with self.services.catalogue.reading() as s:
            rows = s.execute(
                select(JobStep.id, Component)
                .join(Component, JobStep.component_id == Component.id)
                .where(JobStep.id.in_(step_ids))
                .options(selectinload(Component.files))  # page_bound reads them: one query, not one per step
            )
            return {step_id: page_bound(comp, max_pages) for step_id, comp in rows}

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
