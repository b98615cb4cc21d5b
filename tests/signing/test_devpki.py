from __future__ import annotations

import datetime as dt
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from signing.dev import DEV_ORG, DevPki, ensure_dev_pki
from signing.errors import SigningKeyUnavailable
from signing.keys import RSA_PSS, load_pkcs12_signer


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_second_call_loads_the_same_pki(pki: DevPki) -> None:
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in pki.directory.iterdir()}
    again = ensure_dev_pki(pki.directory)
    assert again == pki
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in pki.directory.iterdir()}
    assert after == before


def test_concurrent_first_start_generates_once(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: ensure_dev_pki(tmp_path / "pki"), range(2)))
    assert results[0] == results[1]
    assert _cert(results[0].root_cert) == _cert(results[1].root_cert)
    assert not list((tmp_path / "pki").glob(".*.tmp"))


def test_secrets_are_protected(pki: DevPki) -> None:
    assert stat.S_IMODE(pki.passphrase_file.stat().st_mode) == 0o600
    for p12 in (pki.agency_p12, pki.operator_p12, pki.tsa_p12):
        assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    assert len(pki.passphrase()) >= 32
    for other in pki.directory.iterdir():
        if other.suffix != ".p12":
            data = other.read_bytes()
            assert b"PRIVATE KEY" not in data, other.name
            assert pki.passphrase() not in data or other == pki.passphrase_file, other.name
    assert "DEVELOPMENT ONLY" in (pki.directory / "README.txt").read_text(encoding="utf-8")


def test_chain_and_extensions(pki: DevPki) -> None:
    root, ca = _cert(pki.root_cert), _cert(pki.ca_cert)
    agency = _cert(pki.directory / "agency.pem")
    operator = _cert(pki.directory / "operator.pem")
    tsa = _cert(pki.directory / "tsa.pem")
    now = dt.datetime.now(dt.UTC)
    for cert in (root, ca, agency, operator, tsa):
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == DEV_ORG
        assert dt.timedelta(hours=23) < now - cert.not_valid_before_utc < dt.timedelta(hours=25)
        assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).critical
    for ca_cert in (root, ca):
        assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert (ca_cert.not_valid_after_utc - ca_cert.not_valid_before_utc).days >= 3650
    assert ca.issuer == root.subject
    for leaf in (agency, operator, tsa):
        assert leaf.issuer == ca.subject
        assert leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        assert 729 <= (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 731
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert agency.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "UBND phường Ba Đình"
    assert operator.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Thị Bình"
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_seal_png_is_red_round_and_transparent(pki: DevPki) -> None:
    with Image.open(pki.seal_png) as img:
        assert img.mode == "RGBA"
        assert 460 <= img.width == img.height <= 480  # 4 cm at 300 dpi
        assert round(img.info["dpi"][0]) == 300
        assert img.getpixel((0, 0))[3] == 0
        reds = [px for px in img.get_flattened_data() if px[3] > 200]
        assert reds and all(r > 150 and g < 80 and b < 80 for r, g, b, _ in reds[:500])


def test_key_loading_is_cached_and_defaults_to_pss(pki: DevPki) -> None:
    first = load_pkcs12_signer(pki.agency_p12, pki.passphrase())
    assert load_pkcs12_signer(pki.agency_p12, pki.passphrase()) is first
    assert first.subject_name == "UBND phường Ba Đình"
    assert first.algorithm == RSA_PSS
    assert first.key_size == 2048


def test_wrong_passphrase_is_coded_and_leaks_nothing(pki: DevPki) -> None:
    wrong = b"not-the-passphrase-" + pki.passphrase()[:4]
    with pytest.raises(SigningKeyUnavailable) as info:
        load_pkcs12_signer(pki.agency_p12, wrong)
    assert info.value.code == "SIGNING_KEY_UNAVAILABLE"
    text = str(info.value) + repr(info.value.to_dict())
    assert wrong.decode() not in text and pki.passphrase().decode() not in text
    with pytest.raises(SigningKeyUnavailable):
        load_pkcs12_signer(pki.directory / "missing.p12", pki.passphrase())
