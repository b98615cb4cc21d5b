"""Verify every signature in a PDF against configured trust roots.

Checks integrity, byte-range coverage, changes after signing (and in which revision), the chain
to the configured roots, the time-stamp, revocation status and the PAdES level reached.
Times are in Vietnam time.

Revocation — what is checked, and why offline:

* The API (public verify page) and the CLI call this with ``allow_fetching=False``: nothing is
  fetched. Revocation is judged only from the OCSP responses and CRLs embedded in the document's
  DSS (B-LT/B-LTA). "good" then means: that evidence (signed by the CA or its responder,
  collected when the document was signed; for B-LTA also covered by a document time-stamp) shows
  the certificate was not revoked *at signing time*, which the signature time-stamp fixes — the
  PAdES long-term validation claim (ETSI EN 319 142-1). A revocation that happened after signing
  is not seen, and is not meant to be: a signature made before the revocation stays valid. B-B/B-T
  documents carry no such evidence, so their status is "not_checked" with the warning
  ``revocation_not_checked`` (TT 15/2025 asks verifiers to warn).
* Fetching stays off for uploaded documents on purpose: the OCSP/CRL/CA-issuer addresses come
  from certificates inside the uploaded PDF, i.e. from whoever uploads it, so fetching them would
  let anyone make this server send requests to addresses of their choice, internal ones included
  (SSRF), and stall it on slow ones.
* ``allow_fetching=True`` (trusted callers and tests only) also asks the responders named in the
  certificates, and pyHanko judges the status at the present time: a certificate revoked since is
  reported "revoked" (problem ``revoked``, report not valid), even for a B-LT document whose DSS
  says "good" — stricter than PAdES past-signature validation.

Reading — strict, with one tolerance, and hybrid files refused:

* PDFs are read with pyHanko's strict reader (see ``signing.pdfcompat`` for why, and for the one
  harmless deviation it accepts: the generation of object 0's entry, which Pillow writes as 65536).
* Files with hybrid cross-reference sections (a trailer ``/XRefStm``) are not validated: readers that
  honour the stream and readers that ignore it can be shown different objects, so no verdict about
  "what was signed" would be safe (pyHanko refuses them in strict mode for that reason). They are
  reported, not called unreadable: problem ``pdf_hybrid_xref`` on the document, ``not_validated`` on
  each signature, and :attr:`VerificationReport.verifiable` is False.
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections.abc import Awaitable, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, TypeVar

import pikepdf
from asn1crypto import cms, pem
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import DocumentSecurityStore, async_validate_pdf_signature
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from signing import pdfcompat
from signing.errors import PdfHybridXrefUnverifiable, PdfInvalid, TrustRootInvalid
from signing.validation import active_content
from signing.validation.report import Lang, SignatureReport, VerificationReport
from signing.validation.revocation import has_revocation_pointers
from sohoa.errors import SohoaError

log = logging.getLogger(__name__)
T = TypeVar("T")
# Where our own packages live (a source tree or site-packages alike).
_OWN_CODE = tuple(
    f"{Path(__file__).resolve().parents[2] / package}{os.sep}"
    for package in ("api", "digitizer", "signing", "sohoa", "storage", "workers")
)


class _DropTraceback(logging.Filter):
    """pyHanko logs each failed check with its traceback, as a warning. For verification a failure is
    an outcome the report records (untrusted chain, broken digest, sub-indication), not a fault:
    the warning line is kept, its traceback dropped (errors keep theirs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            record.exc_info = record.exc_text = None
        return True


for _name in (
    "pyhanko.sign.validation.generic_cms",
    "pyhanko.sign.validation.ades",
    "pyhanko.sign.diff_analysis.policies",
):
    logging.getLogger(_name).addFilter(_DropTraceback())


def _log_unreadable(what: str, exc: Exception) -> None:
    """Log why a PDF or signature is reported unreadable, telling a hostile file from a fault of ours.

    The report says "unreadable" either way (hostile input must never turn into a server error).
    When the exception was raised in our own code, not inside a parsing library, it is more likely
    our bug than the file's: that is logged as an error with its traceback, so that it is seen.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    innermost = frames[-1].filename if frames else ""
    if innermost.startswith(_OWN_CODE):
        log.error("%s reported unreadable after a fault in our code: %s", what, type(exc).__name__, exc_info=exc)
    else:
        log.warning("%s unreadable: %s", what, type(exc).__name__)


PADES_SUBFILTER = "/ETSI.CAdES.detached"
_COVERAGE_NAMES: dict[SignatureCoverageLevel | None, str] = {
    SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
    SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "partial",
    SignatureCoverageLevel.UNCLEAR: "unclear",
}


def load_trust_roots(paths: Sequence[Path]) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (one or many per file) or DER files."""
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
            if pem.detect(data):
                roots += [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
            else:
                roots.append(asn1_x509.Certificate.load(data))
            roots[-1].native  # noqa: B018 - force a full parse so garbage fails here
        except (OSError, ValueError, IndexError) as exc:
            raise TrustRootInvalid(f"{path}: {type(exc).__name__}") from None
    return roots


def verify_pdf(
    pdf: bytes, trust_roots: Sequence[Path], *, lang: Lang = "vi", allow_fetching: bool = False
) -> VerificationReport:
    """Verify all signatures of ``pdf``; see :class:`VerificationReport` for what ``valid`` means.

    ``lang`` is kept for callers that render right away; use ``report.render(lang)``.
    Do not call from inside a running event loop; use :func:`async_verify_pdf` there.
    """
    return asyncio.run(async_verify_pdf(pdf, trust_roots, lang=lang, allow_fetching=allow_fetching))


async def async_verify_pdf(
    pdf: bytes, trust_roots: Sequence[Path], *, lang: Lang = "vi", allow_fetching: bool = False
) -> VerificationReport:
    roots = load_trust_roots(trust_roots)
    return await unreadable_as_invalid(_verify_document(pdf, roots, lang, allow_fetching))


async def unreadable_as_invalid(work: Awaitable[T]) -> T:
    """Await ``work``; any failure that is not already coded means the PDF is unreadable (PdfInvalid)."""
    try:
        return await work
    except (SohoaError, MemoryError):
        raise  # coded already; a memory allowance overrun is the sandbox's to report, not an unreadable file
    except Exception as exc:
        # pyHanko parses lazily, so a hostile PDF can fail anywhere below, with anything
        # (zlib.error, NotImplementedError, AssertionError, struct.error...): it is unreadable.
        _log_unreadable("PDF", exc)
        raise PdfInvalid(type(exc).__name__) from None


def open_pdf(pdf: bytes) -> PdfFileReader:
    """pyHanko's strict reader over ``pdf`` (see ``signing.pdfcompat``); PdfInvalid when it is encrypted."""
    pdfcompat.install()
    reader = PdfFileReader(BytesIO(pdf))
    if reader.encrypted:
        raise PdfInvalid("encrypted PDF")
    return reader


def regular_signatures(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    """The document's signatures, without its document time-stamps."""
    return [sig for sig in reader.embedded_signatures if sig.sig_object_type != "/DocTimeStamp"]


def signature_timestamp_token(sig: EmbeddedPdfSignature) -> cms.ContentInfo | None:
    """The RFC 3161 token in a signature's unsigned attributes (its B-T time-stamp), if any."""
    unsigned = sig.signer_info["unsigned_attrs"]
    for attr in unsigned if unsigned.native is not None else []:
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]
    return None


def refuse_hybrid(reader: PdfFileReader) -> None:
    """PdfHybridXrefUnverifiable when the file has hybrid cross-reference sections (see the module docstring)."""
    if reader.xrefs.hybrid_xrefs_present:
        raise PdfHybridXrefUnverifiable("hybrid cross-reference sections")


async def _verify_document(
    pdf: bytes, roots: list[asn1_x509.Certificate], lang: Lang, allow_fetching: bool
) -> VerificationReport:
    report = await _verify_signatures(pdf, roots, lang, allow_fetching)
    report.active_content = _active_content(pdf)
    return report


def _active_content(pdf: bytes) -> list[active_content.Finding]:
    """What the file could run or reach (a warning beside the verdict); nothing when qpdf cannot read it."""
    try:
        with pikepdf.open(BytesIO(pdf)) as doc:
            return active_content.scan(doc)
    except MemoryError:
        raise
    except Exception as exc:  # the signatures' verdict stands; this is only a warning
        _log_unreadable("PDF (active content scan)", exc)
        return []


async def _verify_signatures(
    pdf: bytes, roots: list[asn1_x509.Certificate], lang: Lang, allow_fetching: bool
) -> VerificationReport:
    reader = open_pdf(pdf)
    embedded = list(reader.embedded_signatures)
    if not embedded:
        return VerificationReport(signatures=[], problems=["no_signatures"])
    if reader.xrefs.hybrid_xrefs_present:
        log.info("Not validating a hybrid-reference PDF: signatures=%s", len(embedded))
        return _unverifiable_report(regular_signatures(reader), PdfHybridXrefUnverifiable)

    dss = _dss_summary(reader)
    revinfo = dss_revinfo(reader)
    doc_ts_revisions = [sig.signed_revision for sig in embedded if sig.sig_object_type == "/DocTimeStamp"]
    reports: list[SignatureReport] = []
    regular = regular_signatures(reader)
    for index, sig in enumerate(regular):
        is_last = index == len(regular) - 1
        rep = await _verify_one(sig, roots, is_last, dss, doc_ts_revisions, revinfo, allow_fetching)
        rep.signed_revision = sig.signed_revision + 1
        rep.total_revisions = reader.xrefs.total_revisions
        if rep.modified_after_signing:
            rep.modified_in_revision = _first_bad_revision(reader, sig, is_last)
        reports.append(rep)
    report = VerificationReport(signatures=reports)
    log.info("Verified PDF: signatures=%s valid=%s lang=%s", len(reports), report.valid, lang)
    return report


def _unverifiable_report(sigs: list[EmbeddedPdfSignature], why: type[SohoaError]) -> VerificationReport:
    """A report that names the signatures and says why none was validated."""
    reports = []
    for sig in sigs:
        rep = SignatureReport(field_name=str(sig.field_name), problems=["not_validated"])
        try:
            cert = sig.signer_cert
            rep.signer_name = cert.subject.native.get("common_name")
            rep.signer_subject = cert.subject.human_friendly
        except MemoryError:
            raise
        except Exception as exc:  # only informative here: the report is not valid either way
            _log_unreadable(f"signature {rep.field_name}", exc)
        reports.append(rep)
    return VerificationReport(signatures=reports, problems=[why.code.lower()])


def _context(
    roots: list[asn1_x509.Certificate], revinfo: dict[str, list[Any]], mode: str, allow_fetching: bool
) -> ValidationContext:
    return ValidationContext(
        trust_roots=roots,
        other_certs=revinfo["certs"],
        ocsps=revinfo["ocsps"],
        crls=revinfo["crls"],
        allow_fetching=allow_fetching,
        revocation_mode=mode,
        retroactive_revinfo=True,
    )


async def _validate(
    sig: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate], revinfo: dict[str, list[Any]], mode: str, fetch: bool
) -> PdfSignatureStatus:
    """One pyHanko validation run; closes the HTTP sessions the contexts opened when fetching."""
    signer_ctx = _context(roots, revinfo, mode, fetch)
    ts_ctx = _context(roots, revinfo, mode, fetch)
    try:
        return await async_validate_pdf_signature(
            sig, signer_validation_context=signer_ctx, ts_validation_context=ts_ctx
        )
    finally:
        await signer_ctx.aclose()
        await ts_ctx.aclose()


def dss_revinfo(reader: PdfFileReader) -> dict[str, list[Any]]:
    """The DSS's certificates, OCSP responses and CRLs (empty lists when there is none or it is unreadable)."""
    empty: dict[str, list[Any]] = {"certs": [], "ocsps": [], "crls": []}
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return empty
    except (PdfError, KeyError, ValueError, TypeError):
        log.warning("Unreadable DSS; revocation data ignored")
        return empty
    return {
        "certs": list(dss.load_certs()),
        "ocsps": [asn1_ocsp.OCSPResponse.load(r.get_object().data) for r in dss.ocsps],
        "crls": [asn1_crl.CertificateList.load(r.get_object().data) for r in dss.crls],
    }


def _first_bad_revision(reader: PdfFileReader, sig: EmbeddedPdfSignature, is_last: bool) -> int | None:
    """1-based number of the first revision after ``sig`` that makes a change not allowed to it."""
    allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
    for rev in range(sig.signed_revision + 1, reader.xrefs.total_revisions):
        try:
            result = DEFAULT_DIFF_POLICY.apply(
                reader.get_historical_resolver(rev - 1),
                reader.get_historical_resolver(rev),
                field_mdp_spec=sig.fieldmdp,
                doc_mdp=sig.docmdp_level,
            )
        except (SuspiciousModification, PdfError, KeyError, ValueError, TypeError):
            return rev + 1
        if result.modification_level > allowed:
            return rev + 1
    return None


async def _verify_one(
    sig: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    is_last: bool,
    dss: tuple[bool, bool],
    doc_ts_revisions: list[int],
    revinfo: dict[str, list[Any]],
    allow_fetching: bool,
) -> SignatureReport:
    rep = SignatureReport(field_name=str(sig.field_name))
    try:
        rep.subfilter = str(sig.sig_object.get("/SubFilter", "")).lstrip("/") or None
        cert = sig.signer_cert
        rep.signer_name = cert.subject.native.get("common_name")
        rep.signer_subject = cert.subject.human_friendly
        rep.signer_serial = format(cert.serial_number, "x")
        # Without DSS data or fetching a hard-fail run can only fail: go straight to soft-fail.
        checkable = has_revocation_pointers(cert) and (allow_fetching or bool(revinfo["ocsps"] or revinfo["crls"]))
        mode = "hard-fail" if checkable else "soft-fail"
        status = await _validate(sig, roots, revinfo, mode, allow_fetching)
        revocation: Literal["not_checked", "good"] = "not_checked"
        if checkable and status.trusted:
            revocation = "good"
        elif checkable and not status.revoked:
            soft = await _validate(sig, roots, revinfo, "soft-fail", allow_fetching)
            status = soft if soft.trusted else status
    except MemoryError:
        raise
    except Exception as exc:  # a malformed signature must not hide the others
        _log_unreadable(f"signature {rep.field_name}", exc)
        rep.problems.append("signature_unreadable")
        return rep
    rep.revocation = revocation
    _fill_from_status(rep, status, is_last)
    rep.level = _pades_level(rep, sig, dss, doc_ts_revisions)
    return rep


def _fill_from_status(rep: SignatureReport, status: PdfSignatureStatus, is_last: bool) -> None:
    rep.intact = bool(status.intact)
    rep.signature_valid = bool(status.valid)
    rep.trusted = bool(status.trusted)
    rep.signing_time_claimed = status.signer_reported_dt
    rep.digest_algorithm = status.md_algorithm
    rep.signature_algorithm = status.pkcs7_signature_mechanism
    rep.coverage = _COVERAGE_NAMES.get(status.coverage, "unclear")
    rep.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    rep.modification_level = level.name.lower() if level is not None else None
    # Later signatures are form filling; only DSS/document time-stamps may follow the last one.
    allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
    rep.modified_after_signing = (
        level is None or level > allowed or status.docmdp_ok is False
    ) and not rep.covers_whole_file
    ts = status.timestamp_validity
    if ts is not None:
        rep.timestamp_present = True
        rep.timestamp_time = ts.timestamp
        rep.timestamp_valid = bool(ts.intact and ts.valid)
        rep.timestamp_trusted = bool(ts.trusted)

    if not rep.intact:
        rep.problems.append("integrity_broken")
    elif not rep.signature_valid:
        rep.problems.append("signature_invalid")
    if status.revoked:
        rep.revocation = "revoked"
        rep.problems.append("revoked")
    elif not rep.trusted and rep.intact:  # a broken digest stops validation before the chain is built
        rep.problems.append("untrusted")
    if rep.coverage in ("partial", "unclear"):
        rep.problems.append("coverage_incomplete")
    if rep.modified_after_signing:
        rep.problems.append("modified_after_signing")
    if rep.timestamp_present and not rep.timestamp_valid:
        rep.problems.append("timestamp_invalid")

    if rep.revocation == "not_checked":
        rep.warnings.append("revocation_not_checked")
    if not rep.timestamp_present:
        rep.warnings.append("no_timestamp")
    elif rep.timestamp_valid and not rep.timestamp_trusted:
        rep.warnings.append("timestamp_untrusted")
    if rep.subfilter != PADES_SUBFILTER.lstrip("/"):
        rep.warnings.append("not_pades")


def _pades_level(
    rep: SignatureReport, sig: EmbeddedPdfSignature, dss: tuple[bool, bool], doc_ts_revisions: list[int]
) -> str | None:
    """Highest PAdES baseline level the signature reaches (structural check).

    B-LT is reported when the document carries a DSS with certificates and revocation data;
    B-LTA when a document time-stamp follows the signature as well.
    """
    if rep.subfilter != PADES_SUBFILTER.lstrip("/") or not (rep.intact and rep.signature_valid):
        return None
    if not (rep.timestamp_present and rep.timestamp_valid):
        return "B-B"
    has_certs, has_revinfo = dss
    if not (has_certs and has_revinfo):
        return "B-T"
    if any(rev > sig.signed_revision for rev in doc_ts_revisions):
        return "B-LTA"
    return "B-LT"


def _dss_summary(reader: PdfFileReader) -> tuple[bool, bool]:
    try:
        dss = reader.root.get("/DSS")
        if dss is None:
            return False, False
        dss = dss.get_object()
        return "/Certs" in dss, "/OCSPs" in dss or "/CRLs" in dss
    except (PdfError, KeyError, ValueError):
        return False, False
