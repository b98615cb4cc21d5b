"""A development PKI made by an older version, or for another base URL, is upgraded on the next start."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from dossiers.services import Services
from signing.dev import DevPki, DevPkiHttp, DevRevocationResponder, dev_timestamper, ensure_dev_pki, load_issued
from signing.keys import load_pkcs12_signer
from signing.signers import sign_pdf
from signing.validation import RevocationCache, verify_pdf
from sohoa.settings import Settings, SigningSettings
from tests.devpki_v1 import write_v1_pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _public(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _ocsp_url(cert: x509.Certificate) -> str:
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    return str(aia[0].access_location.value)


def test_a_version_1_pki_is_upgraded_and_what_it_signed_stays_valid(
    tmp_path: Path, dev_pki_http: DevPkiHttp, make_pdf
) -> None:
    directory = tmp_path / "pki"
    write_v1_pki(directory)
    old = DevPki.at(directory, "rsa2048", base_url=None, version=1)
    old_root, old_agency = _cert(old.root_cert), _cert(directory / "agency.pem")
    passphrase, seal = old.passphrase(), old.seal_png.read_bytes()
    old_key = load_pkcs12_signer(old.agency_p12, passphrase)
    signed_before = sign_pdf(make_pdf(1), old_key, level="B-T", timestamper=dev_timestamper(old))

    url = dev_pki_http.base_url("upgraded")
    pki = ensure_dev_pki(directory, default_base_url=url)
    assert pki.version == 2 and pki.base_url == url and pki != old
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 2 and manifest["base_url"] == url
    for p12 in (pki.root_p12, pki.ca_p12):
        assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    # Version 1 kept no CA key: a new root, the old one retired but still trusted.
    assert _cert(pki.root_cert) != old_root
    assert [_cert(p) for p in pki.trust_roots] == [_cert(pki.root_cert), old_root]
    # Same passphrase, seal and leaf keys; new certificates that name the responder.
    assert pki.passphrase() == passphrase and pki.seal_png.read_bytes() == seal
    agency = _cert(directory / "agency.pem")
    assert agency != old_agency and _public(agency) == _public(old_agency)
    assert _ocsp_url(agency) == f"{url}/ocsp"
    assert load_issued(pki.ca_p12, passphrase).cert == _cert(pki.ca_cert)

    before = verify_pdf(signed_before, pki.trust_roots)
    assert before.valid and before.signatures[0].level == "B-T"
    key = load_pkcs12_signer(pki.agency_p12, passphrase)
    cache = RevocationCache(local={url: DevRevocationResponder(pki)})
    after = sign_pdf(make_pdf(1), key, level="B-LTA", timestamper=dev_timestamper(pki), revocation=cache)
    report = verify_pdf(after, pki.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA" and report.signatures[0].revocation == "good"

    files = {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}
    assert ensure_dev_pki(directory, default_base_url="http://elsewhere.example/dev/pki") == pki  # current: kept
    assert {p.name: p.stat().st_mtime_ns for p in directory.iterdir()} == files


def test_another_base_url_reissues_certificates_for_the_same_keys(tmp_path: Path, dev_pki_http: DevPkiHttp) -> None:
    directory = tmp_path / "pki"
    first = ensure_dev_pki(directory, base_url=dev_pki_http.base_url("first"))
    root, ca, agency = _cert(first.root_cert), _cert(first.ca_cert), _cert(directory / "agency.pem")

    moved = ensure_dev_pki(directory, base_url=dev_pki_http.base_url("second") + "/")
    assert moved.base_url == dev_pki_http.base_url("second") and moved.generation != first.generation
    assert _cert(moved.root_cert) == root and moved.trust_roots == [moved.root_cert]
    new_ca, new_agency = _cert(moved.ca_cert), _cert(directory / "agency.pem")
    assert new_ca.serial_number != ca.serial_number and _public(new_ca) == _public(ca)
    assert _public(new_agency) == _public(agency) and _ocsp_url(new_agency) == f"{moved.base_url}/ocsp"

    # Certificates of the earlier generation (in documents signed before) are still answered "good".
    request = ocsp.OCSPRequestBuilder().add_certificate(agency, new_ca, hashes.SHA1()).build()
    answer = DevRevocationResponder(moved).ocsp(request.public_bytes(serialization.Encoding.DER))
    assert ocsp.load_der_ocsp_response(answer).certificate_status == ocsp.OCSPCertStatus.GOOD


def test_the_service_upgrades_an_old_pki_and_signs_b_lta_without_a_server(tmp_path: Path, make_pdf) -> None:
    write_v1_pki(tmp_path / "var" / "pki")
    services = Services(Settings(var_dir=tmp_path / "var", signing=SigningSettings()))
    services.prepare()
    pki = services.dev_pki
    assert pki.version == 2 and pki.base_url == "http://127.0.0.1:8000/dev/pki"  # the API's address
    signed = sign_pdf(
        make_pdf(1),
        services.signing_key("agency"),
        level="B-LTA",
        timestamper=services.timestamper,
        revocation=services.revocation,
    )
    assert services.revocation.local_answers == services.revocation.fetches > 0  # nothing over the network
    report = verify_pdf(signed, services.trust_roots)
    assert report.valid and report.signatures[0].level == "B-LTA"
    services.close()
