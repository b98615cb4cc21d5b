"""Completing a partial dossier (issue 20, part 5): the station sends one failed component again, and an
officer attaches a document the warehouse holds instead of a new scan. Real pipeline steps (OCR, signing,
storage) on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from api.app import create_app
from dossiers.completion import attach_stored_document
from storage.catalogue.clients import create_client
from storage.catalogue.completion_models import ComponentResend, ComponentReuse, count_reused
from storage.catalogue.db import alembic_config
from storage.catalogue.models import ClientRole, Component, Document, DocumentParty, JobStep, ScanFile, StepState
from storage.catalogue.warehouse_models import AuditEntry, ObjectRecord
from storage.objectstore import Bucket, sha256_hex
from storage.warehouse.audit import verify
from testkit.batches import make_zip, manifest, small_page
from testkit.scheduling import run_steps
from tests.api.conftest import APPLICANT_ID, BIRTH, Api, add_signed_document
from tests.conftest import make_settings
from tests.storage.factories import model_drift

CODE = "000.00.12.H26-261206-0501"
ALL_QUEUES = ("ingest", "ocr", "sign", "store")
GOOD = small_page("Đơn đề nghị cấp bản sao")
CORRUPT = GOOD[: len(GOOD) // 3]  # a truncated JPEG: the digitize step fails it (IMAGE_CORRUPT)
NEW_SCAN = small_page("Trang quét bổ sung")
OTHER_DOSSIER = "000.00.12.H26-250101-0777"


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[Api]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    settings = make_settings(tmp_path / "var", shared_pki_dir, database_url=url)
    with TestClient(create_app(settings, start_workers=False)) as client:
        creds = json.loads((settings.var_dir / "dev-credentials.json").read_text())
        yield Api(
            client,
            client.app.state.services,  # type: ignore[attr-defined]
            {"Authorization": f"Bearer {creds['station_key']}"},
            {"Authorization": f"Bearer {creds['officer_key']}"},
        )


def _push(api: Api, components: list[dict], files: dict[str, bytes], code: str = CODE) -> dict:
    m = manifest(components, code=code)
    m["applicant_birth_date"] = BIRTH
    r = api.client.post(
        "/api/v1/batches", content=make_zip(m, files), headers=api.station | {"Content-Type": "application/zip"}
    )
    assert r.status_code == 202, r.text
    return r.json()


def _partial(api: Api) -> dict:
    """A dossier whose second component's only scan is corrupt, run through the pipeline: partial."""
    comps = [
        {"id": "don", "declared_type": "application_form", "files": ["a.jpg"]},
        {"id": "anh", "declared_type": "other", "files": ["b.jpg"]},
    ]
    _push(api, comps, {"a.jpg": GOOD, "b.jpg": CORRUPT})
    run_steps(api.services, ALL_QUEUES)
    status = _status(api)
    assert status["state"] == "partial", status
    assert status["components"][1]["error"]["code"] == "IMAGE_CORRUPT"
    return status


def _status(api: Api, code: str = CODE) -> dict:
    r = api.client.get(f"/api/v1/dossiers/{code}", headers=api.station)
    assert r.status_code == 200, r.text
    return r.json()


def _resend(api: Api, ref: str, scans: dict[str, bytes], headers: dict[str, str] | None = None, code: str = CODE):  # type: ignore[no-untyped-def]
    parts = [("files", (name, data, "image/jpeg")) for name, data in scans.items()]
    return api.client.put(f"/api/v1/dossiers/{code}/components/{ref}", files=parts, headers=headers or api.station)


def _component_id(api: Api, ref: str) -> int:
    with api.services.catalogue.reading() as s:
        found = s.scalar(select(Component.id).where(Component.ref == ref))
        assert found is not None
        return found


def _documents(api: Api) -> list[tuple[int, str]]:
    """(component id, sha256) of every document row."""
    with api.services.catalogue.reading() as s:
        return [(d.component_id, d.sha256) for d in s.scalars(select(Document).order_by(Document.id))]


def _stored_documents(api: Api) -> int:
    with api.services.catalogue.reading() as s:
        query = select(func.count()).select_from(ObjectRecord).where(ObjectRecord.bucket == Bucket.DOCUMENTS.value)
        return int(s.scalar(query) or 0)


def _steps(api: Api, component_id: int) -> list[tuple[str, str]]:
    with api.services.catalogue.reading() as s:
        rows = s.execute(select(JobStep.kind, JobStep.state).where(JobStep.component_id == component_id))
        return sorted((kind, str(state)) for kind, state in rows)


def _audit(api: Api, action: str = "reuse_document") -> list[AuditEntry]:
    with api.services.catalogue.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_partial_dossier_is_completed_by_sending_its_failed_component_again(api: Api) -> None:
    before = _partial(api)
    failed_id = _component_id(api, "anh")
    assert len(_documents(api)) == 1 and _stored_documents(api) == 1
    key = {"Idempotency-Key": "resend-anh-1"}

    sent = _resend(api, "anh", {"anh-moi.jpg": NEW_SCAN}, api.station | key)
    assert sent.status_code == 202, sent.text
    receipt = sent.json()
    assert receipt["created"] is True and receipt["pages"] == 1 and receipt["component_id"] == failed_id
    assert receipt["status_url"] == f"/api/v1/dossiers/{CODE}"
    during = _status(api)
    assert during["state"] == "processing"
    assert during["components"][1]["state"] == "pending" and during["components"][1]["error"] is None
    # The network dropped the answer: the same send again is answered as the first, and runs nothing more.
    again = _resend(api, "anh", {"anh-moi.jpg": NEW_SCAN}, api.station | key)
    assert again.status_code == 200 and again.json()["created"] is False
    assert _resend(api, "anh", {"anh-moi.jpg": NEW_SCAN}).status_code == 200  # same scans, no key: a repeat too
    # The same key for other scans is a mistake, said so.
    reused_key = _resend(api, "anh", {"x.jpg": GOOD}, api.station | key)
    assert reused_key.status_code == 409 and reused_key.json()["detail"]["code"] == "IDEMPOTENCY_KEY_REUSED"

    with api.services.catalogue.reading() as s:
        scans = list(s.scalars(select(ScanFile).where(ScanFile.component_id == failed_id)))
        assert [(f.filename, f.sha256, f.stored) for f in scans] == [("anh-moi.jpg", sha256_hex(NEW_SCAN), True)]
        assert api.services.store.get_bytes(Bucket.RAW, scans[0].object_key, sha256=scans[0].sha256) == NEW_SCAN
        assert s.scalar(select(func.count()).select_from(ComponentResend)) == 1
    assert _steps(api, failed_id) == [("digitize", "pending")]

    ran = run_steps(api.services, ALL_QUEUES)
    assert [r.state for r in ran] == [StepState.DONE] * 3  # digitize, sign, store: once each
    after = _status(api)
    assert after["state"] == "done" and after["progress"] == {"done": 2, "failed": 0, "total": 2}
    assert after["components"][0]["document"] == before["components"][0]["document"]  # the done one untouched
    assert after["components"][1]["document"]["signature_level"] == "B-T"
    assert _steps(api, failed_id) == [("digitize", "done"), ("sign", "done"), ("store", "done")]
    docs = _documents(api)
    assert sorted(c for c, _ in docs) == sorted([_component_id(api, "don"), failed_id])  # one per component
    assert _stored_documents(api) == 2
    assert run_steps(api.services, ALL_QUEUES) == []  # nothing left to run

    # Done now: other scans are refused with a sentence the station can act on.
    done = _resend(api, "anh", {"z.jpg": GOOD})
    assert done.status_code == 409 and done.json()["detail"]["code"] == "COMPONENT_DONE"
    assert "đã được số hóa" in done.json()["detail"]["message"]
    first = _resend(api, "don", {"z.jpg": GOOD})
    assert first.status_code == 409 and first.json()["detail"]["code"] == "COMPONENT_DONE"
    assert len(_documents(api)) == 2


def test_a_file_missing_at_receipt_is_added_by_sending_the_component(api: Api) -> None:
    comps = [
        {"id": "don", "declared_type": "application_form", "files": ["a.jpg"]},
        {"id": "thieu", "declared_type": "other", "files": ["khong-co.jpg"]},
    ]
    receipt = _push(api, comps, {"a.jpg": GOOD})
    assert receipt["components"][1]["error"]["code"] == "FILE_MISSING"
    assert "gửi lại thành phần này" in receipt["components"][1]["error"]["message"]
    run_steps(api.services, ALL_QUEUES)
    assert _status(api)["state"] == "partial"
    sent = _resend(api, "thieu", {"p1.jpg": NEW_SCAN, "p2.jpg": GOOD})
    assert sent.status_code == 202 and sent.json()["pages"] == 2
    run_steps(api.services, ALL_QUEUES)
    status = _status(api)
    assert status["state"] == "done" and status["components"][1]["pages"] == 2
    assert len(_documents(api)) == 2


def test_only_the_station_that_pushed_the_dossier_may_send_a_component(api: Api) -> None:
    _partial(api)
    other = api.key("Trạm khác", ClientRole.STATION)
    foreign = _resend(api, "anh", {"x.jpg": NEW_SCAN}, other)
    unknown = _resend(api, "anh", {"x.jpg": NEW_SCAN}, code="000.00.12.H26-261206-0999")
    no_ref = _resend(api, "khong-co", {"x.jpg": NEW_SCAN})
    assert foreign.status_code == unknown.status_code == no_ref.status_code == 404
    assert foreign.json()["detail"]["code"] == unknown.json()["detail"]["code"] == "NOT_FOUND"
    assert _resend(api, "anh", {"x.jpg": NEW_SCAN}, api.officer).status_code == 403
    assert api.client.put(f"/api/v1/dossiers/{CODE}/components/anh", files=[("f", ("x.jpg", b"x"))]).status_code == 401
    assert _status(api)["state"] == "partial"


def test_hostile_or_oversized_sends_get_the_errors_of_batch_intake_and_record_nothing(
    tmp_path: Path, shared_pki_dir: Path
) -> None:
    from sohoa.settings import ApiSettings, IntakeSettings

    settings = make_settings(tmp_path / "var", shared_pki_dir).model_copy(
        update={
            "api": ApiSettings(max_upload_bytes=256 * 1024),
            "intake": IntakeSettings(batch_max_pages=3, station_daily_pages=6),
        }
    )
    with TestClient(create_app(settings, start_workers=False)) as client:
        creds = json.loads((settings.var_dir / "dev-credentials.json").read_text())
        api = Api(client, client.app.state.services, {"Authorization": f"Bearer {creds['station_key']}"}, {})  # type: ignore[attr-defined]
        _partial(api)  # 2 pages of the day's 6
        comp_id = _component_id(api, "anh")
        with api.services.catalogue.reading() as s:
            scans_before = list(s.execute(select(ScanFile.sha256).where(ScanFile.component_id == comp_id)))

        def code_of(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
            return response.status_code, response.json()["detail"]["code"]

        assert code_of(_resend(api, "anh", {"../../etc/passwd": NEW_SCAN})) == (422, "UNSAFE_PATH")
        assert code_of(_resend(api, "anh", {"big.jpg": b"\xff\xd8" + b"x" * 300 * 1024})) == (413, "UPLOAD_TOO_LARGE")
        twice = [("files", ("p.jpg", NEW_SCAN, "image/jpeg")), ("files", ("p.jpg", GOOD, "image/jpeg"))]
        same_name = client.put(f"/api/v1/dossiers/{CODE}/components/anh", files=twice, headers=api.station)
        assert code_of(same_name) == (422, "BATCH_INVALID") and "cùng tên" in same_name.json()["detail"]["message"]
        four = {f"p{i}.jpg": small_page(f"trang {i}") for i in range(4)}
        assert code_of(_resend(api, "anh", four)) == (413, "BATCH_TOO_MANY_PAGES")
        empty = client.put(f"/api/v1/dossiers/{CODE}/components/anh", files={"note": (None, "1")}, headers=api.station)
        assert code_of(empty) == (422, "COMPONENT_SCANS_MISSING")
        raw = client.put(
            f"/api/v1/dossiers/{CODE}/components/anh",
            content=NEW_SCAN,
            headers=api.station | {"Content-Type": "image/jpeg"},
        )
        assert code_of(raw) == (422, "MULTIPART_INVALID")
        three = {f"q{i}.jpg": small_page(f"trang {i}") for i in range(3)}
        assert _push(api, [{"id": "x", "files": list(three)}], three, code="000.00.12.H26-261206-0502")["created"]
        quota = _resend(api, "anh", {"p1.jpg": NEW_SCAN, "p2.jpg": GOOD})  # 2 + 3 pages of 6 used: 2 more do not fit
        assert code_of(quota) == (429, "STATION_DAILY_QUOTA") and int(quota.headers["Retry-After"]) > 0
        with api.services.catalogue.reading() as s:
            assert list(s.execute(select(ScanFile.sha256).where(ScanFile.component_id == comp_id))) == scans_before
            assert s.scalar(select(Component.state).where(Component.id == comp_id)) == "failed"
            assert s.scalar(select(func.count()).select_from(ComponentResend)) == 0
        assert not list((settings.work_dir / "uploads").iterdir())  # temporary files removed


def _stored_elsewhere(api: Api, **changes: object) -> int:
    """A signed, stored citizen ID card of the applicant, from a dossier another centre digitised."""
    values: dict = {"owner_id": APPLICANT_ID, "doc_type": "citizen_id_card", "code": OTHER_DOSSIER, "birth_date": BIRTH}
    values["fields"] = {"expiry_date": {"value": "2099-01-01"}}
    return add_signed_document(api.services, **(values | changes))  # type: ignore[arg-type]


CARD_COMPS = [
    {"id": "cccd", "declared_type": "citizen_id_card", "files": ["c.jpg"]},
    {"id": "don", "declared_type": "application_form", "files": ["a.jpg"]},
]


def _reuse(api: Api, ref: str, body: dict, headers: dict[str, str] | None = None, code: str = CODE):  # type: ignore[no-untyped-def]
    return api.client.post(f"/api/v1/dossiers/{code}/components/{ref}/reuse", json=body, headers=headers or api.officer)


def test_an_officer_completes_a_component_by_a_stored_document(api: Api) -> None:
    doc = _stored_elsewhere(api)
    receipt = _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    assert receipt["components"][0]["reusable"][0]["doc_type"] == "citizen_id_card"  # what the receipt offered
    run_steps(api.services, ALL_QUEUES)
    assert _status(api)["state"] == "partial"
    documents_before = _documents(api)

    r = _reuse(api, "cccd", {"document_id": doc, "purpose": "công dân không mang bản giấy"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "done"
    assert r.json()["reused_from"]["document_id"] == doc and r.json()["reused_from"]["dossier_code"] == OTHER_DOSSIER
    status = _status(api)
    card = status["components"][0]
    assert status["state"] == "done" and status["progress"]["failed"] == 0
    assert card["state"] == "done" and card["error"] is None and card["document"] is None
    assert card["reused_from"] == {"document_id": doc, "doc_type": "citizen_id_card"}  # the station's view
    officer_view = api.client.get(f"/api/v1/dossiers/{CODE}", headers=api.officer).json()
    assert officer_view["state"] == "done"
    assert officer_view["components"][0]["reused_from"] == {
        "document_id": doc,
        "dossier_code": OTHER_DOSSIER,
        "doc_type": "citizen_id_card",
    }
    assert OTHER_DOSSIER not in json.dumps(status)  # a station is never told another centre's dossier code
    assert status["components"][1]["reused_from"] is None
    assert _documents(api) == documents_before  # completed by reference: no new document, no OCR
    with api.services.catalogue.reading() as s:
        rows = list(s.scalars(select(ComponentReuse)))
        assert [(row.document_id, row.purpose) for row in rows] == [(doc, "công dân không mang bản giấy")]
        officer_id = int(rows[0].actor.split(":")[1])
        day = datetime.now(UTC)
        assert count_reused(s, day - timedelta(hours=1), day + timedelta(hours=1)) == 1
        assert count_reused(s, day + timedelta(hours=1), day + timedelta(hours=2)) == 0
    entries = _audit(api)
    assert [(e.actor, e.subject, e.outcome) for e in entries] == [(f"officer:{officer_id}", f"document:{doc}", "ok")]
    assert entries[0].purpose == "công dân không mang bản giấy"
    assert entries[0].detail == {"dossier": CODE, "component": "cccd", "matched_as": "owner"}
    assert verify(api.services.catalogue).ok
    # Attaching it again answers the same; the component is done now for anything else.
    assert _reuse(api, "cccd", {"document_id": doc}).json()["reused_from"]["document_id"] == doc
    other = _stored_elsewhere(api, code="000.00.12.H26-250101-0778")
    busy = _reuse(api, "cccd", {"document_id": other})
    assert busy.status_code == 409 and busy.json()["detail"]["code"] == "COMPONENT_DONE"
    assert _resend(api, "cccd", {"x.jpg": NEW_SCAN}).status_code == 409


def test_a_pending_component_attached_is_never_digitised(api: Api) -> None:
    doc = _stored_elsewhere(api)
    _push(api, CARD_COMPS, {"c.jpg": GOOD, "a.jpg": GOOD})
    assert _reuse(api, "cccd", {"document_id": doc}).status_code == 200
    run_steps(api.services, ALL_QUEUES)
    status = _status(api)
    assert status["state"] == "done" and status["components"][0]["reused_from"]["document_id"] == doc
    with api.services.catalogue.reading() as s:
        card = s.scalar(select(Component).where(Component.ref == "cccd"))
        assert card is not None and card.document is None
        assert s.scalar(select(func.count()).select_from(JobStep).where(JobStep.component_id == card.id)) == 0


def test_the_reference_a_receipt_gave_attaches_its_document(api: Api) -> None:
    doc = _stored_elsewhere(api)
    receipt = _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    reference = receipt["components"][0]["reusable"][0]["reference"]
    r = _reuse(api, "cccd", {"reference": reference})
    assert r.status_code == 200 and r.json()["reused_from"]["document_id"] == doc
    unknown = _reuse(api, "don", {"reference": "TL-AAAAAAAAAAAAAAAA"})
    assert unknown.status_code == 422 and unknown.json()["detail"]["code"] == "REUSE_DOCUMENT_UNAVAILABLE"
    assert _reuse(api, "don", {"reference": reference, "document_id": doc}).status_code == 422


def test_a_document_naming_the_applicant_as_a_party_may_stand_in(api: Api) -> None:
    doc = _stored_elsewhere(api, owner_id="001088000111", doc_type="marriage_certificate", fields={})
    with api.services.catalogue.session() as s:
        s.add(DocumentParty(document_id=doc, id_number=APPLICANT_ID, role="wife"))
    _push(api, [{"id": "kh", "declared_type": "marriage_certificate", "files": ["k.jpg"]}], {"k.jpg": CORRUPT})
    r = _reuse(api, "kh", {"document_id": doc})
    assert r.status_code == 200, r.text
    assert _audit(api)[0].detail["matched_as"] == "wife"


def test_documents_that_are_not_the_applicants_or_do_not_fit_are_refused_and_audited(api: Api) -> None:
    stranger = _stored_elsewhere(api, owner_id="079300099999", code="000.00.12.H26-250101-0779")
    wrong_type = _stored_elsewhere(api, doc_type="birth_certificate", code="000.00.12.H26-250101-0780")
    expired = _stored_elsewhere(api, code="000.00.12.H26-250101-0781", fields={"expiry_date": {"value": "2020-01-01"}})
    _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    run_steps(api.services, ALL_QUEUES)
    for doc_id, code in (
        (stranger, "REUSE_DOCUMENT_UNAVAILABLE"),
        (999_999, "REUSE_DOCUMENT_UNAVAILABLE"),
        (wrong_type, "REUSE_TYPE_MISMATCH"),
        (expired, "REUSE_DOCUMENT_EXPIRED"),
    ):
        r = _reuse(api, "cccd", {"document_id": doc_id})
        assert r.status_code == 422 and r.json()["detail"]["code"] == code, (doc_id, r.text)
        assert r.json()["detail"]["message"]  # a Vietnamese sentence for the officer
    assert _reuse(api, "cccd", {"document_id": stranger}, api.station).status_code == 403
    assert _reuse(api, "cccd", {"document_id": stranger}, code="000.00.12.H26-261206-0999").status_code == 404
    done = _reuse(api, "don", {"document_id": wrong_type})
    assert done.status_code == 409 and done.json()["detail"]["code"] == "COMPONENT_DONE"
    entries = _audit(api)
    assert [(e.subject, e.outcome, e.detail["reason"]) for e in entries] == [
        (f"document:{stranger}", "refused", "not-applicants"),
        ("document:999999", "refused", "not-found"),
        (f"document:{wrong_type}", "refused", "type-mismatch"),
        (f"document:{expired}", "refused", "expired"),
        (f"document:{wrong_type}", "refused", "component-done"),
    ]
    status = _status(api)
    assert status["state"] == "partial" and status["components"][0]["reused_from"] is None
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(func.count()).select_from(ComponentReuse)) == 0


def test_the_officer_side_is_a_function_pages_can_call(api: Api) -> None:
    doc = _stored_elsewhere(api)
    _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    officer = create_client(api.services.catalogue, "Cán bộ một cửa", ClientRole.OFFICER)
    assert officer
    done = attach_stored_document(api.services, CODE, "cccd", doc, actor="officer-account:7")
    assert done["reused_from"]["document_id"] == doc
    assert _audit(api)[0].actor == "officer-account:7"


def test_migration_0018_matches_the_models_and_downgrades(api: Api) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    url = api.services.settings.db_url
    assert model_drift(url, "component_re") == []
    cfg = alembic_config(url)
    api.services.catalogue.dispose()
    before = ScriptDirectory.from_config(cfg).get_revision("0018").down_revision
    assert isinstance(before, str)
    command.downgrade(cfg, before)
    tables = set(inspect(api.services.catalogue.engine).get_table_names())
    assert not {"component_resends", "component_reuses"} & tables
    command.upgrade(cfg, "head")
    tables = set(inspect(api.services.catalogue.engine).get_table_names())
    assert {"component_resends", "component_reuses"} <= tables


def test_two_sends_at_once_start_one_run(api: Api, tmp_path: Path) -> None:
    from dossiers.completion import ComponentUpload, resend_component
    from sohoa.errors import SohoaError
    from storage.catalogue.clients import authenticate
    from testkit.scheduling import run_in_threads

    _partial(api)
    station_key = api.station["Authorization"].removeprefix("Bearer ")
    principal = authenticate(api.services.catalogue, station_key)
    assert principal is not None
    uploads = []
    for n in range(4):
        path = tmp_path / f"send{n}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(f"p{n}.jpg", small_page(f"lần gửi {n}"))
        uploads.append(ComponentUpload(path, [f"p{n}.jpg"]))
    outcomes: list[object] = []

    def send(n: int) -> None:
        try:
            outcomes.append(resend_component(api.services, CODE, "anh", uploads[n], station_id=principal.id))
        except SohoaError as exc:
            outcomes.append(exc.code)

    assert run_in_threads(send, len(uploads)) == []
    started = [o for o in outcomes if not isinstance(o, str)]
    assert len(started) == 1 and sorted(o for o in outcomes if isinstance(o, str)) == ["COMPONENT_BUSY"] * 3
    run_steps(api.services, ALL_QUEUES)
    assert _status(api)["state"] == "done"
    assert len(_documents(api)) == 2
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(func.count()).select_from(ComponentResend)) == 1
        scans = s.scalars(select(ScanFile.filename).where(ScanFile.component_id == _component_id(api, "anh"))).all()
    assert len(scans) == 1
