"""Claim, run and settle job steps against the catalogue.

The catalogue is the source of truth: a step is claimed by an atomic conditional
UPDATE that takes a lease (``workers.leases``, shared with maintenance); a step whose
lease expired (its worker died) can be claimed again. Results are committed only while
the lease is still held, so a step that ran twice leaves a single outcome. Transient
faults go back to ``pending`` with exponential backoff and jitter; permanent ones are recorded with their code at once.
A full disk (``ENOSPC``, SQLITE_FULL, also under a coded error raised from it) is
neither: the step waits ``storage.full_retry_after_s`` and does not spend an attempt.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from dossiers.errors import StepAbandoned
from dossiers.services import Services
from dossiers.steps import STEPS, StepOutcome, page_bound, step_time_limit
from sohoa.diskspace import is_disk_full, storage_full
from sohoa.errors import ErrorInfo, SohoaError
from sohoa.logging_setup import log_context
from storage.catalogue.models import Component, ComponentState, EResult, JobStep, StepState, utcnow
from workers import leases
from workers.job_metrics import STEP_FAILURES, STEP_SECONDS
from workers.leases import worker_identity
from workers.periodic import Periodic

log = logging.getLogger(__name__)


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 60.0) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class RunResult:
    step_id: int
    state: str
    error_code: str | None = None


class StepRunner:
    def __init__(self, services: Services, owner: str | None = None, *, sweep: AbandonedSweep | None = None):
        self.services = services
        self.owner = owner or worker_identity()
        self.lease = timedelta(seconds=services.settings.workers.lease_seconds)
        self._sweep = sweep or AbandonedSweep(services)

    def _claimable(self) -> ColumnElement[bool]:
        now = utcnow()
        return or_(
            and_(JobStep.state == StepState.PENDING, or_(JobStep.not_before.is_(None), JobStep.not_before <= now)),
            lost_lease(now, self.services.settings.workers.max_attempts),
        )

    def claim(self, step_id: int) -> bool:
        """Take the lease on one step; False when it is done, failed or leased by a live worker."""
        with self.services.catalogue.session() as s:
            taken = leases.take(
                s,
                self.owner,
                self.lease,
                JobStep.id == step_id,
                self._claimable(),
                state=StepState.RUNNING,
                attempts=JobStep.attempts + 1,
            )
            return len(taken) == 1

    def claim_next(self, queues: tuple[str, ...]) -> int | None:
        """Claim the oldest runnable step of the given queues, or return None.

        Once a lease period, steps whose workers died on every attempt are failed first.
        """
        self._sweep()
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
            dossier, pages = _target_of(s, step, self.services.settings.ocr.max_pages_per_component)
            s.expunge(step)
        limit = step_time_limit(self.services.settings.ocr.timeout_s, step.kind, pages)
        with log_context(
            dossier=dossier, step=step.id, kind=step.kind, component=step.component_id, eresult=step.eresult_id
        ):
            return self._run(step, limit)

    def _run(self, step: JobStep, limit_s: float) -> RunResult:
        spec = STEPS[step.kind]
        log.info("step attempt %s started", step.attempts)
        started = time.monotonic()
        heartbeat = _Heartbeat(self, step.id, limit_s)
        heartbeat.start()
        try:
            outcome = spec.handler(self.services, step)
        except Exception as exc:
            if is_disk_full(exc):
                result = self._settle_no_space(step, exc)
            elif isinstance(exc, SohoaError):
                result = self._settle_error(step, exc, retry=exc.retryable)
            else:
                log.exception("step crashed")
                result = self._settle_error(step, exc, retry=True)
        else:
            result = self._settle_success(step, outcome)
        finally:
            heartbeat.stop()
        STEP_SECONDS.labels(step.kind, str(result.state)).observe(time.monotonic() - started)
        if result.error_code:
            STEP_FAILURES.labels(step.kind, result.error_code, str(result.state == StepState.FAILED).lower()).inc()
        return result

    def extend_lease(self, step_id: int) -> bool:
        """Keep the lease of a step that is still being worked on; False once it was lost."""
        with self.services.catalogue.session() as s:
            return leases.renew(s, self.owner, step_id, self.lease, JobStep.state == StepState.RUNNING)

    def _owned(self, s: Session, step_id: int) -> JobStep | None:
        row = leases.locked(s, self.owner, step_id, JobStep.state == StepState.RUNNING)
        if row is None:
            log.warning("step %s: lease lost, result discarded", step_id)
            return None
        return row

    def _settle_success(self, step: JobStep, outcome: StepOutcome) -> RunResult:
        now = utcnow()
        with self.services.catalogue.session() as s:
            row = self._owned(s, step.id)
            if row is None:
                return RunResult(step.id, "lost")
            row.state, row.output, row.finished_at = StepState.DONE, outcome.output, now
            leases.clear(row)
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
            leases.clear(row)
            row.error_code, row.error_message = info.code, info.message
            if retry and row.attempts < max_attempts:
                row.state = StepState.PENDING
                row.dispatched_at = None
                row.not_before = utcnow() + timedelta(seconds=backoff_seconds(row.attempts))
                log.warning("step %s (%s) will retry: %s %s", step.id, step.kind, info.code, info.detail)
                return RunResult(step.id, StepState.PENDING, info.code)
            if retry:
                exhausted = StepAbandoned(info.detail or info.code)
                info = ErrorInfo(info.code, exhausted.message_vi, exhausted.message_en, info.detail)
            _fail(s, row, info)
        log.warning("step %s (%s) failed: %s %s", step.id, step.kind, info.code, info.detail)
        return RunResult(step.id, StepState.FAILED, info.code)

    def _settle_no_space(self, step: JobStep, exc: BaseException) -> RunResult:
        """A full disk says nothing about the step's input: back to pending, after a pause for space to be
        freed, and the attempt is given back, so that a step never runs out of attempts waiting for space."""
        info = ErrorInfo.from_exception(storage_full(exc))
        wait = self.services.settings.storage.full_retry_after_s
        with self.services.catalogue.session() as s:
            row = self._owned(s, step.id)
            if row is None:
                return RunResult(step.id, "lost")
            row.state, row.dispatched_at = StepState.PENDING, None
            leases.clear(row)
            row.attempts = max(row.attempts - 1, 0)
            row.not_before = utcnow() + timedelta(seconds=wait)
            row.error_code, row.error_message = info.code, info.message
        log.warning("step %s (%s) met a full disk, runs again in %d s: %s", step.id, step.kind, wait, info.detail)
        return RunResult(step.id, StepState.PENDING, info.code)


class _Heartbeat:
    """Renews a step's lease while its handler runs, so only a dead worker's lease expires.

    Not past the step's time limit: a handler hung there (Python cannot stop a thread) lets
    its lease expire, and the step is run again elsewhere or, out of attempts, failed.
    """

    def __init__(self, runner: StepRunner, step_id: int, limit_s: float):
        self.runner, self.step_id, self.limit_s = runner, step_id, limit_s
        self.started = time.monotonic()
        self.interval = max(runner.lease.total_seconds() / 3, 0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease-{step_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if time.monotonic() - self.started > self.limit_s:
                log.error("step %s ran past its %.0f s limit; its lease is left to expire", self.step_id, self.limit_s)
                return
            try:
                if not self.runner.extend_lease(self.step_id):
                    log.warning("lease of step %s was lost while running", self.step_id)
                    return
            except Exception:
                log.exception("renewing the lease of step %s failed", self.step_id)


def _target_of(s: Session, step: JobStep, max_pages: int) -> tuple[str | None, int]:
    """The step's dossier code, and the most pages it may hold when that sets its time limit (digitize)."""
    if step.component_id is not None:
        comp = s.get(Component, step.component_id)
        if comp is None:
            return None, 1
        return comp.dossier.code, page_bound(comp, max_pages) if step.kind == "digitize" else 1
    result = s.get(EResult, step.eresult_id)
    return (result.dossier.code if result else None), 1


def _expired_lease(now: datetime) -> ColumnElement[bool]:
    return and_(JobStep.state == StepState.RUNNING, leases.expired(now))


def lost_lease(now: datetime, max_attempts: int) -> ColumnElement[bool]:
    """A running step whose worker stopped renewing its lease, with attempts left to run it again."""
    return and_(_expired_lease(now), JobStep.attempts < max_attempts)


def fail_abandoned(services: Services) -> int:
    """Fail the steps whose lease expired on their last attempt: their worker died every time.

    A scan that gets its worker killed (out of memory, a hard time limit) would otherwise be
    claimed again forever, its component never settled. Returns how many were failed.
    """
    abandoned = and_(_expired_lease(utcnow()), JobStep.attempts >= services.settings.workers.max_attempts)
    with services.catalogue.session() as s:
        rows = s.scalars(select(JobStep).where(abandoned).with_for_update()).all()
        for row in rows:
            detail = f"the worker was lost on each of {row.attempts} attempts"
            info = ErrorInfo.from_exception(StepAbandoned(detail))
            row.error_code, row.error_message = info.code, info.message
            _fail(s, row, info)
            log.warning("step %s (%s) failed: %s", row.id, row.kind, detail)
    return len(rows)


class AbandonedSweep:
    """``fail_abandoned`` at most once a lease period: it is a write transaction, and no lease expires sooner.

    One per process loop: the threads of an embedded pool share theirs.
    """

    def __init__(self, services: Services):
        self.services = services
        self._due = Periodic(timedelta(seconds=services.settings.workers.lease_seconds))

    def __call__(self) -> None:
        if self._due():
            fail_abandoned(self.services)


def _fail(s: Session, row: JobStep, info: ErrorInfo) -> None:
    """Settle a step as failed for good, and its component or e-result with it."""
    row.state, row.finished_at = StepState.FAILED, utcnow()
    leases.clear(row)
    mark_target_failed(s, row, info)


def mark_target_failed(s: Session, row: JobStep, info: ErrorInfo) -> None:
    target = s.get(Component, row.component_id) if row.component_id else s.get(EResult, row.eresult_id)
    if target is not None:
        target.state = ComponentState.FAILED
        target.error_code, target.error_message = info.code, info.message
