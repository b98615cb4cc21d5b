"""The service serves the development PKI's CRLs and OCSP responder at /dev/pki, like /dev/tsa."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient

from api.app import create_app
from signing.dev import DevPki
from signing.validation import RevocationCache
from sohoa.settings import Settings, SigningSettings
from testkit.pki import ServedPki
from tests.api.conftest import Api
from tests.conftest import production_signing

OCSP_QUERY = {"Content-Type": "application/ocsp-request"}


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _chain(leaf: Path, pki: DevPki) -> list[asn1_x509.Certificate]:
    return [
        asn1_x509.Certificate.load(_cert(p).public_bytes(serialization.Encoding.DER))
        for p in (leaf, pki.ca_cert, pki.root_cert)
    ]


def _request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    return builder.add_extension(x509.OCSPNonce(nonce), critical=False).build().public_bytes(serialization.Encoding.DER)


def test_crls_are_served_signed_by_their_issuer(api: Api) -> None:
    pki = api.services.dev_pki
    for name, issuer in (("ca.crl", _cert(pki.ca_cert)), ("root.crl", _cert(pki.root_cert))):
        reply = api.client.get(f"/dev/pki/{name}")
        assert reply.status_code == 200 and reply.headers["content-type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(reply.content)
        assert crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    assert api.client.get("/dev/pki/other.crl").status_code == 404


def test_ocsp_by_post_and_get(api: Api) -> None:
    pki = api.services.dev_pki
    agency, ca = _cert(pki.directory / "agency.pem"), _cert(pki.ca_cert)
    nonce = os.urandom(32)
    query = _request(agency, ca, nonce)
    posted = api.client.post("/dev/pki/ocsp", content=query, headers=OCSP_QUERY)
    assert posted.status_code == 200 and posted.headers["content-type"] == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(posted.content)
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD and answer.serial_number == agency.serial_number
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce

    got = api.client.get("/dev/pki/ocsp/" + quote(base64.b64encode(query).decode(), safe=""))
    assert ocsp.load_der_ocsp_response(got.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert api.client.post("/dev/pki/ocsp", content=query).status_code == 415
    junk = api.client.post("/dev/pki/ocsp", content=b"junk", headers=OCSP_QUERY)
    assert ocsp.load_der_ocsp_response(junk.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_what_the_service_serves_is_what_signing_accepts_and_a_revocation_shows(api: Api) -> None:
    """The revocation cache asks the served routes (through the test client) as it would over HTTP."""
    from signing.dev import revoke
    from signing.errors import SignerCertRevoked

    pki = api.services.dev_pki
    assert pki.base_url is not None
    base = pki.base_url

    def over_http(url: str, body: bytes | None) -> bytes | None:
        path = "/dev/pki" + url[len(base) :]
        reply = api.client.post(path, content=body, headers=OCSP_QUERY) if body is not None else api.client.get(path)
        return reply.content if reply.status_code == 200 else None

    material = RevocationCache(local={base: over_http}).material(_chain(pki.directory / "operator.pem", pki))
    assert len(material.ocsps) == 1 and len(material.crls) == 1  # the operator by OCSP, the CA by the root CRL

    # Revoke in a PKI of this test's own (the shared one serves other tests).
    own = api.services.settings.model_copy(
        update={"signing": SigningSettings(pki_dir=api.services.settings.var_dir / "own-pki")}
    )
    with TestClient(create_app(own, start_workers=False)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        operator = _cert(services.dev_pki.directory / "operator.pem")
        revoke(services.dev_pki, operator.serial_number)
        crl = x509.load_der_x509_crl(client.get("/dev/pki/ca.crl").content)
        assert crl.get_revoked_certificate_by_serial_number(operator.serial_number) is not None
        query = _request(operator, _cert(services.dev_pki.ca_cert), b"n")
        answer = ocsp.load_der_ocsp_response(client.post("/dev/pki/ocsp", content=query, headers=OCSP_QUERY).content)
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
        with pytest.raises(SignerCertRevoked):  # and the CLI's in-process answer says the same
            services.revocation.material(_chain(services.dev_pki.directory / "operator.pem", services.dev_pki))


def test_absent_in_production(tmp_path: Path, served: ServedPki) -> None:
    settings = Settings(var_dir=tmp_path / "var", signing=SigningSettings(**production_signing(served)))  # type: ignore[arg-type]
    with TestClient(create_app(settings, start_workers=False)) as client:
        assert client.get("/dev/pki/ca.crl").status_code == 404
        assert client.get("/dev/pki/root.crl").status_code == 404
        assert client.post("/dev/pki/ocsp", content=b"x", headers=OCSP_QUERY).status_code == 404
        assert client.get("/dev/pki/ocsp/MA==").status_code == 404
