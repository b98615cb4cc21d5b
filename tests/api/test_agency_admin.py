"""Agencies and grants (issue 21): a centre administrator registers an agency and grants it document types
for a purpose by the JSON API; the agency then fetches what it was granted and nothing else (another type,
a revoked grant, an expired one, a disabled agency: refused); every change audited with the administrator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.audit import verify
from storage.warehouse.sharing import grant_access
from tests.api.conftest import APPLICANT_ID, Api, add_signed_document
from tests.officer_accounts import make_officer, sign_in

AGENCY = "000.00.13.H26"
CODE, CODE2 = "000.00.12.H26-261121-0301", "000.00.12.H26-261121-0302"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"
DOCS = "/api/v1/agency/documents"


def _audit(api: Api, *actions: str) -> list[tuple[str, str, str]]:
    with api.services.catalogue.reading() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq))
        return [(e.actor, e.action, e.subject) for e in rows]


def _fetch(api: Api, key: dict[str, str], doc_type: str) -> tuple[int, dict]:
    r = api.client.get(DOCS, params={"owner_id": APPLICANT_ID, "purpose": PURPOSE, "doc_type": doc_type}, headers=key)
    return r.status_code, r.json()


def test_agency_sees_what_it_was_granted_and_nothing_else(api: Api) -> None:
    birth = add_signed_document(api.services, owner_id=APPLICANT_ID, doc_type="birth_certificate", code=CODE)
    add_signed_document(api.services, owner_id=APPLICANT_ID, doc_type="land_use_certificate", code=CODE2)
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    csrf = sign_in(api.client, admin)

    made = api.client.post("/api/v1/agencies", json={"code": AGENCY, "name": "UBND phường Hoàn Kiếm"}, headers=csrf)
    assert made.status_code == 201, made.text
    assert made.json()["disabled"] is False and made.json()["grants"] == []
    key = api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)  # as `sohoa keys create --role agency`
    assert _fetch(api, key, "birth_certificate")[1]["detail"]["code"] == "GRANT_REQUIRED"

    body = {"agency_code": AGENCY, "doc_types": ["birth_certificate"], "purpose": PURPOSE, "days": 30}
    granted = api.client.post("/api/v1/grants", json=body, headers=csrf)
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert grant["state"] == "active" and grant["doc_types"] == ["birth_certificate"] and grant["purpose"] == PURPOSE
    expires = datetime.fromisoformat(grant["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)

    status, answer = _fetch(api, key, "birth_certificate")
    assert status == 200 and [d["id"] for d in answer["documents"]] == [birth]
    status, answer = _fetch(api, key, "land_use_certificate")  # not granted
    assert status == 403 and answer["detail"]["code"] == "GRANT_REQUIRED"

    listed = api.client.get("/api/v1/grants", params={"agency": AGENCY})
    assert [g["id"] for g in listed.json()] == [grant["id"]]
    revoked = api.client.delete(f"/api/v1/grants/{grant['id']}", headers=csrf)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert _fetch(api, key, "birth_certificate")[0] == 403
    again = api.client.delete(f"/api/v1/grants/{grant['id']}", headers=csrf)
    assert again.status_code == 404 and again.json()["detail"]["code"] == "GRANT_NOT_FOUND"

    second = api.client.post("/api/v1/grants", json=body, headers=csrf).json()
    assert _fetch(api, key, "birth_certificate")[0] == 200
    disabled = api.client.post(f"/api/v1/agencies/{AGENCY}/disable", headers=csrf)
    assert disabled.status_code == 200, disabled.text
    view = disabled.json()
    assert view["disabled"] is True and view["active_keys"] == 0
    assert {g["id"]: g["state"] for g in view["grants"]} == {grant["id"]: "revoked", second["id"]: "revoked"}
    assert _fetch(api, key, "birth_certificate")[0] == 401  # its key was revoked
    new_key = api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)  # a new key finds no grant
    assert _fetch(api, new_key, "birth_certificate")[1]["detail"]["code"] == "GRANT_REQUIRED"
    refused = api.client.post("/api/v1/grants", json=body, headers=csrf)
    assert refused.status_code == 409 and refused.json()["detail"]["code"] == "AGENCY_DISABLED"

    enabled = api.client.post("/api/v1/agencies", json={"code": AGENCY, "name": "UBND phường Hoàn Kiếm"}, headers=csrf)
    assert enabled.json()["disabled"] is False  # registering it again re-enables it
    assert api.client.post("/api/v1/grants", json=body, headers=csrf).status_code == 201
    assert _fetch(api, new_key, "birth_certificate")[0] == 200

    actor = "officer:quan.tri"
    assert _audit(api, "agency_register", "agency_disable", "grant", "revoke") == [
        (actor, "agency_register", f"agency:{AGENCY}"),
        (actor, "grant", f"agency:{AGENCY}"),
        (actor, "revoke", f"grant:{grant['id']}"),
        (actor, "grant", f"agency:{AGENCY}"),
        (actor, "agency_disable", f"agency:{AGENCY}"),
        (actor, "agency_register", f"agency:{AGENCY}"),
        (actor, "grant", f"agency:{AGENCY}"),
    ]
    assert verify(api.services.catalogue).ok


def test_an_expired_grant_is_refused_and_listed_as_expired(api: Api) -> None:
    add_signed_document(api.services, owner_id=APPLICANT_ID, doc_type="birth_certificate", code=CODE)
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    csrf = sign_in(api.client, admin)
    api.client.post("/api/v1/agencies", json={"code": AGENCY, "name": "UBND phường Hoàn Kiếm"}, headers=csrf)
    past = datetime.now(UTC) - timedelta(days=10)
    grant_access(
        api.services.catalogue, AGENCY, ["birth_certificate"], PURPOSE, valid_from=past, valid_for=timedelta(days=5)
    )
    key = api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)
    assert _fetch(api, key, "birth_certificate")[0] == 403
    assert [g["state"] for g in api.client.get("/api/v1/grants").json()] == ["expired"]


def test_grants_are_checked_and_only_an_administrator_manages_them(api: Api) -> None:
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    assert api.client.get("/api/v1/agencies").status_code == 401
    csrf = sign_in(api.client, admin)
    api.client.post("/api/v1/agencies", json={"code": AGENCY, "name": "UBND phường Hoàn Kiếm"}, headers=csrf)

    def grant(**change: object) -> tuple[int, str]:
        body = {"agency_code": AGENCY, "doc_types": ["birth_certificate"], "purpose": PURPOSE, "days": 30, **change}
        r = api.client.post("/api/v1/grants", json=body, headers=csrf)
        detail = r.json().get("detail")
        return r.status_code, detail.get("code", "") if isinstance(detail, dict) else ""

    assert grant(doc_types=["passport_of_mars"]) == (422, "GRANT_INVALID")
    assert grant(agency_code="000.00.99.H26") == (404, "AGENCY_NOT_FOUND")
    assert grant(agency_code="not-a-code")[0] == 422
    assert grant(days=0)[0] == 422
    assert grant(purpose="  ")[0] == 422
    assert api.client.post("/api/v1/agencies/000.00.99.H26/disable", headers=csrf).status_code == 404
    assert api.client.post("/api/v1/agencies", json={"code": "x", "name": "y"}, headers=csrf).status_code == 422
    body = {"agency_code": AGENCY, "doc_types": ["birth_certificate"], "purpose": PURPOSE}
    assert api.client.post("/api/v1/grants", json=body).status_code == 403  # a cookie POST without its CSRF token
    assert _audit(api, "grant") == []

    api.client.cookies.clear()
    clerk = make_officer(api.services, "lan.nt", role=OfficerRole.RECEIVING, centre="BD")
    clerk_csrf = sign_in(api.client, clerk)
    assert api.client.get("/api/v1/agencies").status_code == 403
    assert api.client.get("/api/v1/grants").status_code == 403
    assert api.client.post("/api/v1/grants", json=body, headers=clerk_csrf).status_code == 403
    assert api.client.post(f"/api/v1/agencies/{AGENCY}/disable", headers=clerk_csrf).status_code == 403
    assert (
        api.client.get(DOCS, headers=api.station, params={"owner_id": APPLICANT_ID, "purpose": PURPOSE}).status_code
        == 403
    )
