"""Claim, run and settle job steps against the catalogue.

The catalogue is the source of truth: a step is claimed by an atomic conditional
UPDATE that takes a lease; a step whose lease expired (its worker died) can be claimed
again. Results are committed only while the lease is still held, so a step that ran
twice leaves a single outcome. Transient faults go back to ``pending`` with
exponential backoff and jitter; permanent ones are recorded with their code at once.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from sohoa.errors import ErrorInfo, SohoaError
from storage.catalogue.models import Component, ComponentState, EResult, JobStep, StepState, utcnow
from workers.errors import StepAbandoned
from workers.pipeline import STEPS
from workers.services import Services

log = logging.getLogger(__name__)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class RunResult:
    step_id: int
    state: str
    error_code: str | None = None


class StepRunner:
    def __init__(self, services: Services, owner: str | None = None):
        self.services = services
        self.owner = owner or worker_identity()
        self.lease = timedelta(seconds=services.settings.workers.lease_seconds)

    def _claimable(self):  # type: ignore[no-untyped-def]
        now = utcnow()
        return or_(
            and_(JobStep.state == StepState.PENDING, or_(JobStep.not_before.is_(None), JobStep.not_before <= now)),
            and_(JobStep.state == StepState.RUNNING, JobStep.lease_until < now),
        )

    def claim(self, step_id: int) -> bool:
        """Take the lease on one step; False when it is done, failed or leased by a live worker."""
        now = utcnow()
        with self.services.catalogue.session() as s:
            res = s.execute(
                update(JobStep)
                .where(JobStep.id == step_id, self._claimable())
                .values(
                    state=StepState.RUNNING,
                    lease_owner=self.owner,
                    lease_until=now + self.lease,
                    attempts=JobStep.attempts + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            return res.rowcount == 1

    def claim_next(self, queues: tuple[str, ...]) -> int | None:
        """Claim the oldest runnable step of the given queues, or return None."""
        for _ in range(5):
            with self.services.catalogue.session() as s:
                candidates = s.scalars(
                    select(JobStep.id).where(JobStep.queue.in_(queues), self._claimable()).order_by(JobStep.id).limit(8)
                ).all()
            if not candidates:
                return None
            for step_id in random.sample(list(candidates), len(candidates)):
                if self.claim(step_id):
                    return step_id
        return None

    def run(self, step_id: int) -> RunResult:
        """Run a step this runner has claimed and settle it."""
        with self.services.catalogue.session() as s:
            step = s.get_one(JobStep, step_id)
            s.expunge(step)
        spec = STEPS[step.kind]
        log.info("step %s (%s) attempt %s started", step.id, step.kind, step.attempts)
        try:
            outcome = spec.handler(self.services, step)
        except SohoaError as exc:
            return self._settle_error(step, exc, retry=exc.retryable)
        except Exception as exc:
            log.exception("step %s (%s) crashed", step.id, step.kind)
            return self._settle_error(step, exc, retry=True)
        return self._settle_success(step, outcome)

    def _owned(self, s, step_id: int) -> JobStep | None:  # type: ignore[no-untyped-def]
        row = s.scalar(select(JobStep).where(JobStep.id == step_id).with_for_update())
        if row is None or row.state != StepState.RUNNING or row.lease_owner != self.owner:
            log.warning("step %s: lease lost, result discarded", step_id)
            return None
        return row

    def _settle_success(self, step: JobStep, outcome) -> RunResult:  # type: ignore[no-untyped-def]
        now = utcnow()
        with self.services.catalogue.session() as s:
            row = self._owned(s, step.id)
            if row is None:
                return RunResult(step.id, "lost")
            row.state, row.output, row.finished_at = StepState.DONE, outcome.output, now
            row.lease_owner = row.lease_until = None
            row.error_code = row.error_message = None
            if outcome.finalize is not None:
                outcome.finalize(s, row)
            if outcome.next_kind is not None:
                nxt = STEPS[outcome.next_kind]
                s.add(
                    JobStep(
                        kind=nxt.kind,
                        queue=nxt.queue,
                        component_id=row.component_id,
                        eresult_id=row.eresult_id,
                        input_sha256=outcome.output.get("sha256") or outcome.output.get("pdf_sha256"),
                        created_at=now,
                    )
                )
        log.info("step %s (%s) done", step.id, step.kind)
        return RunResult(step.id, StepState.DONE)

    def _settle_error(self, step: JobStep, exc: BaseException, *, retry: bool) -> RunResult:
        info = ErrorInfo.from_exception(exc)
        max_attempts = self.services.settings.workers.max_attempts
        with self.services.catalogue.session() as s:
            row = self._owned(s, step.id)
            if row is None:
                return RunResult(step.id, "lost")
            row.lease_owner = row.lease_until = None
            row.error_code, row.error_message = info.code, info.message
            if retry and row.attempts < max_attempts:
                row.state = StepState.PENDING
                row.not_before = utcnow() + timedelta(seconds=backoff_seconds(row.attempts))
                log.warning("step %s (%s) will retry: %s %s", step.id, step.kind, info.code, info.detail)
                return RunResult(step.id, StepState.PENDING, info.code)
            if retry:
                exhausted = StepAbandoned(info.detail or info.code)
                info = ErrorInfo(info.code, exhausted.message_vi, exhausted.message_en, info.detail)
            row.state, row.finished_at = StepState.FAILED, utcnow()
            mark_target_failed(s, row, info)
        log.warning("step %s (%s) failed: %s %s", step.id, step.kind, info.code, info.detail)
        return RunResult(step.id, StepState.FAILED, info.code)


def mark_target_failed(s, row: JobStep, info: ErrorInfo) -> None:  # type: ignore[no-untyped-def]
    target = s.get(Component, row.component_id) if row.component_id else s.get(EResult, row.eresult_id)
    if target is not None:
        target.state = ComponentState.FAILED
        target.error_code, target.error_message = info.code, info.message
