"""Housekeeping the service runs on a timer, so that nothing depends on an operator's cron.

* Raw scans (and batch archives) past ``storage.raw_expiry_days`` are deleted from the local
  store; an S3 server applies the bucket's own lifecycle rule instead.
* Warehouse uploads a crash interrupted (pending rows) are completed or dropped, once they
  have been pending for ``PENDING_GRACE``: a younger one may be an upload in flight.
* The audit log's head is anchored (time-stamped, RFC 3161, the token kept in the locked results
  bucket) once a day, when it moved since the last anchor (``dossiers.audit_anchors``).
* Result notices (``dossiers.notices``) are delivered from the outbox every ``notices.poll_interval_s``
  on a thread of their own, and contact details past ``notices.contact_retention_days`` are purged.
* B-LTA e-results are re-time-stamped (``signing.signers.ltv.retimestamp_job``) before the certificate
  of their newest time-stamp expires, ``signing.retimestamp_margin_days`` ahead; at most once
  per ``RETIMESTAMP_PERIOD`` per process (see ``retimestamp_results``).

All are idempotent, so several API processes running them is harmless.

Re-time-stamping and the results bucket. A stored e-result is locked (COMPLIANCE retention,
WORM) and content-addressed: its key is its hash, so an extension cannot be written over it,
and writing a second version under the same key would not serve it either (reads ask for the
version with the catalogued hash, and scrub would restore that one). The extension is stored
as a new object under its own content key (locked in turn), and then, in one transaction, the
e-result row is pointed at it (only if it still names the original: a compare-and-set), the
original keeps a ``stored_objects`` row (so scrub goes on checking it, locked as issued) and an
``eresult_versions`` row (the portal's check still finds a copy issued before), and an audit
entry names both versions. Reads of the original are audited by the warehouse.

The schedule is kept in the catalogue, one ``job_steps`` row of kind ``retimestamp`` per B-LTA
e-result (the unique index ``uq_step_eresult`` allows no second): ``not_before`` holds the
expiry of the certificate of its newest time-stamp (NULL: not read yet), ``input_sha256`` the
version that was read. A row is due when that expiry is within the margin (or unknown, or its
last attempt failed). Rows are claimed by a conditional UPDATE taking a lease, through the
same ``workers.leases`` as pipeline steps, so two processes never work on the same result.
These rows are never ``pending`` nor ``running`` and their queue is served by no worker: the
dispatcher and runners, which claim only those states, leave them alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dossiers.audit_anchors import anchor_for
from dossiers.notices import deliver_due, enabled_channels, purge_contacts
from dossiers.results import record_replaced_version
from dossiers.services import Services
from sohoa.errors import ErrorInfo
from storage.accounts.sessions import purge_ended
from storage.catalogue.db import rows_changed
from storage.catalogue.models import ComponentState, EResult, JobStep, StepState, utcnow
from storage.objectstore import Bucket, StoredObject
from storage.warehouse import audit
from storage.warehouse.lifecycle import sweep_expired
from workers import leases
from workers.errors import RetimestampConflict
from workers.leases import worker_identity
from workers.periodic import Periodic

log = logging.getLogger(__name__)


PENDING_GRACE = timedelta(minutes=15)
ENDED_SESSIONS_KEPT = timedelta(days=1)  # officers' expired or revoked sessions, then deleted

RETIMESTAMP_KIND = "retimestamp"
RETIMESTAMP_QUEUE = "maintenance"  # served by no worker: these rows are maintenance's schedule
RETIMESTAMP_LEVEL = "B-LTA"
RETIMESTAMP_PERIOD = timedelta(days=1)
# A batch's claim: long enough for RETIMESTAMP_BATCH extensions against a slow TSA and OCSP responders,
# short enough that the results of a process that died are taken up by the next day's run.
RETIMESTAMP_LEASE = timedelta(hours=1)
RETIMESTAMP_BATCH = 20
SCHEDULE_PAGE = 500
ACTOR = "system:maintenance"
PURPOSE = "gia hạn hiệu lực chữ ký số dài hạn (B-LTA)"


def run_once(
    services: Services,
    *,
    pending_grace: timedelta = PENDING_GRACE,
    retimestamp: bool = True,
    anchor: bool = False,
) -> dict[str, Any]:
    """One round of housekeeping; returns what it did.

    ``anchor``: whether this round anchors the audit log's head (``dossiers.audit_anchors.anchor_head``:
    nothing when today's anchor exists or the head has not moved); ``Maintenance`` asks every round,
    so the head is anchored once a day.
    ``retimestamp``: whether this round runs the re-time-stamping sweep (``Maintenance`` asks
    for it once per ``RETIMESTAMP_PERIOD``); its counts appear, prefixed ``retimestamp_``, only
    when it found something to do.
    """
    done: dict[str, Any] = {}
    if services.settings.storage.backend == "local":
        done["expired_raw"] = len(sweep_expired(services.warehouse))
    pending = services.warehouse.finalise_pending(older_than=pending_grace)
    done |= {"finalised": len(pending["finalised"]), "dropped": len(pending["dropped"])}
    if ended := purge_ended(services.catalogue, older_than=ENDED_SESSIONS_KEPT):  # officers' sessions
        done["ended_sessions"] = ended
    if anchor:
        try:
            anchored = anchor_for(services)
        except Exception as exc:  # the other housekeeping must not depend on the TSA
            log.exception("anchoring the audit log failed; tried again at the next run")
            done["audit_anchor_error"] = ErrorInfo.from_exception(exc).code
        else:
            if anchored.anchored:
                done["audit_anchor_seq"] = anchored.seq
    try:  # citizens' contact details
        done |= {name: n for name, n in purge_contacts(services).items() if n}
    except Exception as exc:  # the other housekeeping must not depend on it
        log.exception("purging notice contact details failed; tried again at the next run")
        done["contacts_purge_error"] = ErrorInfo.from_exception(exc).code
    if retimestamp:
        try:
            counts = retimestamp_results(services)
        except Exception as exc:  # the other housekeeping must not depend on it
            log.exception("re-time-stamping sweep failed; tried again at the next run")
            done["retimestamp_error"] = ErrorInfo.from_exception(exc).code
        else:
            if any(counts.values()):
                done |= {f"retimestamp_{name}": n for name, n in counts.items()}
    return done


# -- re-time-stamping ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    step_id: int
    eresult_id: int
    code: str
    object_key: str
    sha256: str
    size: int
    object_version: str | None
    known_expiry: datetime | None  # the recorded expiry, when it is of this very version


def _insert_ignoring_duplicates(s: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: a row another process inserted first is left as it is."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    s.execute(insert(model).values(rows).on_conflict_do_nothing())


def schedule_new_results(services: Services) -> int:
    """Give every signed B-LTA e-result without one its schedule row (to be read at the next sweep).

    Page by page (``SCHEDULE_PAGE`` ids at a time), never the whole table in memory; a row
    inserted meanwhile by another process is kept (the unique index refuses the second).
    """
    added, after = 0, 0
    unscheduled = (
        select(EResult.id)
        .outerjoin(JobStep, and_(JobStep.eresult_id == EResult.id, JobStep.kind == RETIMESTAMP_KIND))
        .where(
            EResult.level == RETIMESTAMP_LEVEL,
            EResult.state == ComponentState.DONE,
            EResult.object_key.is_not(None),
            JobStep.id.is_(None),
        )
        .order_by(EResult.id)
        .limit(SCHEDULE_PAGE)
    )
    while True:
        with services.catalogue.reading() as s:
            ids = s.scalars(unscheduled.where(EResult.id > after)).all()
        if not ids:
            return added
        now = utcnow()
        rows = [
            {
                "kind": RETIMESTAMP_KIND,
                "queue": RETIMESTAMP_QUEUE,
                "eresult_id": rid,
                "state": StepState.DONE.value,
                "attempts": 0,
                "output": {},
                "created_at": now,
                "updated_at": now,
            }
            for rid in ids
        ]
        with services.catalogue.session() as s:
            _insert_ignoring_duplicates(s, JobStep, rows)
        added += len(ids)
        after = ids[-1]


def _due(now: datetime, margin: timedelta) -> ColumnElement[bool]:
    """Rows to look at: never read, expiring within the margin, or whose last attempt failed; and not leased."""
    lease_now = utcnow()  # leases follow the wall clock, whatever date the sweep judges expiries at
    return and_(
        JobStep.kind == RETIMESTAMP_KIND,
        JobStep.queue == RETIMESTAMP_QUEUE,
        JobStep.state.in_([StepState.DONE, StepState.FAILED]),
        or_(JobStep.not_before.is_(None), JobStep.not_before <= now + margin, JobStep.state == StepState.FAILED),
        leases.free(lease_now),
    )


def _claim(services: Services, owner: str, after: int, now: datetime, margin: timedelta) -> tuple[list[_Claimed], int]:
    """Lease the next due rows after id ``after`` (a conditional UPDATE: a row leased by another process is
    skipped); returns them with their e-results, and the last id looked at."""
    with services.catalogue.session() as s:
        ids = s.scalars(
            select(JobStep.id)
            .where(_due(now, margin), JobStep.id > after)
            .order_by(JobStep.id)
            .limit(RETIMESTAMP_BATCH)
        ).all()
        if not ids:
            return [], after
        taken = leases.take(s, owner, RETIMESTAMP_LEASE, JobStep.id.in_(ids), _due(now, margin))
    if not taken:
        return [], ids[-1]
    # Read after the claim: while the lease is held, nobody else repoints these e-results.
    with services.catalogue.reading() as s:
        rows = s.execute(
            select(
                JobStep.id,
                JobStep.not_before,
                JobStep.input_sha256,
                EResult.id,
                EResult.code,
                EResult.object_key,
                EResult.sha256,
                EResult.size,
                EResult.object_version,
                EResult.state,
            )
            .join(EResult, EResult.id == JobStep.eresult_id)
            .where(JobStep.id.in_(taken))
            .order_by(JobStep.id)
        ).all()
    claimed, gone = [], []
    for step_id, not_before, input_sha, rid, code, key, sha, size, version, state in rows:
        if state != ComponentState.DONE or not key or not sha:
            gone.append(step_id)
            continue
        known = not_before if input_sha == sha else None
        claimed.append(_Claimed(step_id, rid, code, key, sha, size or 0, version, known))
    if gone:
        _release(services, owner, gone)
    return claimed, ids[-1]


def _release(services: Services, owner: str, step_ids: list[int]) -> None:
    with services.catalogue.session() as s:
        leases.release(s, owner, step_ids)


def _follow(step: JobStep, expiry: datetime | None, sha256: str) -> None:
    """The schedule follows the version read: due again when its newest time-stamp's certificate nears its end."""
    step.not_before, step.input_sha256 = expiry, sha256
    step.output = {"timestamp_expiry": expiry.isoformat() if expiry else None}


def _done(step: JobStep) -> None:
    step.state, step.error_code, step.error_message, step.attempts = StepState.DONE, None, None, 0
    step.finished_at = utcnow()
    leases.clear(step)


def _audit(s: Session, row: _Claimed, outcome: str, detail: dict[str, Any]) -> None:
    audit.append(
        s,
        actor=ACTOR,
        action="retimestamp",
        subject=f"result:{row.code}",
        purpose=PURPOSE,
        outcome=outcome,
        detail=detail,
    )


def _save(services: Services, owner: str, row: _Claimed, extended: bytes, was: datetime, expiry: datetime) -> None:
    """Store the extension as a new locked object, then point the e-result at it (audited, one transaction).

    The original keeps its row in ``stored_objects`` (scrub keeps checking it) and becomes a
    version of the e-result once the e-result names its extension.
    """
    with services.catalogue.reading() as s:  # a lost lease is found before a locked object is written for nothing
        if s.scalar(select(JobStep.id).where(leases.held(owner, row.step_id))) is None:
            raise RetimestampConflict("the claim on the e-result was lost")
    obj = services.warehouse.put_bytes(Bucket.RESULTS, extended, suffix=".pdf", content_type="application/pdf")
    original = StoredObject(Bucket.RESULTS, row.object_key, row.sha256, row.size, row.object_version)
    with services.catalogue.session(durable=True) as s:
        moved = rows_changed(
            s.execute(
                update(EResult)
                .where(EResult.id == row.eresult_id, EResult.object_key == row.object_key, EResult.sha256 == row.sha256)
                .values(object_key=obj.key, sha256=obj.sha256, size=obj.size, object_version=obj.version_id)
                .execution_options(synchronize_session=False)
            )
        )
        step = leases.locked(s, owner, row.step_id)
        if moved != 1 or step is None:  # raising rolls the transaction back
            log.warning(
                "re-time-stamping %s: the e-result changed or the claim was lost; the extension %s stays unused",
                row.code,
                obj.key,
            )
            raise RetimestampConflict(row.code)
        _follow(step, expiry, obj.sha256)
        _done(step)
        record_replaced_version(s, row.eresult_id, original)
        _audit(
            s,
            row,
            "ok",
            {
                "from": f"{Bucket.RESULTS.value}/{row.object_key}",
                "from_sha256": row.sha256,
                "to": f"{Bucket.RESULTS.value}/{obj.key}",
                "to_sha256": obj.sha256,
                "timestamp_expiry_before": was.isoformat(),
                "timestamp_expiry": expiry.isoformat(),
            },
        )
    log.info("e-result %s re-time-stamped: now %s (the original %s stays locked)", row.code, obj.key, row.object_key)


def _settle(services: Services, owner: str, row: _Claimed, summary: Any) -> None:
    """Record a row's outcome other than an extension (``_save`` settles those) and give its lease back."""
    from signing.errors import RetimestampBlocked

    key = row.step_id
    if key in summary.extended:
        return
    failed = key in summary.errors
    with services.catalogue.session(durable=failed) as s:
        step = leases.locked(s, owner, key)
        if step is None:
            log.warning("re-time-stamping %s: the claim was lost before its outcome was recorded", row.code)
            return
        if key in summary.expiry:  # this version was read: the schedule follows it
            _follow(step, summary.expiry[key], row.sha256)
        if failed or key in summary.blocked:
            info = summary.errors.get(key) or ErrorInfo.from_exception(RetimestampBlocked())
            step.state, step.error_code = StepState.FAILED, info.code
            step.error_message = info.message_en + (f" ({info.detail})" if info.detail else "")
            step.attempts += 1
            leases.clear(step)
        else:
            _done(step)
        if failed:
            info = summary.errors[key]
            _audit(s, row, "error", {"error": info.code, "detail": (info.detail or "")[:300]})


def _run_batch(
    services: Services, owner: str, claimed: list[_Claimed], *, probe: Any, margin: timedelta, now: datetime
) -> Any:
    """``retimestamp_job`` over one claimed batch, each outcome recorded and its lease given back."""
    from signing.errors import NotTimestamped
    from signing.signers import retimestamp_job

    rows = {row.step_id: row for row in claimed}

    def load(step_id: int) -> bytes:
        row = rows[step_id]
        return services.warehouse.get_bytes(
            Bucket.RESULTS,
            row.object_key,
            actor=ACTOR,
            purpose=PURPOSE,
            sha256=row.sha256,
            version_id=row.object_version,
        )

    def save(step_id: int, extended: bytes, was: datetime, expiry: datetime) -> None:
        _save(services, owner, rows[step_id], extended, was, expiry)

    try:
        summary = retimestamp_job(
            rows,
            load,
            save,
            probe.timestamper,
            margin=margin,
            revocation=services.revocation,
            now=now,
            probe=probe,
            known={k: r.known_expiry for k, r in rows.items() if r.known_expiry is not None},
        )
    except BaseException:
        _release(services, owner, list(rows))
        raise
    for key, expiry in summary.expiry.items():
        if expiry is None and key not in summary.errors:  # signed B-LTA, yet no time-stamp: for an operator to see
            summary.errors[key] = ErrorInfo.from_exception(NotTimestamped(rows[key].object_key))
    for row in claimed:
        if (info := summary.errors.get(row.step_id)) is not None:
            log.error("re-time-stamping e-result %s failed (%s); retried at the next run", row.code, info.code)
        try:
            _settle(services, owner, row, summary)
        except Exception:
            log.exception("re-time-stamping: recording the outcome for %s failed", row.code)
    return summary


def retimestamp_results(services: Services) -> dict[str, int]:
    """Extend the B-LTA e-results whose newest time-stamp's certificate expires within the margin.

    Rows are claimed ``RETIMESTAMP_BATCH`` at a time (keyset order, so each is looked at once
    per sweep) and documents read one at a time. A failure (TSA or OCSP responder down, a
    document that cannot be read) leaves the e-result as it was, is logged, audited and kept on
    its row, and the row is due again at the next sweep. Once the TSA is found down, the sweep
    stops: the rest waits for the next one.
    """
    from signing.signers import TsaProbe

    when = datetime.now(UTC)
    margin = timedelta(days=services.settings.signing.retimestamp_margin_days)
    owner = f"maintenance:{worker_identity()}"
    counts = {"scheduled": schedule_new_results(services), "checked": 0, "extended": 0, "failed": 0, "blocked": 0}
    probe: TsaProbe | None = None  # the TSA is set up (and asked) only once something is due
    after = 0
    while True:
        claimed, last = _claim(services, owner, after, when, margin)
        if last == after:
            break  # nothing more is due
        after = last
        if not claimed:
            continue  # this page's rows were all taken by another process
        if probe is None:
            try:
                probe = TsaProbe(services.timestamper)
            except BaseException:  # no TSA configured that can be built: the claims go back at once
                _release(services, owner, [row.step_id for row in claimed])
                raise
        summary = _run_batch(services, owner, claimed, probe=probe, margin=margin, now=when)
        counts["checked"] += summary.checked
        counts["extended"] += len(summary.extended)
        counts["failed"] += len(summary.errors)
        counts["blocked"] += len(summary.blocked)
        if probe.error is not None:  # the TSA is down: the rest waits for the next sweep
            info = ErrorInfo.from_exception(probe.error)
            log.error(
                "re-time-stamping stopped: the time-stamping service is unavailable (%s %s); "
                "the due e-results are left as they are and tried again at the next run",
                info.code,
                info.detail,
            )
            break
    if counts["blocked"]:
        log.error(
            "re-time-stamping: %d e-results are due but the time-stamping service's certificate (expires %s) "
            "does not outlive their newest time-stamp; renew the TSA certificate",
            counts["blocked"],
            _probe_expiry(probe),
        )
    return counts


def _probe_expiry(probe: Any) -> str:
    try:
        return str(probe.expiry().isoformat())
    except Exception:
        return "unknown"


def retrain_classifier(services: Services) -> dict[str, Any]:
    """Retrain the document-type model from officers' corrections, when any is new (``dossiers.retrain``)."""
    from dossiers.retrain import retrain_from_corrections

    report = retrain_from_corrections(
        services, min_corrections=services.settings.workers.retrain_min_corrections, actor=ACTOR, only_if_new=True
    )
    if report.status != "skipped":
        log.info(
            "classifier retrain %s: macro-F1 %.4f -> %.4f on %d held-out texts (%d corrected texts trained on)",
            report.status,
            report.before["macro_f1"],
            report.after["macro_f1"],
            report.before["texts"],
            report.trained,
        )
    return report.as_dict()


class Maintenance:
    """Runs ``run_once`` now and then every ``workers.maintenance_interval_s`` on a daemon thread.

    Re-time-stamping runs in the first round and then once per ``RETIMESTAMP_PERIOD``; retraining the
    classifier from corrections once per ``workers.retrain_interval_s`` (skipped when none is new).
    """

    def __init__(self, services: Services):
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._notices: threading.Thread | None = None
        self._retimestamp = Periodic(RETIMESTAMP_PERIOD)
        self._retrain = Periodic(timedelta(seconds=services.settings.workers.retrain_interval_s))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sohoa-maintenance", daemon=True)
        self._thread.start()
        self._notices = threading.Thread(target=self._notice_loop, name="sohoa-notices", daemon=True)
        self._notices.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for thread in (self._thread, self._notices):
            if thread is not None:
                thread.join(timeout)

    def _notice_loop(self) -> None:
        """Deliver due result notices every ``notices.poll_interval_s`` (``dossiers.notices``)."""
        interval = self.services.settings.notices.poll_interval_s
        if not enabled_channels(self.services.settings.notices):
            return
        while not self._stop.is_set():
            try:
                sent = deliver_due(self.services)
                if any(sent.values()):
                    log.info("notices: %s", sent)
            except Exception:
                log.exception("notice delivery round failed; trying again in %.0f s", interval)
            self._stop.wait(interval)

    def _loop(self) -> None:
        interval = self.services.settings.workers.maintenance_interval_s
        while not self._stop.is_set():
            try:
                done = run_once(self.services, retimestamp=self._retimestamp(), anchor=True)
                if any(done.values()):
                    log.info("maintenance: %s", done)
            except Exception:
                log.exception("maintenance round failed; trying again in %.0f s", interval)
            if self._retrain():
                try:
                    retrain_classifier(self.services)
                except Exception:
                    log.exception("classifier retrain failed; tried again at the next period")
            self._stop.wait(interval)
