"""The development PKI publishes CRLs and OCSP: pointers in its certificates, answers in-process, revocation.

The responder is asked through ``RevocationCache``'s local responders, as the CLI does without the
service; the HTTP side is in ``tests/api/test_dev_pki_routes.py``.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from signing.dev import DevPki, DevPkiHttp, DevRevocationResponder, ensure_dev_pki, revoke, revoked_serials
from signing.errors import RevocationUnavailable, SignerCertRevoked
from signing.validation import RevocationCache
from testkit.pki import PkiServer, ServedPki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _asn1(path: Path) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_cert(path).public_bytes(serialization.Encoding.DER))


def _chain(pki: DevPki | ServedPki, leaf: str) -> list[asn1_x509.Certificate]:
    return [_asn1(pki.directory / f"{leaf}.pem"), _asn1(pki.ca_cert), _asn1(pki.root_cert)]


@pytest.fixture
def own_pki(tmp_path: Path, dev_pki_http: DevPkiHttp) -> DevPki:
    """A PKI of this test's own, to revoke in."""
    return ensure_dev_pki(tmp_path / "pki", base_url=dev_pki_http.base_url(uuid.uuid4().hex[:8]))


def _ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())
    return builder.add_extension(x509.OCSPNonce(nonce), critical=False).build().public_bytes(serialization.Encoding.DER)


def test_every_certificate_below_the_root_names_a_crl_and_the_leaves_the_ocsp_responder(pki: DevPki) -> None:
    assert pki.base_url is not None and pki.version == 2
    root = _cert(pki.root_cert)
    with pytest.raises(x509.ExtensionNotFound):
        root.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    expected = {"ca": "root.crl", "agency": "ca.crl", "operator": "ca.crl", "tsa": "ca.crl"}
    for name, crl in expected.items():
        cert = _cert(pki.directory / f"{name}.pem")
        if name == "ca":  # an offline root publishes a CRL only (see signing.dev.pki)
            with pytest.raises(x509.ExtensionNotFound):
                cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
        else:
            aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
            ocsp_urls = [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP]
            assert ocsp_urls == [f"{pki.base_url}/ocsp"], name
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        assert [n.value for point in points for n in point.full_name or []] == [f"{pki.base_url}/{crl}"], name


def test_in_process_answers_good_then_revoked_after_revoke(own_pki: DevPki) -> None:
    assert own_pki.base_url is not None
    chain = _chain(own_pki, "operator")
    cache = RevocationCache(local={own_pki.base_url: DevRevocationResponder(own_pki)})
    material = cache.material(chain)
    # the operator by OCSP (signed by the CA), the CA by the root's CRL
    assert cache.local_answers == 2 and len(material.ocsps) == 1 and len(material.crls) == 1
    assert ocsp.load_der_ocsp_response(material.ocsps[0]).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert x509.load_der_x509_crl(material.crls[0]).issuer == _cert(own_pki.root_cert).subject

    serial = chain[0].serial_number
    revoke(own_pki, serial)
    assert serial in revoked_serials(own_pki)
    restarted = DevRevocationResponder(own_pki)  # the state is in the folder: a new process sees it
    with pytest.raises(SignerCertRevoked) as info:
        RevocationCache(local={own_pki.base_url: restarted}).material(chain)
    assert info.value.code == "SIGNER_CERT_REVOKED" and format(serial, "x") in info.value.detail
    listed = RevocationCache(local={own_pki.base_url: restarted}).material(chain, refuse_revoked=False)
    answer = ocsp.load_der_ocsp_response(listed.ocsps[0])
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED

    ca = _cert(own_pki.ca_cert)
    crl = x509.load_der_x509_crl(restarted.crl("ca.crl") or b"")
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    root_crl = x509.load_der_x509_crl(restarted.crl("root.crl") or b"")
    assert root_crl.is_signature_valid(_cert(own_pki.root_cert).public_key()) and len(root_crl) == 0  # type: ignore[arg-type]
    assert restarted.crl("other.crl") is None
    # The agency's certificate, never revoked, is still good.
    assert RevocationCache(local={own_pki.base_url: restarted}).material(_chain(own_pki, "agency")).ocsps


def test_ocsp_answers_are_signed_by_the_issuer_and_echo_the_nonce(pki: DevPki, served: ServedPki) -> None:
    responder = DevRevocationResponder(pki)
    root, ca, agency = _cert(pki.root_cert), _cert(pki.ca_cert), _cert(pki.agency_p12.with_suffix(".pem"))
    for cert, issuer in ((agency, ca), (ca, root)):
        nonce = os.urandom(32)
        answer = ocsp.load_der_ocsp_response(responder.ocsp(_ocsp_request(cert, issuer, nonce)))
        assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD and answer.serial_number == cert.serial_number
        assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
        issuer.public_key().verify(  # type: ignore[call-arg, union-attr]
            answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(), answer.signature_hash_algorithm
        )
        assert answer.next_update_utc is not None and answer.next_update_utc > datetime.now(UTC)

    # Another CA's certificate: not ours (None to the local resolver, "unauthorized" over HTTP).
    other = _ocsp_request(_cert(served.directory / "agency.pem"), _cert(served.ca_cert), b"n")
    assert responder(f"{pki.base_url}/ocsp", other) is None
    refused = ocsp.load_der_ocsp_response(responder.ocsp(other))
    assert refused.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
    malformed = ocsp.load_der_ocsp_response(responder.ocsp(b"\x30\x03junk"))
    assert malformed.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    assert responder("http://elsewhere.example/ocsp", other) is None


def test_a_serial_the_ca_never_issued_is_unknown(pki: DevPki, tmp_path: Path) -> None:
    from signing.dev import revocation_pointers
    from signing.dev.pki import _issue, _name, _new_key, load_issued

    assert pki.base_url is not None
    ca = load_issued(pki.ca_p12, pki.passphrase())
    stray = _issue(
        _name("Không do PKI cấp"),
        _new_key("rsa2048"),
        ca,
        ca=False,
        years=1,
        extensions=revocation_pointers(f"{pki.base_url}/ca.crl", f"{pki.base_url}/ocsp"),
    )
    chain = [asn1_x509.Certificate.load(stray.cert.public_bytes(serialization.Encoding.DER)), *_chain(pki, "ca")[1:]]
    with pytest.raises(RevocationUnavailable, match="unknown"):
        RevocationCache(local={pki.base_url: DevRevocationResponder(pki)}).material(chain)


def test_not_before_refetches_ocsp_answers_given_before_it(own_pki: DevPki) -> None:
    assert own_pki.base_url is not None
    t0 = datetime.now(UTC).replace(microsecond=0)
    clock = [t0]
    responder = DevRevocationResponder(own_pki, clock=lambda: clock[0])
    cache = RevocationCache(local={own_pki.base_url: responder}, clock=lambda: clock[0])
    chain = _chain(own_pki, "agency")
    cache.material(chain)
    assert cache.fetches == 2
    clock[0] = t0 + timedelta(minutes=10)
    cache.material(chain)
    cache.material(chain, not_before=t0 - timedelta(minutes=1))
    assert cache.fetches == 2  # cached answers given after not_before are reused

    stamped = clock[0] - timedelta(seconds=1, microseconds=-400_000)  # a genTime with a fraction of a second
    fresh = cache.material(chain, not_before=stamped)
    assert cache.fetches == 4
    for der in fresh.ocsps:
        answer = ocsp.load_der_ocsp_response(der)  # (producedAt is the real clock's, thisUpdate the test's)
        assert answer.this_update_utc >= stamped.replace(microsecond=0)
    cache.material(chain, not_before=stamped)
    assert cache.fetches == 4  # and reused from then on


def test_not_before_refetches_a_crl_fetched_before_it(pki_server: PkiServer) -> None:
    clock = [datetime.now(UTC)]
    cache = RevocationCache(clock=lambda: clock[0])
    chain = _chain(pki_server.pki, "ca")[1:]  # the issuing CA names a CRL only
    cache.material(chain)
    before = pki_server.crl_requests
    clock[0] += timedelta(seconds=5)
    cache.material(chain, not_before=clock[0] - timedelta(hours=1))
    assert pki_server.crl_requests == before
    material = cache.material(chain, not_before=clock[0] - timedelta(seconds=1))
    assert pki_server.crl_requests == before + 1 and len(material.crls) == 1


def test_a_production_process_gets_no_local_responder(tmp_path: Path, served: ServedPki) -> None:
    from dossiers.services import Services
    from sohoa.settings import Settings, SigningSettings
    from tests.conftest import production_signing

    settings = Settings(var_dir=tmp_path / "var", signing=SigningSettings(**production_signing(served)))  # type: ignore[arg-type]
    services = Services(settings)
    assert not services.uses_dev_pki and services.revocation.local is None
