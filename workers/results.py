"""Issue an electronic result (kết quả điện tử) for a dossier: code ``<mã hồ sơ>-KQ<n>``."""

from __future__ import annotations

import logging

import pikepdf
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DbIntegrityError

from sohoa.errors import NotFound, error
from storage.catalogue.models import Dossier, EResult, JobStep
from storage.objectstore import Bucket
from workers.pipeline import STEPS
from workers.services import Services

log = logging.getLogger(__name__)

ResultPdfInvalid = error(
    "RESULT_PDF_INVALID",
    "Tệp kết quả không phải PDF hợp lệ, bị mã hóa hoặc chứa mã thực thi. Xuất lại PDF và tải lên lại.",
    "The result file is not a valid PDF, is encrypted or contains active content. Export it again and re-upload.",
)
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def check_result_pdf(data: bytes) -> None:
    """Refuse what must never be signed as an e-result: unparsable, encrypted or scripted PDFs."""
    import io

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                raise ResultPdfInvalid("encrypted")
            root = pdf.Root
            if "/OpenAction" in root or "/AA" in root or "/JavaScript" in root.get("/Names", {}):
                raise ResultPdfInvalid("active content")
            if len(pdf.pages) == 0:
                raise ResultPdfInvalid("no pages")
    except pikepdf.PdfError as exc:
        raise ResultPdfInvalid(str(exc)) from exc


def issue_result(
    services: Services,
    dossier_code: str,
    pdf: bytes,
    *,
    title: str = "",
    level: str | None = None,
    issued_by: int | None = None,
) -> EResult:
    level = level or services.settings.signing.default_result_level
    if level not in LEVELS:
        raise ValueError(f"unknown level {level}")
    check_result_pdf(pdf)
    source = services.store.put_bytes(Bucket.RAW, pdf, suffix=".pdf", content_type="application/pdf")
    spec = STEPS["sign_result"]
    for _ in range(5):
        try:
            with services.catalogue.session(durable=True) as s:  # the officer is told the result code
                dossier = s.scalar(select(Dossier).where(Dossier.code == dossier_code))
                if dossier is None:
                    raise NotFound(dossier_code)
                seq = (s.scalar(select(func.max(EResult.seq)).where(EResult.dossier_id == dossier.id)) or 0) + 1
                result = EResult(
                    dossier_id=dossier.id,
                    seq=seq,
                    code=f"{dossier.code}-KQ{seq}",
                    title=title,
                    level=level,
                    source_sha256=source.sha256,
                    source_key=source.key,
                    issued_by=issued_by,
                )
                s.add(result)
                s.flush()
                s.add(JobStep(kind=spec.kind, queue=spec.queue, eresult_id=result.id, input_sha256=source.sha256))
            log.info("e-result %s issued for dossier %s", result.code, dossier_code)
            return result
        except DbIntegrityError:
            continue
    raise RuntimeError("could not allocate an e-result number")
