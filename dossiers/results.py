"""Issue an electronic result (kết quả điện tử) for a dossier: code ``<mã hồ sơ>-KQ<n>``."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pikepdf
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from dossiers.errors import IdempotencyKeyReused, ResultActiveContent, ResultAlreadySigned, ResultPdfInvalid
from dossiers.notices import queue_notices
from dossiers.services import Services
from dossiers.signer_keys import ensure_default_centre
from dossiers.steps import STEPS
from signing.signers import SUPPORTED_LEVELS, has_signatures
from signing.validation import active_content
from sohoa.errors import NotFound, SohoaError
from storage.catalogue.models import ComponentState, Dossier, EResult, EResultVersion, JobStep
from storage.objectstore import Bucket, StoredObject, sha256_hex
from storage.warehouse import audit

log = logging.getLogger(__name__)

# How pikepdf fails on a malformed file, beyond PdfError: a wrong object type where a dictionary,
# array or number belongs raises these, and a deeply nested one RecursionError.
PARSE_ERRORS = (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


def check_result_pdf(data: bytes) -> None:
    """Refuse what must never be signed as an e-result: unparsable, encrypted or signed PDFs, and any
    that holds active content (:mod:`signing.validation.active_content` names what it found).

    The file is the officer's upload, so any way pikepdf fails on it is this coded refusal,
    never a server error; so is a catalogue ``/Names`` that is not the dictionary the PDF
    specification requires (an array, a number, a name), which no reader can check for scripts.
    """
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise ResultPdfInvalid("encrypted")
            root = pdf.Root
            names = root.get("/Names")
            if names is not None and not isinstance(names, pikepdf.Dictionary):
                raise ResultPdfInvalid("/Names is not a dictionary")
            found = active_content.scan(pdf)
            if found:
                raise _active_content_refusal(found)
            if len(pdf.pages) == 0:
                raise ResultPdfInvalid("no pages")
            if has_signatures(pdf):
                raise ResultAlreadySigned("signed or certified upload")
    except PARSE_ERRORS as exc:
        raise ResultPdfInvalid(f"{type(exc).__name__}: {exc}") from exc


def _active_content_refusal(found: list[active_content.Finding]) -> SohoaError:
    listed = "; ".join(f.describe_vi() for f in found[:5])
    if len(found) > 5:
        listed += f"; và {len(found) - 5} chỗ khác"
    return ResultActiveContent(
        ", ".join(sorted({f.kind for f in found})),
        message_vi=f"Tệp kết quả chứa nội dung có thể tự chạy hoặc kết nối ra ngoài: {listed}. "
        "Cơ quan không ký số tệp như vậy; xuất lại PDF không có các nội dung này và tải lên lại.",
    )


def request_fingerprint(
    dossier_code: str,
    level: str,
    title: str,
    content_sha256: str,
    validity: str | None = None,
    scope: str | None = None,
) -> str:
    """SHA-256 of what an issue request asks for: a retry has the same, another request under its key does not.
    (Validity and scope join it only when given: requests made before they existed keep their fingerprint.)"""
    asked = [dossier_code, level, title, content_sha256, *([validity, scope] if validity or scope else [])]
    return hashlib.sha256(json.dumps(asked).encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    """The answer to an issue request: the e-result, and whether this request created it."""

    result: EResult
    created: bool


def _by_key(s: Session, issued_by: int | None, key: str, fingerprint: str) -> EResult | None:
    """The e-result this client issued under this key; IdempotencyKeyReused if it was asked for something else."""
    client = EResult.issued_by.is_(None) if issued_by is None else EResult.issued_by == issued_by
    result = s.scalar(select(EResult).where(client, EResult.idempotency_key == key))
    if result is not None and result.request_sha256 != fingerprint:
        raise IdempotencyKeyReused(key)
    return result


def _same_pdf(s: Session, dossier_id: int, source_sha256: str, level: str, title: str) -> EResult | None:
    """The dossier's e-result made from this very PDF at this level and title, unless its signing failed."""
    return s.scalar(
        select(EResult)
        .where(
            EResult.dossier_id == dossier_id,
            EResult.source_sha256 == source_sha256,
            EResult.level == level,
            EResult.title == title,
            EResult.state != ComponentState.FAILED,
        )
        .order_by(EResult.seq)
        .limit(1)
    )


def issue_result_once(
    services: Services,
    dossier_code: str,
    pdf: bytes | Callable[[], bytes],
    *,
    title: str = "",
    level: str | None = None,
    issued_by: int | None = None,
    idempotency_key: str | None = None,
    content_sha256: str | None = None,
    officer_id: int | None = None,
    centre_id: int | None = None,
    validity: str | None = None,
    scope: str | None = None,
    actor: str = "",
) -> Issued:
    """Issue an e-result, or return the one an earlier request for the same thing issued.

    ``pdf`` is the uploaded PDF, or a function rendering it (then ``content_sha256`` names
    what it renders, e.g. the template's lines, and it is called only for a new result).

    A signed e-result is locked in the results bucket for years and can never be deleted,
    so a second one with the same content is a permanent defect, never what a retry wants:

    - Under an ``idempotency_key`` (unique per issuing client), a repeat of the same request
      gets the same e-result, whatever its state; the key reused for another dossier, level,
      title or content is refused (IdempotencyKeyReused).
    - With or without a key, an e-result of the same dossier made from the same PDF (same
      SHA-256) at the same level, under the same title, is returned instead of a new one: it
      would be the same signed document under another number. One whose signing failed left nothing locked
      and does not count, so the officer can issue that PDF again.

    ``actor``: who issues it, for the audit trail (``officer:<username>``; default: the API key's id).
    ``officer_id``/``centre_id``: the issuing officer (an officer's personal key) and their centre, whose key,
    name and seal sign the result; without a centre, the dossier's centre signs it (else the default centre).

    Two identical requests at once race for the same sequence number (and key); the loser's
    insert fails on a unique index, and its next attempt finds the winner's row.
    """
    level = level or services.settings.signing.default_result_level
    if level not in SUPPORTED_LEVELS:
        raise ValueError(f"unknown level {level}")
    digest = None  # an uploaded PDF's hash, taken once: the store is handed it
    if isinstance(pdf, bytes):
        check_result_pdf(pdf)
        digest = sha256_hex(pdf)
        content_sha256 = content_sha256 or digest
    if content_sha256 is None:
        raise ValueError("a rendered result needs content_sha256")
    fingerprint = request_fingerprint(dossier_code, level, title, content_sha256, validity, scope)
    if idempotency_key is not None:  # a repeat is answered before anything is rendered or stored
        with services.catalogue.reading() as s:
            known = _by_key(s, issued_by, idempotency_key, fingerprint)
        if known is not None:
            log.info("e-result %s returned again for idempotency key of client %s", known.code, issued_by)
            return Issued(known, created=False)
    if not isinstance(pdf, bytes):
        pdf = pdf()
        check_result_pdf(pdf)
    source = services.warehouse.put_bytes(Bucket.RAW, pdf, suffix=".pdf", content_type="application/pdf", sha256=digest)
    spec = STEPS["sign_result"]
    default_centre = ensure_default_centre(services)
    for _ in range(5):
        try:
            with services.catalogue.session(durable=True) as s:  # the officer is told the result code
                dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
                if dossier is None:
                    raise NotFound(dossier_code)
                # The number first: a twin committed after this read takes the same number, so this
                # insert fails; one committed before it is seen by the lookups below (PostgreSQL reads
                # committed rows per statement; SQLite writers queue on one lock).
                seq = (s.scalar(select(func.max(EResult.seq)).where(EResult.dossier_id == dossier.id)) or 0) + 1
                known = None if idempotency_key is None else _by_key(s, issued_by, idempotency_key, fingerprint)
                known = known or _same_pdf(s, dossier.id, source.sha256, level, title)
                if known is not None:
                    log.info("e-result %s returned again for a repeat on dossier %s", known.code, dossier_code)
                    return Issued(known, created=False)
                result = EResult(
                    dossier_id=dossier.id,
                    seq=seq,
                    code=f"{dossier.code}-KQ{seq}",
                    title=title,
                    level=level,
                    source_sha256=source.sha256,
                    source_key=source.key,
                    issued_by=issued_by,
                    idempotency_key=idempotency_key,
                    request_sha256=fingerprint,
                    officer_id=officer_id,
                    centre_id=centre_id or dossier.centre_id or default_centre,
                    validity=validity,
                    scope=scope,
                )
                s.add(result)
                s.flush()
                s.add(JobStep(kind=spec.kind, queue=spec.queue, eresult_id=result.id, input_sha256=source.sha256))
                # The applicant's notices (outbox): committed with the result, or not at all.
                queue_notices(s, services.settings.notices, dossier.id, result.id)
                audit.append(
                    s,
                    actor=actor or (f"api-key:{issued_by}" if issued_by is not None else "service"),
                    action="issue_result",
                    subject=f"result:{result.code}",
                    outcome="ok",
                    detail={"dossier": dossier_code, "title": title[:100], "level": level},
                    owner=dossier.applicant_id,
                    centre_id=result.centre_id,  # the result's centre (its key signs it), never NULL
                )
            log.info("e-result %s issued for dossier %s", result.code, dossier_code)
            return Issued(result, created=True)
        except DbIntegrityError:
            log.info("an e-result for dossier %s was issued concurrently; looking again", dossier_code)
            continue
    raise RuntimeError("could not allocate an e-result number")


def record_replaced_version(s: Session, eresult_id: int, original: StoredObject) -> None:
    """Keep the version an e-result named before it was replaced (re-time-stamped), in the caller's transaction."""
    s.add(
        EResultVersion(
            eresult_id=eresult_id,
            object_key=original.key,
            sha256=original.sha256,
            size=original.size,
            object_version=original.version_id,
        )
    )


def earlier_versions(s: Session, eresult_id: int) -> list[str]:
    """The hashes an e-result had before it was re-time-stamped, oldest first.

    Each was handed to the citizen once and stays valid (locked, catalogued): a check of a
    copy the citizen was issued must still find it in the register.
    """
    query = select(EResultVersion.sha256).where(EResultVersion.eresult_id == eresult_id).order_by(EResultVersion.id)
    return list(s.scalars(query).all())
