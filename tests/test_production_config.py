"""Production signing configuration: complete or refused at start-up, never completed with development keys,
the development trust root, the development TSA or development API keys; the embedded default unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import tsp
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import ValidationError

from api.app import create_app
from dossiers.bootstrap import ensure_dev_credentials
from dossiers.errors import SigningConfigError
from dossiers.result_render import render_result_pdf
from dossiers.services import Services
from signing.signers import sign_pdf
from signing.validation import verify_pdf
from sohoa.settings import Settings, SigningSettings, WorkerSettings
from storage.catalogue.clients import list_clients
from storage.catalogue.models import ClientRole
from testkit.pki import PkiServer, ServedPki
from tests.conftest import production_signing

TSA_QUERY = {"Content-Type": "application/timestamp-query"}


def production_settings(tmp_path: Path, served: ServedPki, **changes: object) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        signing=SigningSettings(**production_signing(served, **changes)),  # type: ignore[arg-type]
        workers=WorkerSettings(poll_interval_s=0.05),
    )


def query_tsa() -> bytes:
    imprint = {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x11" * 32}
    return tsp.TimeStampReq({"version": 1, "message_imprint": imprint, "cert_req": True}).dump()


@pytest.mark.parametrize(
    ("signing", "named"),
    [
        pytest.param(
            {"p12_passphrase_file": None},
            ["signing.agency_p12 and signing.operator_p12 need signing.p12_passphrase_file"],
            id="p12-without-passphrase",
        ),
        pytest.param(
            {"operator_p12": None, "trust_roots": (), "tsa_url": None},
            ["operator key is missing", "signing.trust_roots", "signing.tsa_url"],
            id="agency-p12-only",
        ),
        pytest.param({"tsa_url": None}, ["signing.tsa_url is missing"], id="no-tsa"),
        pytest.param({"trust_roots": ()}, ["signing.trust_roots is missing"], id="no-trust-roots"),
        pytest.param(
            {"hsm_module": Path("/usr/lib/softhsm/libsofthsm2.so")},
            ["signing.hsm_token_label, signing.hsm_key_label, signing.hsm_cert, signing.hsm_pin_file", "not both"],
            id="hsm-and-agency-p12",
        ),
        pytest.param(
            {"agency_p12": None, "hsm_token_label": "sohoa"},
            ["signing.hsm_token_label set without signing.hsm_module", "agency key is missing"],
            id="hsm-details-without-module",
        ),
        pytest.param(
            {"agency_p12": None, "operator_p12": None, "p12_passphrase_file": None, "tsa_url": None},
            ["signing.tsa_url is missing"],
            id="verify-only-without-tsa",
        ),
    ],
)
def test_partial_production_settings_are_refused_naming_what_is_missing(
    tmp_path: Path, served: ServedPki, signing: dict[str, object], named: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        production_settings(tmp_path, served, **signing)
    for text in named:
        assert text in str(info.value)
    assert not (tmp_path / "var").exists()


def test_settings_from_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, served: ServedPki
) -> None:
    """The README's variables: a .p12 without its passphrase file is refused; trust roots are a JSON list."""
    monkeypatch.setenv("SOHOA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SOHOA_SIGNING__AGENCY_P12", str(served.p12("agency")))
    monkeypatch.setenv("SOHOA_SIGNING__OPERATOR_P12", str(served.p12("operator")))
    monkeypatch.setenv("SOHOA_SIGNING__TRUST_ROOTS", json.dumps([str(served.root_cert), str(served.ca_cert)]))
    monkeypatch.setenv("SOHOA_SIGNING__TSA_URL", served.tsa_url)
    monkeypatch.setenv("SOHOA_SIGNING__SEAL_PNG", str(served.seal_png))
    with pytest.raises(ValidationError, match="p12_passphrase_file"):
        Settings()
    monkeypatch.setenv("SOHOA_SIGNING__P12_PASSPHRASE_FILE", str(served.directory / "passphrase.txt"))
    settings = Settings()
    assert settings.signing.trust_roots == (served.root_cert, served.ca_cert)
    assert Services(settings).trust_roots == [served.root_cert, served.ca_cert]


def test_development_mode_only_when_nothing_of_production_signing_is_set(tmp_path: Path) -> None:
    assert Services(Settings(var_dir=tmp_path, signing=SigningSettings(pki_dir=tmp_path / "pki"))).uses_dev_pki
    with_tsa = Settings(var_dir=tmp_path, signing=SigningSettings(tsa_url="http://127.0.0.1:9/tsa"))
    assert Services(with_tsa).uses_dev_pki  # a TSA alone signs nothing; the dev keys may use it


def test_production_start_creates_no_development_keys_pki_or_tsa(
    tmp_path: Path, served: ServedPki, pki_server: PkiServer
) -> None:
    settings = production_settings(tmp_path, served)
    with TestClient(create_app(settings, start_workers=False)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        assert not services.uses_dev_pki
        assert services.trust_roots == [served.root_cert]
        assert list_clients(services.catalogue) == []
        assert client.post("/dev/tsa", content=query_tsa(), headers=TSA_QUERY).status_code == 404
        stamps = pki_server.tsa_requests
        for which, name in (
            ("agency", "UBND phường Ba Đình (thử nghiệm)"),
            ("operator", "Nguyễn Thị Bình (thử nghiệm)"),
        ):
            key = services.signing_key(which)
            signed = sign_pdf(render_result_pdf(["Kết quả"]), key, level="B-T", timestamper=services.timestamper)
            report = verify_pdf(signed, services.trust_roots)
            assert report.valid and report.signatures[0].signer_name == name, report.render("en")
            checked = client.post("/api/v1/verify", content=signed, headers={"Content-Type": "application/pdf"})
            assert checked.status_code == 200 and checked.json()["valid"] is True
        assert pki_server.tsa_requests >= stamps + 2  # the configured TSA, not the development one
        with pytest.raises(SigningConfigError):
            ensure_dev_credentials(services)
        with pytest.raises(SigningConfigError):
            services.dev_pki  # noqa: B018
    assert not (settings.var_dir / "dev-credentials.json").exists()
    assert not settings.pki_dir.exists()


def test_migrate_command_in_production_and_with_a_partial_configuration(tmp_path: Path, served: ServedPki) -> None:
    """`sohoa migrate` (what `make run` and the compose file's one-shot run) from environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")} | {
        "SOHOA_VAR_DIR": str(tmp_path / "var"),
        "SOHOA_SIGNING__AGENCY_P12": str(served.p12("agency")),
        "SOHOA_SIGNING__OPERATOR_P12": str(served.p12("operator")),
        "SOHOA_SIGNING__TRUST_ROOTS": json.dumps([str(served.root_cert)]),
        "SOHOA_SIGNING__TSA_URL": served.tsa_url,
        "SOHOA_SIGNING__SEAL_PNG": str(served.seal_png),
    }

    def migrate(**extra: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "cli.main", "migrate"]
        return subprocess.run(cmd, env=env | extra, capture_output=True, text=True, timeout=120)

    partial = migrate()
    assert partial.returncode != 0 and "signing.p12_passphrase_file" in partial.stderr, partial.stderr
    assert not (tmp_path / "var").exists()
    done = migrate(SOHOA_SIGNING__P12_PASSPHRASE_FILE=str(served.directory / "passphrase.txt"))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert (tmp_path / "var" / "catalogue.sqlite3").exists()
    assert not (tmp_path / "var" / "pki").exists() and not (tmp_path / "var" / "dev-credentials.json").exists()


def test_missing_or_invalid_files_stop_the_start(tmp_path: Path, served: ServedPki) -> None:
    missing = production_settings(tmp_path, served, operator_p12=tmp_path / "nope.p12")
    with pytest.raises(SigningConfigError, match=r"signing\.operator_p12=.*nope\.p12"):
        Services(missing).prepare()
    assert not (tmp_path / "var").exists()  # checked before anything is created
    with pytest.raises(SigningConfigError, match=r"nope\.p12"), TestClient(create_app(missing, start_workers=False)):
        pass
    garbage = tmp_path / "root.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(SigningConfigError, match=r"signing\.trust_roots"):
        Services(production_settings(tmp_path, served, trust_roots=(garbage,))).prepare()
    assert not (tmp_path / "var" / "pki").exists() and not (tmp_path / "var" / "catalogue.sqlite3").exists()


def test_a_verify_only_host_trusts_its_roots_and_never_signs(tmp_path: Path, served: ServedPki) -> None:
    """Trust roots and TSA without keys: an API host in celery mode (the sign hosts hold the keys)."""
    settings = Settings(
        var_dir=tmp_path / "var",
        signing=SigningSettings(trust_roots=(served.root_cert,), tsa_url=served.tsa_url),
        workers=WorkerSettings(mode="celery"),
    )
    with TestClient(create_app(settings, start_workers=False)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        assert not services.uses_dev_pki and services.trust_roots == [served.root_cert]
        assert client.post("/dev/tsa", content=query_tsa(), headers=TSA_QUERY).status_code == 404
        assert list_clients(services.catalogue) == []
        with pytest.raises(SigningConfigError, match="operator"):
            services.signing_key("operator")
        with pytest.raises(SigningConfigError, match="agency"):
            services.signing_key("agency")
    assert not settings.pki_dir.exists() and not (settings.var_dir / "dev-credentials.json").exists()
    # The embedded pool signs in the API process: without keys it does not start.
    embedded = settings.model_copy(update={"workers": WorkerSettings()})
    with pytest.raises(SigningConfigError, match="no production key"), TestClient(create_app(embedded)):
        pass


def test_the_sample_batch_is_for_development_only(tmp_path: Path, served: ServedPki) -> None:
    app = create_app(production_settings(tmp_path, served), start_workers=False, ingest_sample=True)
    with pytest.raises(SigningConfigError, match="--sample"), TestClient(app):
        pass
    assert not (tmp_path / "var" / "dev-credentials.json").exists()


def test_embedded_default_still_generates_the_development_pki_tsa_and_keys(tmp_path: Path) -> None:
    """`make run` with nothing configured: everything under var/ on first start, as before."""
    settings = Settings(var_dir=tmp_path / "var")
    with TestClient(create_app(settings, start_workers=False)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        assert services.uses_dev_pki
        root = settings.var_dir / "pki" / "root.pem"
        assert root.is_file() and services.trust_roots == [root]
        creds = json.loads((settings.var_dir / "dev-credentials.json").read_text())
        assert creds["station_key"] and creds["officer_key"] and "DEVELOPMENT ONLY" in creds["note"]
        assert {c["role"] for c in list_clients(services.catalogue)} == {ClientRole.STATION, ClientRole.OFFICER}
        reply = client.post("/dev/tsa", content=query_tsa(), headers=TSA_QUERY)
        assert reply.status_code == 200
        assert tsp.TimeStampResp.load(reply.content)["status"]["status"].native == "granted"
        assert services.timestamper is services.dev_timestamper
        key = services.signing_key("agency")
        signed = sign_pdf(render_result_pdf(["Kết quả"]), key, level="B-T", timestamper=services.timestamper)
        assert verify_pdf(signed, services.trust_roots).valid
    assert (settings.var_dir / "dev-credentials.json").stat().st_mode & 0o777 == 0o600


def test_a_catalogue_that_ran_in_development_warns_about_its_development_keys(
    tmp_path: Path, served: ServedPki, shared_pki_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from dossiers.bootstrap import prepare

    dev = Services(Settings(var_dir=tmp_path / "var", signing=SigningSettings(pki_dir=shared_pki_dir)))
    prepare(dev)
    dev.close()
    production = Services(production_settings(tmp_path, served))
    with caplog.at_level("WARNING", logger="dossiers.bootstrap"):
        prepare(production)
    prefixes = [c["prefix"] for c in list_clients(production.catalogue)]
    production.close()
    assert len(prefixes) == 2  # nothing added, nothing revoked behind the operator's back
    assert "sohoa keys revoke" in caplog.text and all(prefix in caplog.text for prefix in prefixes)


def test_the_agency_key_needs_its_seal_image_and_it_must_be_a_transparent_png(
    tmp_path: Path, served: ServedPki
) -> None:
    with pytest.raises(ValidationError, match=r"signing\.seal_png is missing"):
        production_settings(tmp_path, served, seal_png=None)
    opaque = tmp_path / "opaque.png"
    Image.new("RGB", (40, 40), "red").save(opaque)
    jpeg = tmp_path / "seal.jpg"
    Image.new("RGB", (40, 40), "red").save(jpeg, "JPEG")
    for bad, why in ((opaque, "no transparency"), (jpeg, "not PNG"), (served.p12("agency"), "not an image")):
        services = Services(production_settings(tmp_path, served, seal_png=bad))
        with pytest.raises(SigningConfigError, match=why):
            services.check_production_signing()
    services = Services(production_settings(tmp_path, served))
    services.check_production_signing()
    assert services.seal_png == served.seal_png
