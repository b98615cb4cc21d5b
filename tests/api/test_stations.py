"""Stations: idempotent receipts with reuse at intake, multipart batches, per-station limits, hostile uploads."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile

from sqlalchemy import func, select

from storage.catalogue.models import ClientRole, Dossier
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest
from tests.api.conftest import APPLICANT_ID, BIRTH, Api, add_signed_document, asgi_scope, push_dossier

CODE = "000.00.12.H26-261121-0201"


def test_receipt_lists_reusable_documents_and_reposting_creates_nothing(api: Api) -> None:
    services = api.services
    valid = add_signed_document(
        services,
        owner_id=APPLICANT_ID,
        doc_type="citizen_id_card",
        code="000.00.12.H26-250101-0001",
        fields={"expiry_date": {"value": "2099-01-01"}},
        birth_date=BIRTH,
    )
    add_signed_document(  # expired
        services,
        owner_id=APPLICANT_ID,
        doc_type="citizen_id_card",
        code="000.00.12.H26-250101-0002",
        fields={"expiry_date": "2020-01-01"},
        birth_date=BIRTH,
    )
    add_signed_document(
        services,
        owner_id="079200054321",
        doc_type="citizen_id_card",
        code="000.00.12.H26-250101-0003",
        birth_date=BIRTH,
    )
    birth = add_signed_document(
        services,
        owner_id=APPLICANT_ID,
        doc_type="birth_certificate",
        code="000.00.12.H26-250101-0004",
        birth_date=BIRTH,
    )
    comps = [
        {"id": "cccd", "declared_type": "citizen_id_card", "files": ["a.jpg"]},
        {"id": "ks", "declared_type": "birth_certificate", "files": ["b.jpg"]},
        {"id": "tk", "declared_type": "application_form", "files": ["c.jpg"]},
    ]
    receipt = push_dossier(api, CODE, components=comps)
    by_ref = {c["ref"]: c for c in receipt["components"]}
    assert receipt["reuse"] == {"status": "checked"}
    assert [d["doc_type"] for d in by_ref["cccd"]["reusable"]] == ["citizen_id_card"]
    assert by_ref["cccd"]["reusable"][0]["expires"] == "2099-01-01"
    assert [d["doc_type"] for d in by_ref["ks"]["reusable"]] == ["birth_certificate"]
    assert by_ref["tk"]["reusable"] == [] and receipt["reusable_documents"] == 2
    assert receipt["created"] is True and receipt["events_url"].endswith("/events")
    with services.catalogue.reading() as s:  # telling the station about the applicant's records is audited
        disclosed = s.scalars(select(AuditEntry).where(AuditEntry.action == "reuse-at-intake")).all()
    assert [(e.subject, e.outcome, e.detail["documents"]) for e in disclosed] == [
        (f"owner:{APPLICANT_ID}", "ok", sorted([valid, birth]))
    ]
    references = {by_ref[ref]["reusable"][0]["reference"]: doc for ref, doc in (("cccd", valid), ("ks", birth))}
    assert disclosed[0].detail["references"] == references  # what the station holds resolves through the audit
    assert disclosed[0].actor.startswith("station:") and CODE in disclosed[0].purpose

    with services.catalogue.session() as s:
        before = s.scalar(select(func.count(Dossier.id)))
    again = push_dossier(api, CODE, components=comps)
    assert again["created"] is False and again["dossier_id"] == receipt["dossier_id"]
    assert [c["id"] for c in again["components"]] == [c["id"] for c in receipt["components"]]
    with services.catalogue.session() as s:
        assert s.scalar(select(func.count(Dossier.id))) == before


def test_idempotency_key_returns_the_first_receipt(api: Api) -> None:
    body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE), {"a.jpg": b"\xff\xd8 1"})
    headers = api.station | {"Content-Type": "application/zip", "Idempotency-Key": "batch-42"}
    first = api.client.post("/api/v1/batches", content=body, headers=headers)
    second = api.client.post("/api/v1/batches", content=body, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["dossier_id"] == second.json()["dossier_id"]
    changed = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE), {"a.jpg": b"\xff\xd8 2"})
    conflict = api.client.post("/api/v1/batches", content=changed, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["detail"]["code"] == "DOSSIER_EXISTS"


def test_multipart_manifest_and_parts_with_traversal_names_are_neutralised(api: Api) -> None:
    m = manifest(
        [
            {"id": "ok", "declared_type": "application_form", "files": ["scan1.jpg"]},
            {"id": "evil", "files": ["../../evil.jpg"]},
            {"id": "renamed", "files": ["x.jpg"]},
        ],
        code=CODE,
    )
    files = [
        ("manifest", (None, json.dumps(m), "application/json")),
        ("scan", ("scan1.jpg", b"\xff\xd8 page", "image/jpeg")),
        ("scan", ("../../evil.jpg", b"\xff\xd8 evil", "image/jpeg")),
        ("scan", ("../x.jpg", b"\xff\xd8 x", "image/jpeg")),
    ]
    r = api.client.post("/api/v1/batches", files=files, headers=api.station)
    assert r.status_code == 202, r.text
    by_ref = {c["ref"]: c for c in r.json()["components"]}
    assert by_ref["ok"]["state"] == "pending" and by_ref["ok"]["error"] is None
    assert by_ref["evil"]["state"] == "failed" and by_ref["evil"]["error"]["code"] == "UNSAFE_PATH"
    assert by_ref["renamed"]["error"]["code"] == "FILE_MISSING"
    var = api.services.settings.var_dir
    assert not list(var.parent.rglob("evil.jpg")) and not list(var.parent.parent.glob("evil.jpg"))
    assert not list((api.services.settings.work_dir / "uploads").iterdir())


def test_zip_member_names_that_escape_are_refused(api: Api) -> None:
    body = make_zip(manifest([{"id": "c1", "files": ["/etc/passwd"]}], code=CODE), {"/etc/passwd": b"x"})
    r = api.client.post("/api/v1/batches", content=body, headers=api.station | {"Content-Type": "application/zip"})
    assert r.status_code == 202 and r.json()["components"][0]["error"]["code"] == "UNSAFE_PATH"


def test_zip_bomb_is_refused_with_413_before_expanding(api: Api) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest([{"id": "c1", "files": ["bomb.jpg"]}], code=CODE)))
        zf.writestr("bomb.jpg", b"\0" * (150 * 1024 * 1024))
    assert len(buf.getvalue()) < 1024 * 1024
    r = api.client.post(
        "/api/v1/batches", content=buf.getvalue(), headers=api.station | {"Content-Type": "application/zip"}
    )
    assert r.status_code == 413 and r.json()["detail"]["code"] == "BATCH_TOO_LARGE"


def test_declared_oversize_is_refused_before_reading_the_body(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(max_upload_bytes=1024 * 1024)
    app = api.client.app
    key = api.station["Authorization"].encode()
    headers = [(b"authorization", key), (b"content-type", b"application/zip"), (b"content-length", b"600000000")]
    scope = asgi_scope("POST", "/api/v1/batches", headers)
    sent: list[dict] = []

    async def receive() -> dict:
        raise AssertionError("the body was read")

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413


def test_per_station_rate_limit(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(station_burst=2, station_batches_per_minute=1)
    other = api.key("Trạm 2", ClientRole.STATION)
    body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE), {"a.jpg": b"\xff\xd8"})
    headers = {"Content-Type": "application/zip"}
    codes = [
        api.client.post("/api/v1/batches", content=body, headers=api.station | headers).status_code for _ in range(3)
    ]
    assert codes[:2] == [202, 200] and codes[2] == 429
    limited = api.client.post("/api/v1/batches", content=body, headers=api.station | headers)
    assert limited.json()["detail"]["code"] == "RATE_LIMITED" and 1 <= int(limited.headers["retry-after"]) <= 60
    other_body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE[:-1] + "9"), {"a.jpg": b"\xff\xd8"})
    assert api.client.post("/api/v1/batches", content=other_body, headers=other | headers).status_code == 202


def test_unauthenticated_forged_revoked_and_wrong_role_keys_are_refused(api: Api) -> None:
    from storage.catalogue.clients import revoke_client

    body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE), {"a.jpg": b"\xff\xd8"})
    agency = api.key("Sở Tư pháp", ClientRole.AGENCY, "000.00.12.H26")
    revoked = api.key("Trạm cũ", ClientRole.STATION)
    revoke_client(api.services.catalogue, revoked["Authorization"].split("_")[1])
    prefix = api.station["Authorization"].split("_")[1]
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer sohoa_000000000000_forged"}, 401),
        ({"Authorization": f"Bearer sohoa_{prefix}_not-the-secret"}, 401),
        ({"Authorization": "Basic c3RhdGlvbjpwYXNz"}, 401),
        (revoked, 401),
        (api.officer, 403),
        (agency, 403),
    ):
        r = api.client.post("/api/v1/batches", content=body, headers=headers | {"Content-Type": "application/zip"})
        assert r.status_code == status, (headers, r.text)


def test_a_station_can_have_its_own_rate_and_size_limits(api: Api) -> None:
    from storage.catalogue.clients import StationLimits, create_client, list_clients, set_limits

    small = create_client(
        api.services.catalogue, "Trạm nhỏ", ClientRole.STATION, limits=StationLimits(max_batch_bytes=2048)
    )
    slow = create_client(api.services.catalogue, "Trạm chậm", ClientRole.STATION)
    prefix = slow.split("_")[1]
    assert set_limits(api.services.catalogue, prefix, StationLimits(batches_per_minute=1, batch_burst=1))
    row = next(c for c in list_clients(api.services.catalogue) if c["prefix"] == prefix)
    assert row["batches_per_minute"] == 1 and row["batch_burst"] == 1
    headers = {"Content-Type": "application/zip"}
    body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE), {"a.jpg": b"\xff\xd8" + os.urandom(4096)})
    too_big = api.client.post("/api/v1/batches", content=body, headers=headers | {"Authorization": f"Bearer {small}"})
    assert too_big.status_code == 413 and too_big.json()["detail"]["code"] == "UPLOAD_TOO_LARGE"
    as_slow = headers | {"Authorization": f"Bearer {slow}"}
    assert api.client.post("/api/v1/batches", content=body, headers=as_slow).status_code == 202
    refused = api.client.post("/api/v1/batches", content=body, headers=as_slow)
    assert refused.status_code == 429 and refused.json()["detail"]["code"] == "RATE_LIMITED"
    # Every other station keeps the service-wide limits: larger batches, and a second push right away.
    for digit in "78":
        other = make_zip(
            manifest([{"id": "c1", "files": ["a.jpg"]}], code=CODE[:-1] + digit),
            {"a.jpg": b"\xff\xd8" + os.urandom(4096)},
        )
        assert api.client.post("/api/v1/batches", content=other, headers=api.station | headers).status_code == 202
