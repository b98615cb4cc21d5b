"""PKCS#11 with SoftHSM2: the key is generated inside the token (non-extractable) and never leaves it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, KeyType, ObjectClass

from signing.devpki import _name
from signing.errors import HsmUnavailable, KeyCertMismatch
from signing.hsm import HsmConfig, open_hsm_key
from signing.pades import sign_pdf
from signing.testpki import PkiServer, ServedPki
from signing.timestamps import http_timestamper
from signing.verify import verify_pdf

from .conftest import _make_pdf, assert_pdfsig_valid

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki_server: PkiServer) -> Iterator[HsmConfig]:
    if not MODULE.is_file():
        pytest.fail("SoftHSM2 missing: apt-get install softhsm2")
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "sohoa-test", "--pin", PIN, "--so-pin", "13579"],
        check=True,
        capture_output=True,
    )
    with pkcs11.lib(str(MODULE)).get_token(token_label="sohoa-test").open(rw=True, user_pin=PIN) as session:
        public, _ = session.generate_keypair(
            KeyType.RSA,
            2048,
            label="agency",
            store=True,
            private_template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.SIGN: True},
        )
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"), int.from_bytes(public[Attribute.MODULUS], "big")
        )
    cert = pki_server.issue(_name("UBND phường Ba Đình (HSM thử nghiệm)"), numbers.public_key())
    cert_path = home / "agency-hsm.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    yield HsmConfig(
        MODULE, "sohoa-test", "agency", cert_path, pin=PIN, chain=(pki_server.pki.ca_cert, pki_server.pki.root_cert)
    )
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


def test_key_stays_in_the_token_and_signs_on_both_paths(
    token: HsmConfig, served: ServedPki, pdfsig: Callable[[bytes], str]
) -> None:
    key = open_hsm_key(token)
    assert PIN not in repr(token)
    # open_hsm_key logged this process in; PKCS#11 sessions share the login.
    with pkcs11.lib(str(MODULE)).get_token(token_label="sohoa-test").open() as session:
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="agency")
        assert private[Attribute.EXTRACTABLE] is False and private[Attribute.SENSITIVE] is True
    tsa = http_timestamper(served.tsa_url)
    for engine, level in (("fast", "B-LT"), ("pyhanko", "B-T")):
        signed = sign_pdf(_make_pdf(1), key, level=level, timestamper=tsa, engine=engine)  # type: ignore[arg-type]
        report = verify_pdf(signed, served.trust_roots)
        sig = report.signatures[0]
        assert report.valid and sig.level == level, report.render("en")
        assert sig.signer_name == "UBND phường Ba Đình (HSM thử nghiệm)"
        assert_pdfsig_valid(pdfsig(signed), 1)


def test_unreachable_hsm_and_wrong_certificate(token: HsmConfig, served: ServedPki) -> None:
    for bad in (
        HsmConfig(Path("/nonexistent/libpkcs11.so"), token.token_label, token.key_label, token.cert, pin=PIN),
        HsmConfig(MODULE, "no-such-token", token.key_label, token.cert, pin=PIN),
    ):
        with pytest.raises(HsmUnavailable) as info:
            open_hsm_key(bad)
        assert info.value.code == "HSM_UNAVAILABLE" and PIN not in str(info.value)
    with pytest.raises(KeyCertMismatch):
        open_hsm_key(HsmConfig(MODULE, token.token_label, token.key_label, served.directory / "agency.pem", pin=PIN))


def test_wrong_pin_in_a_fresh_process(token: HsmConfig) -> None:
    code = (
        "import sys; from pathlib import Path; from signing.hsm import HsmConfig, open_hsm_key\n"
        f"cfg = HsmConfig(Path({str(MODULE)!r}), {token.token_label!r}, 'agency',"
        f" Path({str(token.cert)!r}), pin='000000')\n"
        "try:\n    open_hsm_key(cfg)\nexcept Exception as exc:\n    print(exc.code, exc.retryable)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ)
    assert proc.stdout.strip() == "HSM_UNAVAILABLE False", proc.stderr


def test_service_settings_take_the_agency_key_from_the_token(token: HsmConfig, tmp_path: Path) -> None:
    from sohoa.settings import Settings, SigningSettings
    from workers.services import Services

    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN)
    settings = Settings(
        var_dir=tmp_path / "var",
        signing=SigningSettings(
            pki_dir=tmp_path / "pki",
            hsm_module=token.module,
            hsm_token_label=token.token_label,
            hsm_key_label=token.key_label,
            hsm_cert=token.cert,
            hsm_pin_file=pin_file,
            hsm_chain=token.chain,
        ),
    )
    key = Services(settings).signing_key("agency")
    assert key.subject_name == "UBND phường Ba Đình (HSM thử nghiệm)"
    assert Services(settings).signing_key("operator").subject_name != key.subject_name  # operator stays PKCS#12
