"""Development certificates of officers and centres, and the remote-signing client against a real HTTP server."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from cryptography.x509 import ocsp

from signing.dev import (
    DevPki,
    DevRevocationResponder,
    issue_organisation,
    issue_person,
    revoke_identity,
    revoked_serials,
)
from signing.errors import RemoteSignerInvalid, RemoteSignerUnavailable, SignerCertRevoked
from signing.keys import load_pkcs12_signer, open_remote_key
from signing.signers import sign_pdf
from signing.validation import RevocationCache, verify_pdf
from testkit.remote_signer import RemoteSigningServer

from .conftest import _make_pdf


def test_person_and_centre_certificates_are_kept_reissued_and_revocable(pki: DevPki) -> None:
    first = issue_person(pki, "officer-t1", "Lê Thị An", organisation="UBND phường Ba Đình", title="Cán bộ")
    assert issue_person(pki, "officer-t1", "Lê Thị An", organisation="UBND phường Ba Đình", title="Cán bộ") == first
    key = load_pkcs12_signer(first.p12, pki.passphrase())
    subject = key.cert.subject.native
    assert (subject["common_name"], subject["organization_name"], subject["title"]) == (
        "Lê Thị An",
        "UBND phường Ba Đình",
        "Cán bộ",
    )
    assert "DEVELOPMENT ONLY" in subject["organizational_unit_name"]
    assert first.p12.stat().st_mode & 0o077 == 0
    # The development responder vouches for it (its serial is listed as issued by the CA).
    assert pki.base_url is not None
    chain = [key.cert, *(c for c in key.signer.cert_registry if c.sha256 != key.cert.sha256)]
    answer = RevocationCache(local={pki.base_url: DevRevocationResponder(pki)}).material(chain).ocsps[0]
    assert ocsp.load_der_ocsp_response(answer).certificate_status == ocsp.OCSPCertStatus.GOOD
    # Moved to another centre: a new certificate, the old one revoked.
    moved = issue_person(pki, "officer-t1", "Lê Thị An", organisation="UBND phường Hoàn Kiếm", title="Cán bộ")
    assert moved.serial != first.serial and first.serial in revoked_serials(pki)
    with pytest.raises(SignerCertRevoked):
        RevocationCache(local={pki.base_url: DevRevocationResponder(pki)}).material(chain)
    assert revoke_identity(pki, "officer-t1") and moved.serial in revoked_serials(pki)
    assert not revoke_identity(pki, "officer-t1")
    centre = load_pkcs12_signer(issue_organisation(pki, "centre-t1", "UBND phường Tây Hồ").p12, pki.passphrase())
    assert centre.subject_name == "UBND phường Tây Hồ"
    with pytest.raises(ValueError):
        issue_person(pki, "../escape", "x", organisation="y")


class _Forger(RemoteSigningServer):
    """A service that answers with a signature of other bytes."""

    def sign(self, body: dict[str, Any]) -> str:
        body = body | {"digest": base64.b64encode(bytes(len(base64.b64decode(body["digest"])))).decode()}
        return super().sign(body)


def test_remote_key_signs_through_the_service_and_bad_answers_are_refused(pki: DevPki, tmp_path: Path) -> None:
    issued = issue_person(pki, "remote-t2", "Đỗ Thị Cúc", organisation="UBND phường Ba Đình")
    with RemoteSigningServer(issued.p12, pki.passphrase(), token="s3cret") as server:
        with pytest.raises(RemoteSignerInvalid):
            open_remote_key(server.url)  # no token: 401
        key = open_remote_key(server.url, token="s3cret")
        assert key.subject_name == "Đỗ Thị Cúc"
        for engine in ("pyhanko", "fast"):
            signed = sign_pdf(_make_pdf(1), key, level="B-B", engine=engine)  # type: ignore[arg-type]
            report = verify_pdf(signed, pki.trust_roots)
            assert report.valid and report.signatures[0].signer_name == "Đỗ Thị Cúc", report.render("en")
        assert server.requests == 2
    with pytest.raises(RemoteSignerUnavailable):
        sign_pdf(_make_pdf(1), key, level="B-B")  # the service is gone
    with _Forger(issued.p12, pki.passphrase()) as forger:
        forged = open_remote_key(forger.url)
        with pytest.raises(RemoteSignerInvalid, match="does not verify"):
            sign_pdf(_make_pdf(1), forged, level="B-B")
