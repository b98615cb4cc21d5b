"""The verifier's "revoked" outcome, against a dedicated test PKI whose responder learns of a revocation.

Two different claims are proven here, on the same documents signed before the revocation:

* With ``allow_fetching=True`` the verifier asks the responders named in the certificate *now*:
  the certificate revoked since is reported "revoked", named in the problems, and the report is
  not valid (B-T and B-LT alike).
* Offline, as the API and CLI verify (no fetching, see ``signing.validation.verify``), a B-LT document is
  judged on the OCSP/CRL evidence embedded in its DSS when it was signed. That evidence says
  "good", and it is right: the certificate was not revoked when the time-stamped signature was
  made, which is what PAdES long-term validation asserts. A B-T document carries no evidence:
  "not_checked" with a warning.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from signing.errors import SignerCertRevoked
from signing.keys import SigningKey
from signing.signers import sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import RevocationCache, SignatureReport, VerificationReport, verify_pdf
from testkit.pki import PkiServer

from .conftest import _make_pdf


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PkiServer]:
    with PkiServer(tmp_path / "pki") as srv:  # not the shared one: this test revokes a certificate
        yield srv


def _only(report: VerificationReport) -> SignatureReport:
    assert len(report.signatures) == 1
    return report.signatures[0]


def _sign(server: PkiServer, key: SigningKey, level: str) -> bytes:
    tsa = http_timestamper(server.pki.tsa_url)
    return sign_pdf(_make_pdf(1), key, level=level, timestamper=tsa, revocation=RevocationCache())  # type: ignore[arg-type]


def test_certificate_revoked_after_signing(server: PkiServer) -> None:
    roots = server.pki.trust_roots
    key = server.pki.key("operator")
    documents = {level: _sign(server, key, level) for level in ("B-T", "B-LT")}

    before = {level: _only(verify_pdf(pdf, roots, allow_fetching=True)) for level, pdf in documents.items()}
    assert all(sig.revocation == "good" and sig.ok for sig in before.values()), before

    server.revoke(key.cert.serial_number)

    # Asking the responder now: revoked, named, and the document is not valid.
    for level, pdf in documents.items():
        report = verify_pdf(pdf, roots, allow_fetching=True)
        sig = _only(report)
        assert sig.revocation == "revoked", (level, sig)
        assert "revoked" in sig.problems and not sig.ok and not report.valid
        assert sig.signer_serial == format(key.cert.serial_number, "x")
        assert "The certificate has been revoked" in report.render("en")
        assert "Chứng thư số đã bị thu hồi" in report.render("vi")
        assert report.to_dict()["signatures"][0]["revocation"] == "revoked"

    # Offline, as the API verifies: B-LT keeps its signing-time evidence ("good", valid) ...
    lt = verify_pdf(documents["B-LT"], roots)
    sig = _only(lt)
    assert lt.valid and sig.level == "B-LT" and sig.revocation == "good" and sig.timestamp_trusted
    assert "The certificate was not revoked at signing time" in lt.render("en")
    # ... and B-T has none: not checked, with a warning, never a silent "good".
    bt = verify_pdf(documents["B-T"], roots)
    sig = _only(bt)
    assert sig.revocation == "not_checked" and "revocation_not_checked" in sig.warnings

    # The pre-signing check now refuses the key.
    with pytest.raises(SignerCertRevoked) as info:
        _sign(server, key, "B-T")
    assert info.value.code == "SIGNER_CERT_REVOKED"


def test_verifier_does_not_fetch_unless_asked(server: PkiServer) -> None:
    """Uploaded PDFs must not make the server fetch the URLs they name (SSRF): offline by default."""
    assert inspect.signature(verify_pdf).parameters["allow_fetching"].default is False
    signed = _sign(server, server.pki.key("operator"), "B-T")
    requests = server.ocsp_requests + server.crl_requests
    report = verify_pdf(signed, server.pki.trust_roots)
    assert server.ocsp_requests + server.crl_requests == requests
    assert report.valid and _only(report).revocation == "not_checked"
