"""PAdES signing (ETSI EN 319 142-1) of PDF bytes with pyHanko.

Every signature is an incremental update: earlier revisions and signatures are never rewritten.
The body follows pyHanko's staged flow (session → pre-sign checks → to-be-signed document →
digest → CMS signature → embedding) so the CMS step can later move to an HSM or remote signer.
"""

from __future__ import annotations

import asyncio
import logging
from io import BytesIO
from typing import Literal

from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext

from signing.appearance import Appearance
from signing.errors import (
    PdfInvalid,
    SigningFailed,
    SigningLevelUnsupported,
    TimestamperRequired,
    TimestampUnavailable,
)
from signing.keys import SigningKey

log = logging.getLogger(__name__)

PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
SUPPORTED_LEVELS: tuple[PadesLevel, ...] = ("B-B", "B-T")
DEFAULT_DIGEST = "sha256"


def sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    level: PadesLevel = "B-B",
    timestamper: TimeStamper | None = None,
    appearance: Appearance | None = None,
    reason: str | None = None,
    location: str | None = None,
    field_name: str = "Signature1",
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Sign ``pdf`` and return the signed bytes (the input plus one incremental revision).

    If ``field_name`` already holds a signature, the next free name (``Signature2``…) is used.
    Do not call from inside a running event loop; use :func:`async_sign_pdf` there.
    """
    return asyncio.run(
        async_sign_pdf(
            pdf,
            key,
            level=level,
            timestamper=timestamper,
            appearance=appearance,
            reason=reason,
            location=location,
            field_name=field_name,
            validation_context=validation_context,
        )
    )


async def async_sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    level: PadesLevel = "B-B",
    timestamper: TimeStamper | None = None,
    appearance: Appearance | None = None,
    reason: str | None = None,
    location: str | None = None,
    field_name: str = "Signature1",
    validation_context: ValidationContext | None = None,
) -> bytes:
    """Async variant of :func:`sign_pdf`."""
    if level not in SUPPORTED_LEVELS:
        raise SigningLevelUnsupported(f"level {level}; B-LT/B-LTA need revocation data the dev PKI lacks")
    if level == "B-T" and timestamper is None:
        raise TimestamperRequired(f"level {level}")
    writer = open_incremental(pdf)
    field_name = _free_field_name(writer, field_name)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=DEFAULT_DIGEST,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=key.subject_name,
        validation_context=validation_context,
    )
    field_spec = _field_spec(writer, field_name, appearance)
    pdf_signer = signers.PdfSigner(
        meta,
        key.signer,
        timestamper=timestamper if level == "B-T" else None,
        stamp_style=appearance.style if appearance else None,
        new_field_spec=field_spec,
    )
    try:
        out = await _staged_sign(pdf_signer, writer)
    except TimestampRequestError as exc:
        raise TimestampUnavailable(str(exc)) from exc
    except (SigningError, PdfError) as exc:
        raise SigningFailed(type(exc).__name__ + ": " + str(exc)) from exc
    log.info("Signed PDF: field=%s level=%s signer=%s bytes=%s", field_name, level, key.subject_name, len(out))
    return out


# Reserved /Contents size per (certificate, timestamp source): the estimate is a full dry-run CMS
# build (pyHanko adds a 50% margin), too costly to repeat for every document.
_reserved_sizes: dict[tuple[bytes, str | None], int] = {}


async def _staged_sign(pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter) -> bytes:
    session = pdf_signer.init_signing_session(writer)
    validation_info = await session.perform_presign_validation(writer)
    ts = session.timestamper
    size_key = (
        pdf_signer.signer.signing_cert.sha256,
        None if ts is None else f"{type(ts).__name__}:{getattr(ts, 'url', id(ts))}",
    )
    bytes_reserved = _reserved_sizes.get(size_key)
    if bytes_reserved is None or validation_info is not None:
        bytes_reserved = await session.estimate_signature_container_size(validation_info)
        _reserved_sizes[size_key] = bytes_reserved
    tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=bytes_reserved)
    # Stage boundary: the byte-range digest below is all an external signer needs.
    prepared, output = tbs.digest_tbs_document(output=BytesIO())
    post_sign = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await post_sign.post_signature_processing(output)
    return output.getvalue()


def open_incremental(pdf: bytes) -> IncrementalPdfFileWriter:
    """Open PDF bytes for an incremental update, mapping parse failures to PDF_INVALID."""
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        encrypted = writer.prev.encrypted
        page_count = int(writer.root["/Pages"]["/Count"])
    except (PdfError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise PdfInvalid(type(exc).__name__) from None
    if encrypted:
        raise PdfInvalid("encrypted PDF")
    if page_count < 1:
        raise PdfInvalid("PDF has no pages")
    return writer


def _free_field_name(writer: IncrementalPdfFileWriter, wanted: str) -> str:
    taken = {name for name, value, _ in fields.enumerate_sig_fields(writer.prev, filled_status=True) if value}
    if wanted not in taken:
        return wanted
    stem = wanted.rstrip("0123456789") or "Signature"
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    log.info("Signature field %s is already signed; using %s%s", wanted, stem, n)
    return f"{stem}{n}"


def _field_spec(
    writer: IncrementalPdfFileWriter, field_name: str, appearance: Appearance | None
) -> fields.SigFieldSpec:
    if appearance is None:
        return fields.SigFieldSpec(sig_field_name=field_name)
    page_count = int(writer.root["/Pages"]["/Count"])
    index = appearance.page_index(page_count)
    page_ref, _ = writer.find_page_for_modification(index)
    box = appearance.box_on(_visible_box(page_ref.get_object()))
    return fields.SigFieldSpec(sig_field_name=field_name, on_page=index, box=box)


def _visible_box(page: DictionaryObject) -> tuple[float, float, float, float]:
    """CropBox (else MediaBox), following inheritance up the page tree."""
    node: DictionaryObject | None = page
    media: ArrayObject | None = None
    crop: ArrayObject | None = None
    while node is not None:
        crop = crop if crop is not None else node.get("/CropBox")
        media = media if media is not None else node.get("/MediaBox")
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    chosen = crop if crop is not None else media
    if chosen is None:
        return 0.0, 0.0, 595.0, 842.0
    x1, y1, x2, y2 = (float(v) for v in chosen)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
