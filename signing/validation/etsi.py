"""ETSI TS 119 102-2 signature validation reports (XML), from pyHanko's AdES validation.

The Vietnamese report (``signing.validation.verify``) is what officers and citizens read. This one is for other
validators and auditors: pyHanko's implementation of the ETSI EN 319 102-1 validation processes,
serialised as TS 119 102-2 XML (``vr:ValidationReport``, one ``vr:SignatureValidationReport`` per
signature, the certificates and revocation data used as validation objects).

Choices, and why:

* Same trust roots as the Vietnamese report, same offline stance: nothing is fetched (addresses in an
  uploaded PDF come from whoever made it, see ``signing.validation.verify``). Revocation data comes from the
  document only (its DSS, or revocation data archived in the signature).
* Revocation is required only when the certificate names where to check it (pyHanko's "hard-fail"):
  such a certificate without embedded OCSP/CRL data gives INDETERMINATE where the Vietnamese report
  says valid with the warning ``revocation_not_checked``. That is what EN 319 102-1 asks; the ETSI
  report must not be softer than the standard it claims.
* Process per signature, by what the document carries for it (EN 319 102-1): a document time-stamp
  after it (B-LTA): the process for signatures providing long-term availability and integrity (5.6,
  "LTA"); else a signature time-stamp (B-T, B-LT): the process for signatures with time and with
  long-term validation material (5.5, "LTVM"); else (B-B) the basic process (5.3). Each stronger
  process would answer a weaker signature with a formal INDETERMINATE (no signature time-stamp, or no
  proof of existence for the DSS contents), which says nothing about the signature.
* The AdES indication judges the signature, not the PDF around it: a change made after signing in a
  later revision lowers the Vietnamese verdict (``modified_after_signing``) but is not an AdES failure.
* Hybrid-reference files are refused here too (PdfHybridXrefUnverifiable), like in ``signing.validation.verify``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.report.tools import NAMESPACES, generate_report
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer

from signing.errors import PdfInvalid, PdfNotSigned
from signing.validation.verify import (
    dss_revinfo,
    load_trust_roots,
    open_pdf,
    refuse_hybrid,
    regular_signatures,
    signature_timestamp_token,
    unreadable_as_invalid,
)

log = logging.getLogger(__name__)
VR = NAMESPACES["vr"]
MAIN_INDICATION_PREFIX = "urn:etsi:019102:mainindication:"


def etsi_report(pdf: bytes, trust_roots: Sequence[Path]) -> str:
    """The TS 119 102-2 XML report of every signature of ``pdf`` (not its document time-stamps).

    Raises PdfInvalid (unreadable or encrypted), PdfNotSigned (no signature to report on), PdfHybridXrefUnverifiable,
    TrustRootInvalid. Do not call from inside a running event loop; use :func:`async_etsi_report`.
    """
    return asyncio.run(async_etsi_report(pdf, trust_roots))


async def async_etsi_report(pdf: bytes, trust_roots: Sequence[Path]) -> str:
    roots = load_trust_roots(trust_roots)
    return await unreadable_as_invalid(_report(pdf, roots))


def main_indications(xml: str) -> list[str]:
    """Each signature's main indication in a report: "total-passed", "total-failed" or "indeterminate"."""
    path = "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:MainIndication"
    found = ElementTree.fromstring(xml.encode("utf-8")).findall(path, {"vr": VR})
    return [(element.text or "").removeprefix(MAIN_INDICATION_PREFIX) for element in found]


async def _report(pdf: bytes, roots: list[asn1_x509.Certificate]) -> str:
    reader = open_pdf(pdf)
    signatures = regular_signatures(reader)
    if not signatures:
        raise PdfNotSigned("no signature to report on")
    refuse_hybrid(reader)
    spec = _spec(roots, _local_knowledge(dss_revinfo(reader)))
    doc_ts = [sig.signed_revision for sig in reader.embedded_signatures if sig.sig_object_type == "/DocTimeStamp"]
    reports = [await _signature_report(sig, spec, any(r > sig.signed_revision for r in doc_ts)) for sig in signatures]
    log.info("ETSI validation report: signatures=%s", len(reports))
    return _merge(reports)


def _spec(roots: list[asn1_x509.Certificate], knowledge: LocalKnowledge) -> SignatureValidationSpec:
    return SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(roots),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy.from_legacy("hard-fail")),
        ),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
            certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
        ),
        local_knowledge=knowledge,
    )


def _local_knowledge(revinfo: dict[str, list[Any]]) -> LocalKnowledge:
    """The DSS's certificates and revocation data (the LTA process reads the DSS itself)."""
    return LocalKnowledge(
        known_certs=revinfo["certs"],
        known_ocsps=[container for ocsp in revinfo["ocsps"] for container in OCSPContainer.load_multi(ocsp)],
        known_crls=[CRLContainer(crl_data=crl) for crl in revinfo["crls"]],
    )


async def _signature_report(sig: EmbeddedPdfSignature, spec: SignatureValidationSpec, archived: bool) -> str:
    """One signature's report, from the process that fits it (see the module docstring)."""
    digest = sig.compute_digest()
    result: ades.AdESBasicValidationResult[Any]
    if archived:  # the LTA process reads the DSS itself, with the proofs of existence the time-stamps give
        sig.compute_integrity_info()  # it reports the PDF integrity summary too (coverage, changes)
        lta_spec = PdfSignatureValidationSpec(dataclasses.replace(spec, local_knowledge=LocalKnowledge()))
        result = await ades.ades_lta_validation(sig, lta_spec)
    elif _has_signature_timestamp(sig):
        result = await ades.ades_with_time_validation(sig.signed_data, spec, raw_digest=digest)
    else:
        result = await ades.ades_basic_validation(sig.signed_data, spec, raw_digest=digest)
    if result.api_status is None:  # the CMS structure itself did not validate: nothing to describe
        raise PdfInvalid(f"signature {sig.field_name}: {result.ades_subindic} {result.failure_msg or ''}".strip())
    log.debug("AdES validation of %s: %s", sig.field_name, result.ades_subindic)
    return generate_report(sig, result)


def _has_signature_timestamp(sig: EmbeddedPdfSignature) -> bool:
    return signature_timestamp_token(sig) is not None


def _merge(reports: list[str]) -> str:
    """One ValidationReport: every signature's report, then each validation object once (ids are digests)."""
    if len(reports) == 1:
        return reports[0]
    for prefix, uri in NAMESPACES.items():
        ElementTree.register_namespace(prefix, uri)
    first, *others = (ElementTree.fromstring(xml.encode("utf-8")) for xml in reports)
    objects = first.find(f"{{{VR}}}SignatureValidationObjects")
    for other in others:
        for report in other.findall(f"{{{VR}}}SignatureValidationReport"):
            first.insert(len(first.findall(f"{{{VR}}}SignatureValidationReport")), report)
        extra = other.find(f"{{{VR}}}SignatureValidationObjects")
        if extra is None:
            continue
        if objects is None:
            objects = extra
            first.append(objects)
            continue
        known = {vo.get("id") for vo in objects}
        objects.extend(vo for vo in extra if vo.get("id") not in known)
    ElementTree.indent(first, space="  ")
    return ElementTree.tostring(first, encoding="unicode", xml_declaration=True)
