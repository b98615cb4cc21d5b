"""PKCS#11 with SoftHSM2: the key is generated inside the token (non-extractable) and never leaves it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography.hazmat.primitives import serialization
from pkcs11 import Attribute, ObjectClass
from pydantic import ValidationError

from signing.dev.pki import _name
from signing.errors import HsmUnavailable, KeyCertMismatch
from signing.keys import HsmConfig, open_hsm_key
from signing.signers import sign_pdf
from signing.timestamps import http_timestamper
from signing.validation import verify_pdf
from sohoa.settings import Settings, SigningSettings
from testkit.pki import PkiServer, ServedPki
from testkit.softhsm import MODULE, PIN, SoftHsmToken
from tests.conftest import production_signing

from .conftest import _make_pdf, assert_pdfsig_valid


@pytest.fixture(scope="module")
def token(softhsm_token: SoftHsmToken, pki_server: PkiServer) -> HsmConfig:
    public = softhsm_token.generate_rsa("agency")
    cert = pki_server.issue(_name("UBND phường Ba Đình (HSM thử nghiệm)"), public)
    cert_path = Path(os.environ["SOFTHSM2_CONF"]).parent / "agency-hsm.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return HsmConfig(
        MODULE, "sohoa-test", "agency", cert_path, pin=PIN, chain=(pki_server.pki.ca_cert, pki_server.pki.root_cert)
    )


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
        "import sys; from pathlib import Path; from signing.keys.hsm import HsmConfig, open_hsm_key\n"
        f"cfg = HsmConfig(Path({str(MODULE)!r}), {token.token_label!r}, 'agency',"
        f" Path({str(token.cert)!r}), pin='000000')\n"
        "try:\n    open_hsm_key(cfg)\nexcept Exception as exc:\n    print(exc.code, exc.retryable)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ)
    assert proc.stdout.strip() == "HSM_UNAVAILABLE False", proc.stderr


def _hsm_signing(token: HsmConfig, tmp_path: Path, **extra: object) -> SigningSettings:
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN)
    return SigningSettings(
        hsm_module=token.module,
        hsm_token_label=token.token_label,
        hsm_key_label=token.key_label,
        hsm_cert=token.cert,
        hsm_pin_file=pin_file,
        hsm_chain=token.chain,
        **extra,  # type: ignore[arg-type]
    )


def _has_image(xobject: Any, depth: int = 0) -> bool:
    if xobject.get("/Subtype") == "/Image":
        return True
    resources = xobject.get("/Resources") or {}
    inner = resources.get("/XObject") or {}
    return depth < 5 and any(_has_image(inner[name], depth + 1) for name in inner)


def _signature_shows_an_image(pdf: bytes) -> bool:
    """Whether a signature field's appearance draws an image (the seal)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for annot in page.obj.get("/Annots") or []:
                if annot.get("/FT") == "/Sig" and "/AP" in annot and _has_image(annot.AP.N):
                    return True
    return False


def test_hsm_alone_is_refused_rather_than_completed_with_development_keys(token: HsmConfig, tmp_path: Path) -> None:
    """The README's HSM variables alone once signed copies with the dev operator key and trusted only the dev root."""
    with pytest.raises(ValidationError) as info:
        Settings(var_dir=tmp_path / "var", signing=_hsm_signing(token, tmp_path))
    for missing in ("signing.operator_p12", "signing.trust_roots", "signing.tsa_url"):
        assert missing in str(info.value)
    assert PIN not in str(info.value)
    assert not (tmp_path / "var").exists()


def test_production_service_signs_with_the_token_and_trusts_only_the_configured_root(
    token: HsmConfig, served: ServedPki, pki_server: PkiServer, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from storage.catalogue.clients import create_client, list_clients
    from storage.catalogue.models import ClientRole
    from testkit.scheduling import run_steps
    from tests.api.conftest import Api, push_dossier

    settings = Settings(
        var_dir=tmp_path / "var",
        signing=_hsm_signing(token, tmp_path, **production_signing(served, agency_p12=None)),
    )
    with TestClient(create_app(settings, start_workers=False)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert not services.uses_dev_pki
        assert services.trust_roots == [served.root_cert]
        assert list_clients(services.catalogue) == []  # no development station or officer key
        query = {"Content-Type": "application/timestamp-query"}
        assert client.post("/dev/tsa", content=b"0", headers=query).status_code == 404
        assert services.signing_key("agency").subject_name == "UBND phường Ba Đình (HSM thử nghiệm)"
        assert services.signing_key("operator").subject_name == "Nguyễn Thị Bình (thử nghiệm)"

        # An officer issues an e-result: the pipeline signs it in the token, time-stamped by the configured TSA.
        def key(role: ClientRole) -> dict[str, str]:
            return {"Authorization": f"Bearer {create_client(services.catalogue, role.value, role)}"}

        api = Api(client, services, key(ClientRole.STATION), key(ClientRole.OFFICER))
        code = "000.00.12.H26-261121-0901"
        push_dossier(api, code)
        spec = {"title": "Giấy xác nhận", "body": ["Ký bằng khóa trong HSM."], "level": "B-LT"}
        issued = client.post(f"/api/v1/dossiers/{code}/results/from-template", json=spec, headers=api.officer)
        assert issued.status_code == 202, issued.text
        stamps = pki_server.tsa_requests
        assert len(run_steps(services)) == 2
        assert pki_server.tsa_requests > stamps
        view = client.get(f"/api/v1/results/{issued.json()['code']}", headers=api.officer).json()
        assert view["state"] == "done", view
        pdf = client.get(view["download_url"], headers=api.officer).content
        report = verify_pdf(pdf, services.trust_roots)
        assert report.valid and report.signatures[0].level == "B-LT", report.render("en")
        assert report.signatures[0].signer_name == "UBND phường Ba Đình (HSM thử nghiệm)"
        assert _signature_shows_an_image(pdf)  # the agency's seal (NĐ 30/2020)
        # The public verifier (portal, /kiem-tra) trusts it too.
        checked = client.post("/api/v1/verify", content=pdf, headers={"Content-Type": "application/pdf"})
        assert checked.status_code == 200 and checked.json()["valid"] is True, checked.text
    assert not (settings.var_dir / "pki").exists()
    assert not (settings.var_dir / "dev-credentials.json").exists()
