"""B-LT/B-LTA signing checks the time-stamping unit's certificate too: a revoked TSA unit refuses signing.

Against the served test PKI (OCSP and CRL over HTTP) and the development PKI (answered in-process).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from signing.dev import DevPkiHttp, DevRevocationResponder, dev_timestamper, ensure_dev_pki, revoke
from signing.errors import SignerCertRevoked
from signing.keys import load_pkcs12_signer
from signing.signers import sign_pdf
from signing.validation import RevocationCache, verify_pdf
from testkit.pki import PkiServer


@pytest.mark.parametrize("engine", ["fast", "pyhanko"])
def test_a_revoked_tsa_unit_of_the_served_pki_refuses_b_lta(pki_server: PkiServer, make_pdf, engine: str) -> None:
    key = pki_server.pki.key("agency")
    good = pki_server.short_lived_tsa(400)
    signed = sign_pdf(make_pdf(1), key, level="B-LTA", timestamper=good, revocation=RevocationCache(), engine=engine)
    report = verify_pdf(signed, pki_server.pki.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA"

    unit = pki_server.short_lived_tsa(400)
    pki_server.revoke(unit.tsa.cert.serial_number)
    for level in ("B-LT", "B-LTA"):
        with pytest.raises(SignerCertRevoked) as info:
            sign_pdf(make_pdf(1), key, level=level, timestamper=unit, revocation=RevocationCache(), engine=engine)
        assert info.value.code == "SIGNER_CERT_REVOKED"
        assert "TSA" in info.value.detail and format(unit.tsa.cert.serial_number, "x") in info.value.detail


def test_a_revoked_development_tsa_refuses_b_lta(tmp_path: Path, dev_pki_http: DevPkiHttp, make_pdf) -> None:
    pki = ensure_dev_pki(tmp_path / "pki", base_url=dev_pki_http.base_url(uuid.uuid4().hex[:8]))
    assert pki.base_url is not None
    key = load_pkcs12_signer(pki.agency_p12, pki.passphrase())
    tsa = dev_timestamper(pki)
    revoke(pki, tsa.tsa.cert.serial_number)
    cache = RevocationCache(local={pki.base_url: DevRevocationResponder(pki)})
    with pytest.raises(SignerCertRevoked) as info:
        sign_pdf(make_pdf(1), key, level="B-LTA", timestamper=tsa, revocation=cache)
    assert info.value.code == "SIGNER_CERT_REVOKED" and "Time-Stamping" in info.value.detail
