"""The pipeline's steps: what each does, which queue runs it and what follows it.

A handler loads its inputs by id, calls the pure packages (digitizer, signing,
storage) and returns a StepOutcome; it never commits anything itself. The runner
commits the outcome (output, next step, catalogue rows) atomically, and only while it
still holds the step's lease, so a step that runs twice leaves one result.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from dossiers.services import Services
from dossiers.signer_keys import centre_of_dossier, copy_signer, result_signer, waits_for_officer
from sohoa.errors import NotFound
from storage.catalogue.models import (
    Component,
    ComponentState,
    Document,
    DocumentParty,
    Dossier,
    EResult,
    JobStep,
    ScanFile,
)
from storage.objectstore import Bucket

if TYPE_CHECKING:
    from signing.keys import SigningKey
    from signing.signers import Appearance, QrPayload

log = logging.getLogger(__name__)
RAW_TYPE = "application/octet-stream"  # content type of stored raw scans


@dataclass
class StepOutcome:
    output: dict[str, Any]
    next_kind: str | None = None
    finalize: Callable[[Session, JobStep], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Services, JobStep], StepOutcome]


@dataclass(frozen=True)
class StepSpec:
    kind: str
    queue: str
    handler: Handler
    next_kind: str | None


def _previous_output(session: Session, step: JobStep, kind: str) -> dict[str, Any]:
    from sqlalchemy import select

    prev = session.scalar(
        select(JobStep).where(
            JobStep.kind == kind, JobStep.component_id == step.component_id, JobStep.eresult_id == step.eresult_id
        )
    )
    if prev is None or not prev.output:
        raise NotFound(f"output of step {kind} for step {step.id}")
    return dict(prev.output)


def unpack(services: Services, step: JobStep) -> StepOutcome:
    """Give each scan of the dossier its own raw object, extracted from the batch archive.

    The archive is fetched once per dossier: the first component's step unpacks every scan
    of the dossier still inside it, and the other components' steps find theirs stored.
    Idempotent by content: a scan whose raw object already exists (a re-run, a step of the
    same dossier running at the same time, or the same page sent before) is not written again.
    """
    from dossiers.batch_reader import extract_members

    with services.catalogue.session() as s:
        dossier = s.get_one(Component, step.component_id).dossier
        archive_key, archive_sha = dossier.archive_key, dossier.archive_sha256
        files = [(f.member, f.object_key, f.sha256) for c in dossier.components for f in c.files if not f.stored]
        component_ids = [c.id for c in dossier.components]
    todo = [f for f in files if not services.warehouse.renew(Bucket.RAW, f[1])]  # a reused old scan's age restarts
    if todo:
        if archive_key is None or archive_sha is None:
            raise NotFound(f"batch archive of component {step.component_id}")
        with tempfile.TemporaryDirectory(dir=services.settings.work_dir, prefix=f"step{step.id}-") as tmp:
            archive = Path(tmp) / "batch.zip"
            services.store.get_to_file(Bucket.RAW, archive_key, archive, sha256=archive_sha)
            wanted = [(member or "", Path(tmp) / f"{idx:04d}", sha) for idx, (member, _key, sha) in enumerate(todo)]
            extract_members(archive, wanted)  # each checked against the receipt's hash
            for _member, path, sha in wanted:
                services.warehouse.move_in(Bucket.RAW, path, sha256=sha, content_type=RAW_TYPE)

    def finalize(session: Session, _step_row: JobStep) -> None:
        session.execute(update(ScanFile).where(ScanFile.component_id.in_(component_ids)).values(stored=True))

    return StepOutcome({"scans": len(files), "unpacked": len(todo)}, next_kind="digitize", finalize=finalize)


def digitize(services: Services, step: JobStep) -> StepOutcome:
    from digitizer import digitize_files

    with services.catalogue.session() as s:
        comp = s.get_one(Component, step.component_id)
        comp.state = ComponentState.PROCESSING
        files = [(f.filename, f.object_key, f.sha256) for f in comp.files]
        declared = comp.declared_type
        centre_id = comp.dossier.centre_id
    with tempfile.TemporaryDirectory(dir=services.settings.work_dir, prefix=f"step{step.id}-") as tmp:
        paths = []
        for idx, (name, key, sha) in enumerate(files):
            path = Path(tmp) / f"{idx:04d}{Path(name).suffix.lower()[:8]}"
            services.store.get_to_file(Bucket.RAW, key, path, sha256=sha)
            paths.append(path)
        result = digitize_files(paths, services.digitize_options(declared))
    pdf = services.warehouse.put_bytes(Bucket.WORK, result.pdf, suffix=".pdf", content_type="application/pdf")
    summary = result.to_dict()
    output = {
        "pdf_key": pdf.key,
        "pdf_sha256": pdf.sha256,
        "type": summary["type"],
        "confidence": summary["confidence"],
        "needs_review": summary["needs_review"],
        "fields": summary["fields"],
        "parties": summary["parties"],
        "warnings": summary["warnings"],
        "guess": summary["guess"],
        "pages": [{k: v for k, v in p.items() if k != "text"} for p in summary["pages"]],
        "text": "\f".join(p["text"] for p in summary["pages"]),
    }
    if waits_for_officer(services, centre_id, bool(summary["needs_review"])):
        return StepOutcome(output, finalize=_await_officer)  # signed once an officer confirms it
    return StepOutcome(output, next_kind="sign")


def _await_officer(session: Session, step_row: JobStep) -> None:
    session.get_one(Component, step_row.component_id).state = ComponentState.AWAITING


def _qr_payload(
    services: Services,
    dossier: Dossier,
    document_name: str,
    issued_at: datetime,
    url: str | None = None,
    *,
    validity: str | None = None,
    scope: str | None = None,
) -> QrPayload:
    """The QR content of TT 01/2023: dossier, procedure, applicant, document, issuing system, time; a result's
    validity and scope of use."""
    from signing.signers import QrPayload

    return QrPayload(
        dossier_code=dossier.code,
        procedure_code=dossier.procedure_code,
        applicant_id=dossier.applicant_id,
        document_name=document_name,
        issuing_system=services.settings.issuing_system,
        issued_at=issued_at,
        valid_until=validity,
        verify_url=url,
        scope=scope,
    )


def _sign_into_work(
    services: Services,
    pdf: bytes,
    key: SigningKey,
    *,
    level: str,
    appearance: Appearance | None,
    reason: str,
    location: str | None,
    next_kind: str,
    signed_at: datetime,
) -> StepOutcome:
    """Sign with ``key``, keep the signed bytes in the work bucket for the store step."""
    from signing.signers import pades_level, sign_pdf

    signed = sign_pdf(
        pdf,
        key,
        level=pades_level(level),
        timestamper=services.timestamper,
        appearance=appearance,
        reason=reason,
        location=location,
        revocation=services.revocation,
    )
    obj = services.warehouse.put_bytes(Bucket.WORK, signed, suffix=".pdf", content_type="application/pdf")
    output = {
        "signed_key": obj.key,
        "sha256": obj.sha256,
        "size": obj.size,
        "signed_by": key.subject_name,
        "signed_at": signed_at.isoformat(),
        "level": level,
    }
    return StepOutcome(output, next_kind=next_kind)


def sign(services: Services, step: JobStep) -> StepOutcome:
    from signing.signers import copy_stamp, mark_copy

    with services.catalogue.session() as s:
        prev = _previous_output(s, step, "digitize")
        comp = s.get_one(Component, step.component_id)
        dossier = comp.dossier
        confirmed_by, own_centre, receiving_centre = comp.confirmed_by, dossier.centre_id, dossier.receiving_centre
        qr = _qr_payload(
            services,
            dossier,
            comp.name or prev["type"],
            datetime.now().astimezone(),
            f"{services.settings.api.base_url}/kiem-tra",
        )
    # The officer who confirmed the copy signs it with their own key; else the centre's service signer.
    signer = copy_signer(services, confirmed_by, centre_of_dossier(services, own_centre))
    agency = receiving_centre or signer.agency_name or None
    pdf = services.store.get_bytes(Bucket.WORK, prev["pdf_key"], sha256=prev["pdf_sha256"])
    signed_at = qr.issued_at
    # Page 1's content is scaled down (the page keeps its size) to free a band for the QR code and stamp.
    prepared, stamp = mark_copy(pdf, copy_stamp(signer.stamp_name, signed_at, agency=agency), qr)
    return _sign_into_work(
        services,
        prepared,
        signer.key,
        level="B-T",
        appearance=stamp,
        reason="Số hóa bản sao điện tử từ bản giấy",
        location=agency,
        next_kind="store",
        signed_at=signed_at,
    )


def party_rows(parties: list[dict[str, Any]], owner_id: str) -> list[DocumentParty]:
    """The index rows of a document's other parties: one per số định danh that decodes, other than the
    owner's (found as owner already), whose printed birth year, if any, agrees with it (a number read
    wrong would file the document under somebody else). The birth date is kept only when its year
    agrees too; the name is not kept (it is in the document)."""
    from digitizer.citizen_id import parse_citizen_id

    rows: dict[str, DocumentParty] = {}
    for party in parties:
        number = (party.get("so_dinh_danh") or {}).get("value")
        parsed = parse_citizen_id(number) if isinstance(number, str) else None
        if parsed is None or parsed.number == owner_id or parsed.number in rows:
            continue
        if "ID_BIRTH_YEAR_MISMATCH" in party.get("warnings", ()):
            continue
        born: date | None = None
        raw = (party.get("date_of_birth") or {}).get("value")
        try:
            born = date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            born = None
        if born is not None and born.year != parsed.birth_year:
            continue
        role = str(party.get("role") or "person")[:32]
        rows[parsed.number] = DocumentParty(id_number=parsed.number, role=role, birth_date=born)
    return list(rows.values())


def store(services: Services, step: JobStep) -> StepOutcome:
    with services.catalogue.session() as s:
        digitized_as_read = _previous_output(s, step, "digitize")
        signed = _previous_output(s, step, "sign")
    data = services.store.get_bytes(Bucket.WORK, signed["signed_key"], sha256=signed["sha256"])
    obj = services.warehouse.put_bytes(Bucket.DOCUMENTS, data, suffix=".pdf", content_type="application/pdf")

    def finalize(session: Session, step_row: JobStep) -> None:
        from dossiers.corrections import for_store

        comp = session.get_one(Component, step_row.component_id)
        if comp.document is None:
            owner = comp.dossier.applicant_id
            digitized = for_store(session, comp, digitized_as_read)  # officers' corrections laid over
            session.add(
                Document(
                    component_id=comp.id,
                    owner_id=owner,
                    doc_type=digitized["type"],
                    type_confidence=digitized["confidence"],
                    needs_review=digitized["needs_review"],
                    fields=digitized["fields"],
                    text=digitized["text"],
                    page_count=len(digitized["pages"]),
                    sha256=obj.sha256,
                    size=obj.size,
                    object_key=obj.key,
                    object_version=obj.version_id,
                    signed_by=signed["signed_by"],
                    signed_at=datetime.fromisoformat(signed["signed_at"]),
                    signature_level=signed["level"],
                    parties=party_rows(digitized.get("parties", []), owner),
                )
            )
        comp.state = ComponentState.DONE

    return StepOutcome({"document_key": obj.key, "sha256": obj.sha256}, finalize=finalize)


def sign_result(services: Services, step: JobStep) -> StepOutcome:
    from signing.signers import mark_result, result_seal

    with services.catalogue.session() as s:
        result = s.get_one(EResult, step.eresult_id)
        result.state = ComponentState.PROCESSING
        source_key, source_sha, level, code = result.source_key, result.source_sha256, result.level, result.code
        dossier = result.dossier
        own_centre = result.centre_id or dossier.centre_id
        signed_at = datetime.now().astimezone()
        qr = _qr_payload(
            services,
            dossier,
            result.title or "Kết quả giải quyết thủ tục hành chính",
            signed_at,
            f"{services.settings.api.base_url}/tra-cuu/ket-qua/{result.code}",
            validity=result.validity,
            scope=result.scope,
        )
    pdf = services.store.get_bytes(Bucket.RAW, source_key, sha256=source_sha)
    # The issuing centre signs with its key, name and seal. QR code top-left of page 1 with the result code
    # under it, the seal in the signer's block: where the form left room, else in blank room on the page,
    # else on an added page; no page grows.
    signer = result_signer(services, centre_of_dossier(services, own_centre))
    agency = signer.agency_name or services.settings.signing.agency_name
    pdf, seal = mark_result(pdf, qr, result_seal(agency, signer.seal_png, signed_at), caption=("Mã kết quả:", code))
    return _sign_into_work(
        services,
        pdf,
        signer.key,
        level=level,
        appearance=seal,
        reason="Ký số kết quả giải quyết thủ tục hành chính",
        location=agency,
        next_kind="store_result",
        signed_at=signed_at,
    )


def store_result(services: Services, step: JobStep) -> StepOutcome:
    with services.catalogue.session() as s:
        signed = _previous_output(s, step, "sign_result")
    data = services.store.get_bytes(Bucket.WORK, signed["signed_key"], sha256=signed["sha256"])
    obj = services.warehouse.put_bytes(Bucket.RESULTS, data, suffix=".pdf", content_type="application/pdf")

    def finalize(session: Session, step_row: JobStep) -> None:
        result = session.get_one(EResult, step_row.eresult_id)
        result.sha256, result.size, result.object_key = obj.sha256, obj.size, obj.key
        result.object_version = obj.version_id
        result.signed_by = signed["signed_by"]
        result.signed_at = datetime.fromisoformat(signed["signed_at"])
        result.state = ComponentState.DONE

    return StepOutcome({"result_key": obj.key, "sha256": obj.sha256}, finalize=finalize)


DIGITIZE_OVERHEAD_S = 60  # fetching the scans, building and storing the PDF
# Moving bytes: an archive of up to 2 GB unpacked, or a store step riding out an object-store outage.
TRANSFER_LIMIT_S = 1800


MULTI_PAGE_SUFFIXES = (".pdf", ".tif", ".tiff")


def page_bound(component: Component, max_pages: int) -> int:
    """The most pages a component can hold: one per scan, or the component cap if a scan may hold many."""
    if any(f.filename.lower().endswith(MULTI_PAGE_SUFFIXES) for f in component.files):
        return max_pages
    return max(component.page_count, 1)


def step_time_limit(ocr_timeout_s: int, kind: str, pages: int = 1) -> int:
    """How long one attempt of a step may run, in seconds (Celery's hard limit; the lease's end in embedded mode).

    Digitising may spend the OCR engine's per-page timeout on every page of the component,
    so its limit grows with the pages: a fixed one would fail a long component on every
    attempt. Steps that move bytes get ``TRANSFER_LIMIT_S``; signing gets the per-page
    timeout, at least two minutes.
    """
    if kind == "digitize":
        return DIGITIZE_OVERHEAD_S + ocr_timeout_s * max(pages, 10)
    if kind in ("unpack", "store", "store_result"):
        return TRANSFER_LIMIT_S
    return max(ocr_timeout_s, 120)


STEPS: dict[str, StepSpec] = {
    spec.kind: spec
    for spec in (
        StepSpec("unpack", "ingest", unpack, "digitize"),
        StepSpec("digitize", "ocr", digitize, "sign"),
        StepSpec("sign", "sign", sign, "store"),
        StepSpec("store", "store", store, None),
        StepSpec("sign_result", "sign", sign_result, "store_result"),
        StepSpec("store_result", "store", store_result, None),
    )
}


def first_step(archived: bool) -> tuple[str, str]:
    """A component's first step: ``unpack`` when its scans are still inside the batch archive."""
    kind = "unpack" if archived else "digitize"
    return kind, STEPS[kind].queue
