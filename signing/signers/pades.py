"""PAdES signing (ETSI EN 319 142-1) of PDF bytes: B-B, B-T, B-LT, B-LTA.

Every signature is an incremental update: earlier revisions and signatures are never rewritten.
Two engines stand behind one interface, :class:`PadesSigner` (``sign(pdf) -> bytes``), and
:func:`signer_for` picks one:

* :class:`signing.signers.fastpades.FastPadesSigner` for invisible signatures with a loaded key:
  the batch engine, no pyHanko object model per document;
* :class:`StagedPadesSigner`, pyHanko's staged flow (session → pre-sign checks → to-be-signed
  document → digest → CMS signature → embedding) for visible appearances (copy stamp, seal) and
  for keys without a raw signer, so an HSM or remote signer can complete a prepared digest later.

Both ask the same :class:`signing.timestamps.TimestampSource` for their time-stamps.

B-LT/B-LTA revisions (DSS with chain and OCSP/CRL, document time-stamp) are appended by
:func:`signing.signers.fastpades.add_ltv` for both engines. Before signing, the signer certificate must
be inside its validity period and, when it names an OCSP/CRL responder, not revoked.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime
from io import BytesIO
from typing import Literal, Protocol

from asn1crypto import cms
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import read_certification_data
from pyhanko_certvalidator import ValidationContext

from signing.errors import (
    PdfCertified,
    PdfEncrypted,
    PdfInvalid,
    SigningFailed,
    SigningLevelUnsupported,
    TimestamperRequired,
)
from signing.keys.keys import LoadedKeySigner, SigningKey
from signing.pdfcompat import keep_need_appearances
from signing.signers.appearance import Appearance
from signing.signers.fastpades import LEVELS, FastPadesSigner, PadesLevel, add_ltv
from signing.signers.pdfupdate import prepare_input
from signing.timestamps.source import TimestampSource, as_pyhanko
from signing.timestamps.tsa_fast import token_signer
from signing.validation.revocation import (
    LtvMaterial,
    RevocationCache,
    check_validity_period,
    default_cache,
    has_revocation_pointers,
    order_chain,
)
from signing.validation.verify import regular_signatures, signature_timestamp_token

log = logging.getLogger(__name__)
keep_need_appearances()

Engine = Literal["auto", "fast", "pyhanko"]
SUPPORTED_LEVELS = LEVELS
DEFAULT_DIGEST = "sha256"


def pades_level(value: str) -> PadesLevel:
    """``value`` (a level stored as text) as a supported level; SIGNING_LEVEL_UNSUPPORTED otherwise."""
    for level in SUPPORTED_LEVELS:
        if value == level:
            return level
    raise SigningLevelUnsupported(f"level {value}")


class PadesSigner(Protocol):
    """Signs PDFs at the level it was built for: each call appends one signature (and, for B-LT and
    B-LTA, the revisions that carry its validation data)."""

    def sign(
        self, pdf: bytes, *, reason: str | None = None, location: str | None = None, field_name: str = "Signature1"
    ) -> bytes: ...


def _check_level(level: str, timestamper: TimestampSource | None) -> None:
    if level not in SUPPORTED_LEVELS:
        raise SigningLevelUnsupported(f"level {level}")
    if level != "B-B" and timestamper is None:
        raise TimestamperRequired(f"level {level}")


def signer_for(
    key: SigningKey,
    *,
    level: PadesLevel = "B-B",
    timestamper: TimestampSource | None = None,
    appearance: Appearance | None = None,
    validation_context: ValidationContext | None = None,
    revocation: RevocationCache | None = None,
    engine: Engine = "auto",
) -> PadesSigner:
    """The signer for these settings: the fast engine for invisible signatures with a loaded key
    (``engine="auto"`` or ``"fast"``), pyHanko's staged flow for the rest (or ``engine="pyhanko"``)."""
    _check_level(level, timestamper)
    if engine != "pyhanko" and appearance is None and validation_context is None and _fast_capable(key):
        return _fast_signer(key, level, timestamper, revocation)
    if engine == "fast":
        raise SigningFailed("the fast engine signs invisible signatures with a loaded key only")
    return StagedPadesSigner(
        key,
        level=level,
        timestamper=timestamper,
        appearance=appearance,
        validation_context=validation_context,
        revocation=revocation,
    )


def sign_pdf(
    pdf: bytes,
    key: SigningKey,
    *,
    level: PadesLevel = "B-B",
    timestamper: TimestampSource | None = None,
    appearance: Appearance | None = None,
    reason: str | None = None,
    location: str | None = None,
    field_name: str = "Signature1",
    validation_context: ValidationContext | None = None,
    revocation: RevocationCache | None = None,
    engine: Engine = "auto",
) -> bytes:
    """Sign ``pdf`` and return the signed bytes (the input plus one revision, more for B-LT/B-LTA).

    If ``field_name`` already holds a signature, the next free name (``Signature2``…) is used.
    ``engine="auto"`` takes the fast path for invisible signatures with a loaded key.
    Do not call from inside a running event loop; await ``StagedPadesSigner(...).async_sign`` there.

    On a certified document (DocMDP P=2/3) the signature is invisible: a certification allows
    signing, not a new visible field (pyHanko's difference analysis and Acrobat agree), so the
    appearance is left out rather than invalidating the certification.
    """
    signer = signer_for(
        key,
        level=level,
        timestamper=timestamper,
        appearance=appearance,
        validation_context=validation_context,
        revocation=revocation,
        engine=engine,
    )
    out = signer.sign(pdf, reason=reason, location=location, field_name=field_name)
    log.info(
        "Signed PDF: level=%s signer=%s engine=%s bytes=%s", level, key.subject_name, type(signer).__name__, len(out)
    )
    return out


class StagedPadesSigner:
    """pyHanko's staged flow behind :class:`PadesSigner` (visible appearances, keys without a raw signer)."""

    def __init__(
        self,
        key: SigningKey,
        *,
        level: PadesLevel = "B-B",
        timestamper: TimestampSource | None = None,
        appearance: Appearance | None = None,
        validation_context: ValidationContext | None = None,
        revocation: RevocationCache | None = None,
    ):
        self.key = key
        self.level = level
        self.timestamper = timestamper
        self.appearance = appearance
        self.validation_context = validation_context
        self.revocation = revocation

    def sign(
        self, pdf: bytes, *, reason: str | None = None, location: str | None = None, field_name: str = "Signature1"
    ) -> bytes:
        return asyncio.run(self.async_sign(pdf, reason=reason, location=location, field_name=field_name))

    async def async_sign(
        self, pdf: bytes, *, reason: str | None = None, location: str | None = None, field_name: str = "Signature1"
    ) -> bytes:
        key, level, timestamper, appearance = self.key, self.level, self.timestamper, self.appearance
        _check_level(level, timestamper)
        preflight(key, level, self.revocation)
        data, facts = await asyncio.to_thread(prepare_input, pdf)
        if appearance is not None and facts.certified:
            log.info("Certified PDF: signing invisibly, its certification allows no new visible field")
            appearance = None
        writer = open_incremental(data)
        field_name = _free_field_name(writer, field_name)
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm=DEFAULT_DIGEST,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            name=key.subject_name,
            validation_context=self.validation_context,
        )
        field_spec = _field_spec(writer, field_name, appearance)
        pdf_signer = signers.PdfSigner(
            meta,
            key.signer,
            timestamper=as_pyhanko(timestamper) if timestamper is not None and level != "B-B" else None,
            stamp_style=appearance.style if appearance else None,
            new_field_spec=field_spec,
        )
        try:
            out = await _staged_sign(pdf_signer, writer, timestamper)
        except (SigningError, PdfError) as exc:
            raise SigningFailed(type(exc).__name__ + ": " + str(exc)) from exc
        if level in ("B-LT", "B-LTA"):
            assert timestamper is not None
            # Status is fetched now, after the signature's time-stamp, for the signer's chain and for
            # the chain of the TSA that signed that very token.
            cache = self.revocation or default_cache()
            material = await asyncio.to_thread(_ltv_material_after, out, key, cache, datetime.now(UTC))
            out = await asyncio.to_thread(add_ltv, out, material, timestamper if level == "B-LTA" else None)
        return out


def preflight(key: SigningKey, level: str, revocation: RevocationCache | None = None) -> None:
    """Refuse an expired or revoked signer certificate, and B-LT/B-LTA without a status service.

    Revocation is checked when the certificate names an OCSP responder or CRL.
    """
    check_validity_period(key.cert)
    if level in ("B-LT", "B-LTA") and not has_revocation_pointers(key.cert):
        raise SigningLevelUnsupported(f"{level}: the certificate names no OCSP/CRL responder")
    if has_revocation_pointers(key.cert):
        (revocation or default_cache()).material([key.cert, *key.signer.cert_registry])


def _ltv_material_after(signed: bytes, key: SigningKey, cache: RevocationCache, not_before: datetime) -> LtvMaterial:
    """Signer chain and the last signature's own TSA chain, with status obtained after ``not_before``."""
    chain = [key.cert, *key.signer.cert_registry]
    material = cache.material(chain, not_before=not_before)
    token = last_signature_token(signed)
    if token is not None:
        leaf, certs = token_signer(token)
        material = material.merged(cache.material(order_chain(leaf, [*certs, *chain]), not_before=not_before))
    return material


def last_signature_token(pdf: bytes) -> cms.ContentInfo | None:
    """The signature time-stamp token of the last (non document time-stamp) signature of ``pdf``."""
    regular = regular_signatures(PdfFileReader(BytesIO(pdf), strict=False))
    return signature_timestamp_token(regular[-1]) if regular else None


_fast_lock = threading.Lock()
_fast_signers: dict[tuple[object, ...], FastPadesSigner] = {}


def _fast_capable(key: SigningKey) -> bool:
    return isinstance(key.signer, LoadedKeySigner) or hasattr(key.signer, "raw_signer")


def _fast_signer(
    key: SigningKey, level: str, timestamper: TimestampSource | None, revocation: RevocationCache | None
) -> FastPadesSigner:
    """The fast signer for this key and settings, built once (its CMS skeleton and token size are costly)."""
    cache_key = (id(key.signer), key.cert.sha256, level, id(timestamper), id(revocation))
    with _fast_lock:
        signer = _fast_signers.get(cache_key)
    if signer is None or signer.signer.cert.sha256 != key.cert.sha256:
        signer = FastPadesSigner.for_key(key, level=level, tokens=timestamper, revocation=revocation or default_cache())
        with _fast_lock:
            _fast_signers[cache_key] = signer
    else:
        check_validity_period(key.cert)
        if signer.revocation is not None and has_revocation_pointers(key.cert):
            signer.revocation.material([key.cert, *signer.signer.chain])
    return signer


def clear_signer_cache() -> None:
    with _fast_lock:
        _fast_signers.clear()


# Reserved /Contents size per (certificate, timestamp source): the estimate is a full dry-run CMS
# build (pyHanko adds a 50% margin), too costly to repeat for every document.
_reserved_sizes: dict[tuple[bytes, str | None], int] = {}


async def _staged_sign(
    pdf_signer: signers.PdfSigner, writer: IncrementalPdfFileWriter, timestamper: TimestampSource | None
) -> bytes:
    session = pdf_signer.init_signing_session(writer)
    validation_info = await session.perform_presign_validation(writer)
    cert = pdf_signer.signer.signing_cert
    if cert is None:  # every SigningKey's signer has one
        raise SigningError("signer without a certificate")
    ts = timestamper if session.timestamper is not None else None
    size_key = (cert.sha256, None if ts is None else f"{type(ts).__name__}:{getattr(ts, 'url', id(ts))}")
    bytes_reserved = _reserved_sizes.get(size_key)
    if bytes_reserved is None or validation_info is not None:
        bytes_reserved = await session.estimate_signature_container_size(validation_info)
        _reserved_sizes[size_key] = bytes_reserved
    tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=bytes_reserved)
    # Stage boundary: the byte-range digest below is all an external signer needs.
    buffer = BytesIO()  # readable and seekable: pyHanko writes the document into it, not into a copy
    prepared, output = tbs.digest_tbs_document(output=buffer)
    post_sign = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await post_sign.post_signature_processing(output)
    return buffer.getvalue()


def open_incremental(pdf: bytes) -> IncrementalPdfFileWriter:
    """Open PDF bytes for an incremental update, mapping parse failures to PDF_INVALID.

    Encrypted PDFs are refused with PDF_ENCRYPTED, PDFs certified with "no changes" with
    PDF_CERTIFIED.
    """
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        encrypted = writer.prev.encrypted
        page_count = int(writer.root["/Pages"]["/Count"]) if not encrypted else 1
        perms = writer.root.get("/Perms") if not encrypted else None
    except (PdfError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise PdfInvalid(type(exc).__name__) from None
    if encrypted:
        raise PdfEncrypted("encrypted PDF")
    if perms is not None and "/DocMDP" in perms:
        certification = read_certification_data(writer.prev)
        if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
            raise PdfCertified("DocMDP P=1")
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
    chosen = chosen.get_object()  # a box may be an indirect array (fpdf2 writes them so)
    x1, y1, x2, y2 = (float(v) for v in chosen)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
