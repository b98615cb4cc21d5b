"""Completing a dossier: a failed component's scans sent again, or a stored document attached instead.

A ``partial`` dossier's failed component tells the station to add its file and send the
component again; a batch pushed again is the same dossier code with other content (409). So
one component is sent on its own (``resend_component``): read under the bounds and checks of
batch intake (``read_batch`` with the manifest the service writes itself), charged to the
station's day, its scans stored through the warehouse, and then, in one transaction, the
component goes back to ``pending`` (only from ``failed``: a conditional update, so two sends
at once start one run), its scan rows and steps are replaced and a fresh ``digitize`` step is
queued: digitize, sign and store run again once, and the dossier is ``processing`` until they
end. An Idempotency-Key (per station), or the same scans sent again while the first send is
still running or done, is answered with the first send's receipt.

A document the warehouse holds can stand in for a component instead of a new scan
(``attach_stored_document``), as the intake receipt's reuse lists (``dossiers.reuse``): it must be
the applicant's (owner, or named as a party), signed and stored, still valid, and of the
component's declared type. The component is then done by reference: ``component_reuses`` keeps
which document, who attached it and when, and the access is in the audit log, in the same
transaction. Refusals are audited too.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from dossiers import budgets
from dossiers.batch_reader import BatchFile, ParsedBatch, extract_members, parse_manifest, read_batch
from dossiers.budgets import BatchCost
from dossiers.errors import (
    ComponentAlreadyDone,
    ComponentBusy,
    ComponentScansMissing,
    ResendKeyReused,
    ReuseDocumentExpired,
    ReuseDocumentUnavailable,
    ReuseTypeMismatch,
)
from dossiers.reuse import still_valid
from dossiers.services import Services
from dossiers.steps import RAW_TYPE, STEPS
from dossiers.workspace import effective_centre_id
from sohoa.errors import NotFound, SohoaError
from storage.catalogue.completion_models import ComponentResend, ComponentReuse
from storage.catalogue.models import (
    Component,
    ComponentState,
    Document,
    DocumentParty,
    Dossier,
    JobStep,
    ScanFile,
    StepState,
    utcnow,
)
from storage.catalogue.warehouse_models import AuditEntry, ObjectRecord, ObjectState
from storage.objectstore import Bucket
from storage.warehouse import audit

log = logging.getLogger(__name__)

REUSE_ACTION = "reuse_document"


# -- sending one component again ----------------------------------------------------------------


@dataclass(frozen=True)
class ComponentUpload:
    """One component's scans as a station sent them: a zip of the parts (member names as the station
    named them, checked by the batch reader like any batch's) and their names in the order sent."""

    path: Path
    names: list[str]
    data: bytes | None = None  # the zip's bytes, when the upload was small enough to keep in memory


@dataclass(frozen=True)
class ResendReceipt:
    dossier_code: str
    ref: str
    component_id: int
    created: bool  # False: a repeat, answered with the first send's receipt
    pages: int
    state: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "dossier_code": self.dossier_code,
            "ref": self.ref,
            "component_id": self.component_id,
            "created": self.created,
            "pages": self.pages,
            "state": self.state,
        }


@dataclass(frozen=True)
class _Target:
    dossier_code: str
    procedure_code: str
    applicant_id: str
    component_id: int
    ref: str
    name: str
    declared_type: str | None
    state: str


def _target(s: Session, dossier_code: str, ref: str, station_id: int | None) -> _Target:
    """The component to send again; NOT_FOUND for another station's dossier, as for none at all."""
    row = s.execute(
        select(Dossier, Component)
        .join(Component, Component.dossier_id == Dossier.id)
        .where(Dossier.code == dossier_code, Component.ref == ref)
    ).first()
    if row is None or (station_id is not None and row[0].station_id != station_id):
        raise NotFound(f"component {ref} of dossier {dossier_code}")
    dossier, comp = row
    return _Target(
        dossier.code,
        dossier.procedure_code,
        dossier.applicant_id,
        comp.id,
        comp.ref,
        comp.name,
        comp.declared_type,
        comp.state,
    )


def _read(services: Services, target: _Target, upload: ComponentUpload) -> ParsedBatch:
    """The upload read as a one-component batch of this dossier, under batch intake's bounds and checks."""
    if not upload.names:
        raise ComponentScansMissing()
    spec = {"id": target.ref, "name": target.name, "declared_type": target.declared_type, "files": upload.names}
    manifest = parse_manifest(
        json.dumps(
            {
                "dossier_code": target.dossier_code,
                "procedure_code": target.procedure_code,
                "applicant_id": target.applicant_id,
                "components": [spec],
            }
        ).encode()
    )
    bounds = budgets.bounds_of(services.settings.intake)
    batch = read_batch(upload.path, data=upload.data, bounds=bounds, manifest=manifest)
    error = batch.components[0].error
    if error is not None:  # a file the station named is missing, unsafe or unreadable: nothing recorded
        raise error
    return batch


def _receipt(target: _Target, resend: ComponentResend, state: str, created: bool) -> ResendReceipt:
    return ResendReceipt(target.dossier_code, target.ref, target.component_id, created, resend.pages, state)


def _repeat(s: Session, target: _Target, station_id: int | None, key: str | None, sha: str) -> ResendReceipt | None:
    """The first send's receipt if this is a repeat of it; IDEMPOTENCY_KEY_REUSED for a key that sent other scans.

    A repeat: the same Idempotency-Key of the station, or (without one) the same scans as the
    component's last send while that send is still running or done.
    """
    state = s.scalar(select(Component.state).where(Component.id == target.component_id)) or target.state
    if key is not None:
        earlier = s.scalar(
            select(ComponentResend).where(
                ComponentResend.station_id.is_(None)
                if station_id is None
                else ComponentResend.station_id == station_id,
                ComponentResend.idempotency_key == key,
            )
        )
        if earlier is None:
            return None
        if earlier.component_id != target.component_id or earlier.request_sha256 != sha:
            raise ResendKeyReused(f"key used for component {earlier.component_id}")
        return _receipt(target, earlier, state, created=False)
    last = s.scalar(
        select(ComponentResend)
        .where(ComponentResend.component_id == target.component_id)
        .order_by(ComponentResend.id.desc())
        .limit(1)
    )
    if last is not None and last.request_sha256 == sha and state != ComponentState.FAILED:
        return _receipt(target, last, state, created=False)
    return None


def _refuse_state(state: str) -> SohoaError:
    return ComponentAlreadyDone() if state == ComponentState.DONE else ComponentBusy(f"component is {state}")


def _store_scans(services: Services, batch: ParsedBatch) -> list[tuple[BatchFile, str]]:
    """Each scan as its own raw object, through the warehouse (content-addressed: a scan sent before is kept)."""
    files = batch.components[0].files
    if batch.archive is None:
        raise ValueError("a component's upload is a zip")
    keys: list[tuple[BatchFile, str]] = []
    with tempfile.TemporaryDirectory(dir=services.settings.work_dir, prefix="resend-") as tmp:
        wanted = [(f.member or "", Path(tmp) / f"{idx:04d}", f.sha256) for idx, f in enumerate(files)]
        extract_members(batch.archive, wanted)  # each checked against the hash taken while reading
        for f, (_member, path, sha) in zip(files, wanted, strict=True):
            obj = services.warehouse.move_in(Bucket.RAW, path, sha256=sha, content_type=RAW_TYPE)
            keys.append((f, obj.key))
    return keys


class _Raced(Exception):
    """The component left ``failed`` between the checks and the update: another send (or a worker) won."""


def _replace(
    s: Session,
    target: _Target,
    stored: list[tuple[BatchFile, str]],
    batch: ParsedBatch,
    station_id: int | None,
    key: str | None,
) -> ComponentResend:
    """In the caller's transaction: the component back to pending, its scans and steps replaced, the send kept."""
    now = utcnow()
    started = s.execute(
        update(Component)
        .where(Component.id == target.component_id, Component.state == ComponentState.FAILED)
        .values(state=ComponentState.PENDING, error_code=None, error_message=None, page_count=len(stored))
    )
    if started.rowcount != 1:  # type: ignore[attr-defined]  # a DML result has a rowcount
        raise _Raced()
    s.execute(delete(ScanFile).where(ScanFile.component_id == target.component_id))
    s.execute(delete(JobStep).where(JobStep.component_id == target.component_id))
    for idx, (f, obj_key) in enumerate(stored):
        s.add(
            ScanFile(
                component_id=target.component_id,
                position=idx,
                filename=f.name,
                sha256=f.sha256,
                size=f.size,
                object_key=obj_key,
                member=None,
                stored=True,
            )
        )
    digitize = STEPS["digitize"]
    s.add(
        JobStep(
            kind=digitize.kind,
            queue=digitize.queue,
            component_id=target.component_id,
            state=StepState.PENDING,
            input_sha256=batch.sha256,
            output={},
            created_at=now,
            updated_at=now,
        )
    )
    resend = ComponentResend(
        component_id=target.component_id,
        station_id=station_id,
        idempotency_key=key,
        request_sha256=batch.sha256,
        pages=len(stored),
        at=now,
    )
    s.add(resend)
    s.flush()
    return resend


def resend_component(
    services: Services,
    dossier_code: str,
    ref: str,
    upload: ComponentUpload,
    *,
    station_id: int | None,
    idempotency_key: str | None = None,
) -> ResendReceipt:
    """Send one failed component's scans again (module doc); ``station_id``: the station that pushed the
    dossier (another station's is NOT_FOUND), None for a local caller.

    Refusals: NOT_FOUND; COMPONENT_DONE or COMPONENT_BUSY (409) unless the component failed; batch
    intake's for the scans (BATCH_TOO_LARGE, BATCH_TOO_MANY_PAGES, UNSAFE_PATH, MEMBER_UNREADABLE, ...);
    STATION_DAILY_QUOTA (429); IDEMPOTENCY_KEY_REUSED (409). Nothing is recorded when refused.
    """
    limits = services.settings.intake
    with services.catalogue.reading() as s:
        target = _target(s, dossier_code, ref, station_id)
    batch = _read(services, target, upload)
    cost = budgets.check_batch(batch, limits)

    def answered() -> ResendReceipt | None:
        with services.catalogue.reading() as s:
            repeat = _repeat(s, target, station_id, idempotency_key, batch.sha256)
            state = s.scalar(select(Component.state).where(Component.id == target.component_id))
        if repeat is not None:
            return repeat
        if state != ComponentState.FAILED:
            raise _refuse_state(str(state))
        return None

    if (repeat := answered()) is not None:
        return repeat
    if station_id is not None:
        with services.catalogue.autocommit() as db:
            if not budgets.fits_today(db.connection, station_id, cost, limits, budgets.vietnam_day()):
                raise budgets.over_quota(limits)
    stored = _store_scans(services, batch)
    try:
        with services.catalogue.session(durable=True) as s:  # a receipt must outlive a power loss
            resend = _replace(s, target, stored, batch, station_id, idempotency_key)
            if station_id is not None and not _charge(s, station_id, cost, services):
                raise budgets.over_quota(limits)  # taken meanwhile by another push: nothing recorded
    except (_Raced, DbIntegrityError):
        log.info("component %s of %s was sent again concurrently; answering as that send", ref, dossier_code)
        if (repeat := answered()) is not None:
            return repeat
        raise ComponentBusy("sent again concurrently") from None
    log.info("component %s of dossier %s sent again with %d scans", ref, dossier_code, len(stored))
    return _receipt(target, resend, ComponentState.PENDING, created=True)


def _charge(s: Session, station_id: int, cost: BatchCost, services: Services) -> bool:
    return budgets.charge(s.connection(), station_id, cost, services.settings.intake, budgets.vietnam_day())


# -- attaching a stored document -----------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, error: SohoaError, reason: str):
        super().__init__(reason)
        self.error, self.reason = error, reason


def _reference_target(s: Session, dossier: Dossier, reference: str) -> int:
    """The document a receipt's reuse reference (``dossiers.reuse.reference_for``) named, from the audit entry of
    the disclosure made to this dossier's station for this dossier."""
    entries = s.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.action == "reuse-at-intake",
            AuditEntry.subject == f"owner:{dossier.applicant_id}",
            AuditEntry.actor == f"station:{dossier.station_id}",
            AuditEntry.purpose == f"tiếp nhận hồ sơ {dossier.code}",
            AuditEntry.outcome == "ok",
        )
    )
    for detail in entries:
        found = (detail or {}).get("references", {}).get(reference)
        if isinstance(found, int):
            return found
    raise _Refusal(ReuseDocumentUnavailable("unknown reference"), "unknown-reference")


def _matched_as(s: Session, doc: Document, applicant_id: str) -> str | None:
    """How the document belongs to the applicant: owner, or named in it as a party (``owned_or_named``)."""
    if doc.owner_id == applicant_id:
        return "owner"
    named = s.scalar(
        select(DocumentParty.role).where(DocumentParty.document_id == doc.id, DocumentParty.id_number == applicant_id)
    )
    return named


def _stored(s: Session, doc: Document) -> bool:
    """Signed and held by the warehouse (its object's row stored)."""
    held = exists().where(
        ObjectRecord.bucket == Bucket.DOCUMENTS.value,
        ObjectRecord.key == doc.object_key,
        ObjectRecord.state == ObjectState.STORED,
    )
    return bool(doc.signed_by and doc.sha256 and s.scalar(select(held)))


def _check_document(s: Session, comp: Component, doc: Document | None, applicant_id: str) -> str:
    """The document's relation to the applicant, if it may stand in for the component; a refusal otherwise."""
    if doc is None:
        raise _Refusal(ReuseDocumentUnavailable("no such document"), "not-found")
    matched = _matched_as(s, doc, applicant_id)
    if matched is None:
        raise _Refusal(ReuseDocumentUnavailable("not the applicant's"), "not-applicants")
    if doc.component_id == comp.id or not _stored(s, doc):
        raise _Refusal(ReuseDocumentUnavailable("not signed and stored"), "not-stored")
    if comp.declared_type and doc.doc_type != comp.declared_type:
        detail = f"{doc.doc_type}, declared {comp.declared_type}"
        raise _Refusal(ReuseTypeMismatch(detail), "type-mismatch")
    if not still_valid(doc.fields, budgets.vietnam_day()):
        raise _Refusal(ReuseDocumentExpired(), "expired")
    return matched


def _complete(s: Session, comp: Component, doc_id: int, actor: str, purpose: str) -> None:
    """The component done by reference: its unstarted steps dropped, none may be running."""
    done = s.execute(
        update(Component)
        .where(Component.id == comp.id, Component.state.in_((ComponentState.PENDING, ComponentState.FAILED)))
        .values(state=ComponentState.DONE, error_code=None, error_message=None)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a DML result has a rowcount
        raise _Refusal(ComponentBusy("component left pending/failed"), "busy")
    s.execute(delete(JobStep).where(JobStep.component_id == comp.id, JobStep.state != StepState.RUNNING))
    running = s.scalar(select(func.count()).select_from(JobStep).where(JobStep.component_id == comp.id))
    if running:
        raise _Refusal(ComponentBusy("a step of the component is running"), "busy")
    s.add(ComponentReuse(component_id=comp.id, document_id=doc_id, actor=actor[:200], purpose=purpose[:200]))


def reused_view(s: Session, component_id: int) -> dict[str, Any] | None:
    """What a status shows of a component completed by reference: the document and the dossier it came from."""
    row = s.execute(
        select(ComponentReuse.document_id, Document.dossier_code, Document.doc_type, ComponentReuse.at)
        .join(Document, Document.id == ComponentReuse.document_id)
        .where(ComponentReuse.component_id == component_id)
    ).first()
    if row is None:
        return None
    return {"document_id": row[0], "dossier_code": row[1], "doc_type": row[2], "at": row[3].isoformat()}


def attach_stored_document(
    services: Services,
    dossier_code: str,
    ref: str,
    document_id: int | None = None,
    *,
    actor: str,
    reference: str | None = None,
    purpose: str = "",
) -> dict[str, Any]:
    """Complete component ``ref`` of the dossier by a document the warehouse holds (module doc).

    The document is named by ``document_id`` or by the ``reference`` the intake receipt gave the
    dossier's station. ``actor``: who attaches it (``officer:<id>``), kept with the reuse and in the
    audit log. Returns the component's reuse (``reused_from``). Refusals (audited): NOT_FOUND (the
    dossier or component), COMPONENT_DONE / COMPONENT_BUSY (409), REUSE_DOCUMENT_UNAVAILABLE,
    REUSE_TYPE_MISMATCH, REUSE_DOCUMENT_EXPIRED (422). Attaching the same document again answers as the
    first time.
    """
    if (document_id is None) == (reference is None):
        raise ValueError("name the document by document_id or by reference, one of them")
    purpose = purpose or f"bổ sung thành phần {ref} của hồ sơ {dossier_code} từ kho dữ liệu"
    subject = f"document:{document_id}" if document_id is not None else f"reference:{reference}"
    try:
        with services.catalogue.session(durable=True) as s:
            dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
            comp = s.scalar(
                select(Component).where(Component.dossier_id == (dossier.id if dossier else -1), Component.ref == ref)
            )
            if dossier is None or comp is None:
                raise NotFound(f"component {ref} of dossier {dossier_code}")
            doc_id = document_id if document_id is not None else _reference_target(s, dossier, str(reference))
            subject = f"document:{doc_id}"
            earlier = s.scalar(select(ComponentReuse).where(ComponentReuse.component_id == comp.id))
            if earlier is not None and earlier.document_id == doc_id:
                view = reused_view(s, comp.id)
                assert view is not None
                return {"dossier_code": dossier_code, "ref": ref, "state": comp.state, "reused_from": view}
            if comp.state not in (ComponentState.PENDING, ComponentState.FAILED):
                raise _Refusal(_refuse_state(comp.state), "component-" + comp.state)
            matched = _check_document(s, comp, s.get(Document, doc_id), dossier.applicant_id)
            _complete(s, comp, doc_id, actor, purpose)
            audit.append(
                s,
                actor=actor,
                action=REUSE_ACTION,
                subject=subject,
                purpose=purpose,
                outcome="ok",
                detail={"dossier": dossier_code, "component": ref, "matched_as": matched},
                owner=dossier.applicant_id,
                centre_id=effective_centre_id(s, dossier),
            )
            view = reused_view(s, comp.id)
            assert view is not None
    except _Refusal as refusal:
        audit.record(
            services.catalogue,
            actor=actor,
            action=REUSE_ACTION,
            subject=subject,
            purpose=purpose,
            outcome="refused",
            detail={"dossier": dossier_code, "component": ref, "reason": refusal.reason},
        )
        raise refusal.error from None
    log.info("component %s of dossier %s completed by stored document %s (%s)", ref, dossier_code, doc_id, actor)
    return {"dossier_code": dossier_code, "ref": ref, "state": ComponentState.DONE.value, "reused_from": view}
