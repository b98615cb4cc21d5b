"""Development and testing only: the development PKI, its revocation responder and TSA, and their HTTP servers.

Production code never imports this package; the embedded/dev mode reaches it only from
``dossiers.services`` and the ``/dev`` routes of ``api.routes_public`` (tests/test_floors.py checks it).
"""

from __future__ import annotations

from signing.dev.pki import (
    AGENCY_NAME,
    DEV_ORG,
    OPERATOR_NAME,
    SEAL_TEXT,
    DevPki,
    IssuedIdentity,
    KeyAlgorithm,
    ensure_dev_pki,
    existing_dev_pki,
    issue_organisation,
    issue_person,
    issued_identity,
    load_issued,
    revoke_identity,
)
from signing.dev.pki_http import DevPkiHttp
from signing.dev.revinfo import (
    CRL_TYPE,
    OCSP_REQUEST_TYPE,
    OCSP_RESPONSE_TYPE,
    build_crl,
    build_ocsp,
    crl_pointer,
    ocsp_refusal,
    parse_ocsp_request,
    revocation_pointers,
)
from signing.dev.revocation import CRL_NAMES, DevRevocationResponder, revoke, revoked_serials
from signing.dev.seal import draw_round_seal
from signing.dev.tsa import DevTimeStamper, dev_timestamper
from signing.dev.tsa_server import REPLY_CONTENT_TYPE, DevTsaResponder

__all__ = [
    "AGENCY_NAME",
    "CRL_NAMES",
    "CRL_TYPE",
    "DEV_ORG",
    "OCSP_REQUEST_TYPE",
    "OCSP_RESPONSE_TYPE",
    "OPERATOR_NAME",
    "REPLY_CONTENT_TYPE",
    "SEAL_TEXT",
    "DevPki",
    "DevPkiHttp",
    "DevRevocationResponder",
    "DevTimeStamper",
    "DevTsaResponder",
    "IssuedIdentity",
    "KeyAlgorithm",
    "build_crl",
    "build_ocsp",
    "crl_pointer",
    "dev_timestamper",
    "draw_round_seal",
    "ensure_dev_pki",
    "existing_dev_pki",
    "issue_organisation",
    "issue_person",
    "issued_identity",
    "load_issued",
    "ocsp_refusal",
    "parse_ocsp_request",
    "revocation_pointers",
    "revoke",
    "revoke_identity",
    "revoked_serials",
]
