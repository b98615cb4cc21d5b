"""Verifying signed PDFs and reporting on them: the verifier, its Vietnamese/English and ETSI reports,
the sandbox that runs it on untrusted uploads, the cheap pre-checks, and revocation retrieval.

The face leaves out the function ``declared_cost``: it would hide the module of that name.
"""

from __future__ import annotations

from signing.validation.active_content import scan
from signing.validation.declared_cost import (
    MAX_HEX_DIGITS_TOTAL,
    MAX_SIGNATURE_HEX_DIGITS,
    refuse_if_too_costly,
)
from signing.validation.etsi import VR, etsi_report, main_indications
from signing.validation.report import Lang, SignatureReport, VerificationReport, message
from signing.validation.revocation import (
    DEFAULT_MAX_AGE,
    PROCESS_RESPONDERS,
    LtvMaterial,
    RevocationCache,
    check_validity_period,
    default_cache,
    has_revocation_pointers,
    order_chain,
)
from signing.validation.sandbox import SandboxFault, VerifySandbox
from signing.validation.verify import load_trust_roots, regular_signatures, signature_timestamp_token, verify_pdf

__all__ = [
    "DEFAULT_MAX_AGE",
    "MAX_HEX_DIGITS_TOTAL",
    "MAX_SIGNATURE_HEX_DIGITS",
    "PROCESS_RESPONDERS",
    "VR",
    "Lang",
    "LtvMaterial",
    "RevocationCache",
    "SandboxFault",
    "SignatureReport",
    "VerificationReport",
    "VerifySandbox",
    "check_validity_period",
    "default_cache",
    "etsi_report",
    "has_revocation_pointers",
    "load_trust_roots",
    "main_indications",
    "message",
    "order_chain",
    "refuse_if_too_costly",
    "regular_signatures",
    "scan",
    "signature_timestamp_token",
    "verify_pdf",
]
