"""Issue 20: every officer signs the copies they confirmed with their own key (development PKI, SoftHSM2,
a remote-signing service), and several centres in one deployment sign results under their own names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select

from dossiers.batch_reader import read_batch
from dossiers.centres import add_centre, set_centre_key, set_officer_key, update_centre
from dossiers.confirmation import confirm_component
from dossiers.errors import (
    ComponentConfirmedByOther,
    ComponentNotAwaiting,
    ComponentNotFound,
    SigningConfigError,
    SigningKeyRefInvalid,
)
from dossiers.intake import ingest
from dossiers.sample import SAMPLE_BATCH
from dossiers.services import Services
from dossiers.signer_keys import (
    DEFAULT_CENTRE_CODE,
    centre_key,
    centre_seal,
    ensure_default_centre,
    officer_key,
    waits_for_officer,
)
from signing.dev.pki import _name
from signing.validation import verify_pdf
from storage.catalogue.clients import create_client
from storage.catalogue.models import (
    Centre,
    ClientRole,
    Component,
    ComponentState,
    Document,
    Dossier,
    EResult,
    JobStep,
    KeyKind,
    OfficerRole,
    SigningPolicy,
)
from storage.catalogue.officers import OfficerPrincipal, create_officer, load_officer
from storage.catalogue.warehouse_models import AuditEntry
from storage.objectstore import Bucket
from testkit.batches import make_zip, manifest, small_page
from testkit.pki import PkiServer, ServedPki
from testkit.poppler import pdftotext
from testkit.remote_signer import RemoteSigningServer
from testkit.scheduling import run_steps
from testkit.softhsm import SoftHsmToken
from tests.api.conftest import Api, push_dossier
from tests.conftest import make_settings, production_signing

ALL_QUEUES = ("ingest", "ocr", "sign", "store")
CODE_A = "000.00.12.H26-261121-0501"
CODE_B = "000.00.12.H26-261121-0502"


@dataclass
class Deployment:
    api: Api
    centre_a: int
    centre_b: int
    station_a: dict[str, str]
    station_b: dict[str, str]

    def officer(
        self, username: str, full_name: str, centre: int, title: str = "", role: OfficerRole = OfficerRole.RECEIVING
    ) -> OfficerPrincipal:
        officer_id = create_officer(self.api.services.catalogue, username, full_name, role, centre, title=title)
        principal = load_officer(self.api.services.catalogue, officer_id)
        assert principal is not None
        return principal

    def personal_key(self, officer: OfficerPrincipal) -> dict[str, str]:
        key = create_client(self.api.services.catalogue, officer.username, ClientRole.OFFICER, officer_id=officer.id)
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def two_centres(api: Api) -> Deployment:
    services = api.services
    add_centre(services, "ba-dinh", "UBND phường Ba Đình", parent_name="UBND quận Ba Đình", symbol="UBND")
    add_centre(services, "hoan-kiem", "UBND phường Hoàn Kiếm", parent_name="UBND quận Hoàn Kiếm", symbol="UBND")
    with services.catalogue.reading() as s:
        ids = {code: centre_id for code, centre_id in s.execute(select(Centre.code, Centre.id))}
    station_a = create_client(services.catalogue, "Trạm Ba Đình", ClientRole.STATION, centre_id=ids["ba-dinh"])
    station_b = create_client(services.catalogue, "Trạm Hoàn Kiếm", ClientRole.STATION, centre_id=ids["hoan-kiem"])
    return Deployment(
        api,
        ids["ba-dinh"],
        ids["hoan-kiem"],
        {"Authorization": f"Bearer {station_a}"},
        {"Authorization": f"Bearer {station_b}"},
    )


def _push(api: Api, code: str, station: dict[str, str], count: int) -> list[int]:
    comps = [{"id": f"c{i}", "declared_type": "other", "files": [f"p{i}.jpg"]} for i in range(count)]
    files = {f"p{i}.jpg": small_page(f"Giấy tờ số {i} của hồ sơ {code[-4:]}") for i in range(count)}
    r = api.client.post(
        "/api/v1/batches",
        content=make_zip(manifest(comps, code=code), files),
        headers=station | {"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    return [c["id"] for c in r.json()["components"]]


def _signed_copy(services: Services, component_id: int) -> bytes:
    with services.catalogue.reading() as s:
        doc = s.scalar(select(Document).where(Document.component_id == component_id))
        assert doc is not None, f"component {component_id} has no signed copy"
        key, sha = doc.object_key, doc.sha256
    return services.store.get_bytes(Bucket.DOCUMENTS, key, sha256=sha)


def _signer_sha256(pdf: bytes) -> bytes:
    sigs = PdfFileReader(BytesIO(pdf)).embedded_signatures
    assert len(sigs) == 1
    return bytes(sigs[0].signer_cert.sha256)


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return " ".join(pdftotext(path).split())


def _state(services: Services, component_id: int) -> str:
    with services.catalogue.reading() as s:
        return s.get_one(Component, component_id).state


def _sign_steps(services: Services, component_id: int) -> int:
    with services.catalogue.reading() as s:
        query = select(func.count()).where(JobStep.component_id == component_id, JobStep.kind == "sign")
        return int(s.scalar(query) or 0)


def test_officers_confirm_and_each_copy_carries_their_own_signature(
    two_centres: Deployment,
    softhsm_token: SoftHsmToken,
    pki_server: PkiServer,
    served: ServedPki,
    tmp_path: Path,
) -> None:
    d, services = two_centres, two_centres.api.services
    alice = d.officer("alice", "Lê Thị An", d.centre_a, title="Cán bộ tiếp nhận")
    bob = d.officer("bob", "Phạm Văn Bình", d.centre_a, title="Công chức một cửa")
    carol = d.officer("carol", "Đỗ Thị Cúc", d.centre_a)
    dan = d.officer("dan", "Vũ Văn Dũng", d.centre_b)

    # Bob's key is generated inside the HSM; his certificate comes from the served (licensed-CA stand-in) PKI.
    public = softhsm_token.generate_rsa("officer-bob")
    cert = pki_server.issue(_name("Phạm Văn Bình", title="Công chức một cửa"), public)
    cert_path, pin_file = tmp_path / "bob.pem", tmp_path / "pin"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pin_file.write_text(softhsm_token.pin)
    pin_file.chmod(0o600)
    hsm_ref = {
        "module": str(softhsm_token.module),
        "token_label": softhsm_token.label,
        "key_label": "officer-bob",
        "cert": str(cert_path),
        "chain": [str(served.ca_cert), str(served.root_cert)],
        "pin_file": str(pin_file),
    }
    assert set_officer_key(services, "bob", KeyKind.HSM, hsm_ref) == "Phạm Văn Bình"

    # Carol's key is held by a remote-signing service (a real HTTP server holding a development key).
    services.dev_identity_key("remote-carol", "Đỗ Thị Cúc", organisation="UBND phường Ba Đình")
    with RemoteSigningServer(_p12_of(services, "remote-carol"), services.dev_pki.passphrase()) as remote:
        assert set_officer_key(services, "carol", KeyKind.REMOTE, {"url": remote.url}) == "Đỗ Thị Cúc"

        ids = _push(d.api, CODE_A, d.station_a, 3)
        run_steps(services, ALL_QUEUES)
        # confirm_all: digitised, waiting for an officer; nothing signed.
        assert [_state(services, c) for c in ids] == [ComponentState.AWAITING] * 3
        assert sum(_sign_steps(services, c) for c in ids) == 0
        with services.catalogue.reading() as s:
            assert s.scalar(select(Dossier.centre_id).where(Dossier.code == CODE_A)) == d.centre_a

        # An officer of another centre cannot see, let alone confirm, this centre's components.
        with pytest.raises(ComponentNotFound):
            confirm_component(services, ids[0], dan)

        woken: list[int] = []
        confirm_component(services, ids[0], alice, wake=lambda: woken.append(1))
        confirm_component(services, ids[0], alice)  # again: nothing more
        with pytest.raises(ComponentConfirmedByOther):
            confirm_component(services, ids[0], bob)
        confirm_component(services, ids[1], bob)
        confirm_component(services, ids[2], carol)
        assert woken == [1] and _sign_steps(services, ids[0]) == 1
        run_steps(services, ALL_QUEUES)
        assert remote.requests == 1

    roots = [*services.trust_roots, served.root_cert]
    for component_id, officer, stamp in (
        (ids[0], alice, "Lê Thị An, Cán bộ tiếp nhận"),
        (ids[1], bob, "Phạm Văn Bình, Công chức một cửa"),
        (ids[2], carol, "Đỗ Thị Cúc"),
    ):
        assert _state(services, component_id) == ComponentState.DONE
        pdf = _signed_copy(services, component_id)
        own = officer_key(services, officer.id).cert
        assert _signer_sha256(pdf) == bytes(own.sha256), officer.username
        assert own.subject.native["common_name"] == officer.full_name
        report = verify_pdf(pdf, roots)
        assert report.valid, report.render("en")
        assert f"Người ký: {stamp}" in _text(pdf, tmp_path, officer.username)
    assert _signer_sha256(_signed_copy(services, ids[0])) != _signer_sha256(_signed_copy(services, ids[2]))
    # The development certificate names the officer and their centre.
    alice_cert = officer_key(services, alice.id).cert.subject.native
    assert alice_cert["organization_name"] == "UBND phường Ba Đình" and alice_cert["title"] == "Cán bộ tiếp nhận"
    with services.catalogue.reading() as s:
        confirmed = s.scalars(select(AuditEntry.actor).where(AuditEntry.action == "confirm_copy")).all()
        comp = s.get_one(Component, ids[1])
        assert comp.confirmed_by == bob.id and comp.confirmed_at is not None
    assert sorted(confirmed) == ["officer:alice", "officer:bob", "officer:carol"]


def _p12_of(services: Services, subject_id: str) -> Path:
    from signing.dev import issued_identity

    issued = issued_identity(services.dev_pki, subject_id)
    assert issued is not None
    return issued.p12


def test_two_centres_issue_results_under_their_own_names_keys_and_seals(
    two_centres: Deployment, tmp_path: Path
) -> None:
    d, services = two_centres, two_centres.api.services
    issuers = {
        CODE_A: d.officer("ra", "Ngô Thị Hằng", d.centre_a, role=OfficerRole.RESULT),
        CODE_B: d.officer("rb", "Trịnh Văn Khải", d.centre_b, role=OfficerRole.RESULT),
    }
    push_dossier(d.api, CODE_A, headers=d.station_a)
    push_dossier(d.api, CODE_B, headers=d.station_b)
    spec = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn."], "level": "B-T"}
    codes = {}
    for dossier_code, officer in issuers.items():
        r = d.api.client.post(
            f"/api/v1/dossiers/{dossier_code}/results/from-template", json=spec, headers=d.personal_key(officer)
        )
        assert r.status_code == 202, r.text
        codes[dossier_code] = r.json()["code"]
    run_steps(services)
    signers = {}
    for dossier_code, centre_id, name in (
        (CODE_A, d.centre_a, "UBND phường Ba Đình"),
        (CODE_B, d.centre_b, "UBND phường Hoàn Kiếm"),
    ):
        with services.catalogue.reading() as s:
            result = s.scalar(select(EResult).where(EResult.code == codes[dossier_code]))
            assert result is not None and result.state == ComponentState.DONE
            assert (result.officer_id, result.centre_id) == (issuers[dossier_code].id, centre_id)
            assert result.signed_by == name
            key, sha = result.object_key, result.sha256
        pdf = services.store.get_bytes(Bucket.RESULTS, key, sha256=sha)
        assert _signer_sha256(pdf) == bytes(centre_key(services, centre_id).cert.sha256)
        assert verify_pdf(pdf, services.trust_roots).valid
        text = _text(pdf, tmp_path, dossier_code[-4:])
        assert name.upper() in text and name in text  # the template's heading and the seal's text
        signers[dossier_code] = _signer_sha256(pdf)
    assert signers[CODE_A] != signers[CODE_B]
    seals = {centre_seal(services, d.centre_a), centre_seal(services, d.centre_b), services.seal_png}
    assert len(seals) == 3 and all(p is not None and p.is_file() for p in seals)


def test_default_centre_keeps_single_agency_behaviour_and_policies(api: Api) -> None:
    services = api.services
    default = ensure_default_centre(services)
    with services.catalogue.reading() as s:
        centre = s.get_one(Centre, default)
        assert (centre.code, centre.signing_policy) == (DEFAULT_CENTRE_CODE, SigningPolicy.AUTO_ALL)
        assert centre.name == services.settings.signing.agency_name
    # A station without a centre pushes for the default centre; its copies and results use the configured keys.
    push_dossier(api, CODE_A)
    with services.catalogue.reading() as s:
        assert s.scalar(select(Dossier.centre_id).where(Dossier.code == CODE_A)) == default
    assert centre_key(services, default).cert.sha256 == services.signing_key("agency").cert.sha256
    run_steps(services, ALL_QUEUES)  # its scan is not an image: digitising fails, nothing waits
    with services.catalogue.reading() as s:
        component_id = s.scalar(select(Component.id).join(Dossier).where(Dossier.code == CODE_A))
    assert component_id is not None and _state(services, component_id) == ComponentState.FAILED
    clerk_id = create_officer(services.catalogue, "clerk", "Lý Thị Lan", OfficerRole.RECEIVING, default)
    clerk = load_officer(services.catalogue, clerk_id)
    assert clerk is not None
    with pytest.raises(ComponentNotAwaiting):
        confirm_component(services, component_id, clerk)
    # The three policies.
    view = add_centre(services, "tay-ho", "UBND phường Tây Hồ")
    assert view["signing_policy"] == SigningPolicy.CONFIRM_ALL
    with services.catalogue.reading() as s:
        tay_ho = s.scalar(select(Centre.id).where(Centre.code == "tay-ho"))
    assert waits_for_officer(services, tay_ho, needs_review=False)
    assert not waits_for_officer(services, default, needs_review=True)
    assert not waits_for_officer(services, None, needs_review=True)
    with services.catalogue.session() as s:
        s.get_one(Centre, tay_ho).signing_policy = SigningPolicy.AUTO_CONFIDENT
    assert waits_for_officer(services, tay_ho, needs_review=True)
    assert not waits_for_officer(services, tay_ho, needs_review=False)
    # A centre's own key: a development certificate with its name; registering another key replaces it.
    key = centre_key(services, tay_ho)
    assert key.subject_name == "UBND phường Tây Hồ"
    assert set_centre_key(services, "tay-ho", KeyKind.DEV, {}) == "UBND phường Tây Hồ"


def test_production_refuses_development_keys_and_loose_key_files(
    served: ServedPki, tmp_path: Path, shared_pki_dir: Path
) -> None:
    settings = make_settings(tmp_path / "var", shared_pki_dir)
    settings = settings.model_copy(update={"signing": settings.signing.model_copy(update=production_signing(served))})
    services = Services(settings)
    services.prepare()
    try:
        assert not services.uses_dev_pki
        default = ensure_default_centre(services)
        with services.catalogue.reading() as s:
            assert s.get_one(Centre, default).key_kind == KeyKind.P12
        add_centre(services, "ba-dinh", "UBND phường Ba Đình")
        with services.catalogue.reading() as s:
            centre_id = s.scalar(select(Centre.id).where(Centre.code == "ba-dinh"))
        assert centre_id is not None
        officer_id = create_officer(services.catalogue, "alice", "Lê Thị An", OfficerRole.RECEIVING, centre_id)
        with pytest.raises(SigningConfigError, match="development keys are never used"):
            officer_key(services, officer_id)
        with pytest.raises(SigningConfigError):
            centre_key(services, centre_id)
        with pytest.raises(SigningKeyRefInvalid):
            set_officer_key(services, "alice", KeyKind.DEV, {})
        # A PKCS#12 key: its passphrase file must be the service user's alone.
        p12 = tmp_path / "alice.p12"
        p12.write_bytes(served.p12("operator").read_bytes())
        p12.chmod(0o600)
        passphrase = tmp_path / "pass"
        passphrase.write_bytes((served.directory / "passphrase.txt").read_bytes())
        passphrase.chmod(0o644)
        ref = {"path": str(p12), "passphrase_file": str(passphrase)}
        with pytest.raises(SigningKeyRefInvalid, match="readable or writable by others"):
            set_officer_key(services, "alice", KeyKind.P12, ref)
        os.chmod(passphrase, 0o600)
        assert set_officer_key(services, "alice", KeyKind.P12, ref) == officer_key(services, officer_id).subject_name
    finally:
        services.close()


def test_centre_admin_api(two_centres: Deployment) -> None:
    d = two_centres
    admin_a = d.personal_key(d.officer("admin-a", "Hà Văn Quản", d.centre_a, role=OfficerRole.ADMIN))
    clerk_a = d.personal_key(d.officer("clerk-a", "Lý Thị Lan", d.centre_a))
    default_admin = d.personal_key(
        d.officer("root", "Quản trị hệ thống", ensure_default_centre(d.api.services), role=OfficerRole.ADMIN)
    )
    client = d.api.client
    listed = client.get("/api/v1/centres", headers=admin_a)
    assert listed.status_code == 200
    assert {c["code"] for c in listed.json()} == {DEFAULT_CENTRE_CODE, "ba-dinh", "hoan-kiem"}
    assert all("key_ref" not in c for c in listed.json())
    assert client.get("/api/v1/centres", headers=clerk_a).status_code == 403
    changed = client.patch(
        "/api/v1/centres/ba-dinh", json={"place": "Ba Đình", "signing_policy": "auto_confident"}, headers=admin_a
    )
    assert changed.status_code == 200 and changed.json()["signing_policy"] == "auto_confident"
    other = client.patch("/api/v1/centres/hoan-kiem", json={"place": "Hoàn Kiếm"}, headers=admin_a)
    assert other.status_code == 403 and other.json()["detail"]["code"] == "CENTRE_FORBIDDEN"
    assert (
        client.patch("/api/v1/centres/ba-dinh", json={"signing_policy": "auto_all"}, headers=admin_a).status_code == 422
    )
    assert client.patch("/api/v1/centres/nowhere", json={"place": "x"}, headers=admin_a).status_code == 404
    new = {"code": "tay-ho", "name": "UBND phường Tây Hồ"}
    assert client.post("/api/v1/centres", json=new, headers=admin_a).status_code == 403
    created = client.post("/api/v1/centres", json=new, headers=default_admin)
    assert created.status_code == 201 and created.json()["signing_policy"] == "confirm_all"
    assert client.post("/api/v1/centres", json=new, headers=default_admin).status_code == 409


def test_auto_confident_signs_confident_copies_with_the_centre_key_and_holds_the_others(
    two_centres: Deployment, tmp_path: Path
) -> None:
    d, services = two_centres, two_centres.api.services
    update_centre(services, "ba-dinh", {"signing_policy": SigningPolicy.AUTO_CONFIDENT})
    confident = ingest(services, read_batch(SAMPLE_BATCH), centre_id=d.centre_a)
    unsure = _push(d.api, CODE_A, d.station_a, 1)  # a line of text: type uncertain, needs review
    run_steps(services, ALL_QUEUES)
    assert _state(services, unsure[0]) == ComponentState.AWAITING
    centre_cert = centre_key(services, d.centre_a).cert
    assert centre_cert.subject.native["common_name"] == "UBND phường Ba Đình"
    for view in confident.components:
        assert _state(services, view["id"]) == ComponentState.DONE
        pdf = _signed_copy(services, view["id"])
        assert _signer_sha256(pdf) == bytes(centre_cert.sha256)
        assert "Người ký: UBND phường Ba Đình" in _text(pdf, tmp_path, f"c{view['id']}")
