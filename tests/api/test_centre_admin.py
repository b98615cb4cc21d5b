"""A centre's administrator (issue 20): their centre's details and policy, their officers (add, disable, unlock,
reset TOTP) by the JSON API and by the page ``/can-bo/quan-tri``; never another centre's officers (no IDOR);
every change audited with the administrator as actor."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from storage.accounts import passwords
from storage.catalogue.clients import create_client
from storage.catalogue.models import Centre, ClientRole, Officer, OfficerRole, utcnow
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.audit import verify
from tests.api.conftest import Api
from tests.officer_accounts import make_officer, sign_in

HTML = {"Accept": "text/html"}


def _officer(api: Api, username: str) -> Officer:
    with api.services.catalogue.reading() as s:
        found = s.scalar(select(Officer).where(Officer.username == username))
        assert found is not None
        s.expunge(found)
        return found


def _audit(api: Api, action: str) -> list[tuple[str, str]]:
    with api.services.catalogue.reading() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
        return [(e.actor, e.subject) for e in rows]


def _lock(api: Api, username: str) -> None:
    with api.services.catalogue.session() as s:
        s.execute(
            update(Officer)
            .where(Officer.username == username)
            .values(locked_until=utcnow().replace(year=2099), failed_logins=5)
        )


def _centres(api: Api) -> None:
    make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD", full_name="Lê Văn Quản")
    make_officer(api.services, "lan.nt", centre="BD")
    make_officer(api.services, "hoa.hk", centre="HK", full_name="Phạm Thị Hoa")


def test_an_administrator_manages_their_centres_officers_and_no_other(api: Api) -> None:
    _centres(api)
    admin = make_officer(api.services, "quan.tri2", role=OfficerRole.ADMIN, centre="BD")
    csrf = sign_in(api.client, admin)

    listed = api.client.get("/api/v1/centre/officers")
    assert listed.status_code == 200, listed.text
    assert {o["username"] for o in listed.json()} == {"quan.tri", "lan.nt", "quan.tri2"}  # not hoa.hk of HK
    lan = next(o for o in listed.json() if o["username"] == "lan.nt")
    assert lan["totp"] and lan["password"] and not lan["locked"] and not lan["disabled"] and lan["centre"] == "BD"

    made = api.client.post(
        "/api/v1/centre/officers",
        json={"username": "minh.pv", "full_name": "Phạm Văn Minh", "title": "Chuyên viên", "role": "result_officer"},
        headers=csrf,
    )
    assert made.status_code == 201, made.text
    minh = _officer(api, "minh.pv")
    assert minh.role == OfficerRole.RESULT and minh.title == "Chuyên viên"
    assert minh.password_hash and passwords.verify_password(minh.password_hash, made.json()["initial_password"])
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(Centre.code).where(Centre.id == minh.centre_id)) == "BD"
    taken = api.client.post(
        "/api/v1/centre/officers",
        json={"username": "hoa.hk", "full_name": "X", "role": "receiving_officer"},
        headers=csrf,
    )
    assert taken.status_code == 409 and taken.json()["detail"]["code"] == "OFFICER_EXISTS"

    _lock(api, "lan.nt")
    assert api.client.post("/api/v1/centre/officers/lan.nt/unlock", headers=csrf).status_code == 200
    assert _officer(api, "lan.nt").locked_until is None
    assert api.client.post("/api/v1/centre/officers/lan.nt/reset-totp", headers=csrf).status_code == 200
    assert _officer(api, "lan.nt").totp_confirmed_at is None
    assert api.client.post("/api/v1/centre/officers/lan.nt/disable", headers=csrf).status_code == 200
    assert _officer(api, "lan.nt").disabled_at is not None
    own = api.client.post("/api/v1/centre/officers/quan.tri2/disable", headers=csrf)
    assert own.status_code == 409 and own.json()["detail"]["code"] == "OFFICER_SELF_ACTION"

    # Another centre's officer answers as one that does not exist, and is left as it was.
    _lock(api, "hoa.hk")
    for action in ("disable", "unlock", "reset-totp"):
        r = api.client.post(f"/api/v1/centre/officers/hoa.hk/{action}", headers=csrf)
        assert r.status_code == 404 and r.json()["detail"]["code"] == "OFFICER_NOT_FOUND", r.text
    hoa = _officer(api, "hoa.hk")
    assert hoa.disabled_at is None and hoa.locked_until is not None and hoa.totp_confirmed_at is not None
    # Without the session's CSRF token nothing changes.
    assert api.client.post("/api/v1/centre/officers/quan.tri/disable").status_code == 403
    assert _officer(api, "quan.tri").disabled_at is None

    actor = "officer:quan.tri2"
    assert _audit(api, "officer.create")[-1] == (actor, "officer:minh.pv")
    assert _audit(api, "officer.unlock") == [(actor, "officer:lan.nt")]
    assert _audit(api, "officer.totp_reset") == [(actor, "officer:lan.nt")]
    assert _audit(api, "officer.disable") == [(actor, "officer:lan.nt")]
    assert verify(api.services.catalogue).ok


def test_other_roles_and_other_centres_are_refused(api: Api) -> None:
    _centres(api)
    hk_admin = make_officer(api.services, "admin.hk", role=OfficerRole.ADMIN, centre="HK")
    receiving = _officer(api, "lan.nt")
    key = create_client(api.services.catalogue, "Lan", ClientRole.OFFICER, officer_id=receiving.id)
    as_receiving = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/api/v1/centre/officers", headers=as_receiving).status_code == 403
    assert api.client.post("/api/v1/centre/officers/lan.nt/disable", headers=as_receiving).status_code == 403
    body = {"username": "x.y", "full_name": "X", "role": "centre_admin"}
    assert api.client.post("/api/v1/centre/officers", json=body, headers=as_receiving).status_code == 403
    page = api.client.get("/can-bo/quan-tri", headers=as_receiving | HTML)
    assert page.status_code == 403 and "chỉ dành cho cán bộ quản trị" in page.text

    csrf = sign_in(api.client, hk_admin)  # the administrator of centre HK, acting on BD's officers
    assert api.client.post("/api/v1/centre/officers/lan.nt/disable", headers=csrf).status_code == 404
    page = api.client.post("/can-bo/quan-tri/can-bo/lan.nt/vo-hieu", data={"csrf": csrf["X-CSRF-Token"]}, headers=HTML)
    assert page.status_code == 404 and "trong trung tâm của bạn" in page.text
    patch = api.client.patch("/api/v1/centres/BD", json={"signing_policy": "auto_confident"}, headers=csrf)
    assert patch.status_code == 403 and patch.json()["detail"]["code"] == "CENTRE_FORBIDDEN"
    assert _officer(api, "lan.nt").disabled_at is None
    assert _audit(api, "officer.disable") == [] and _audit(api, "centre_update") == []


def test_the_admin_page_changes_the_centre_and_adds_an_officer(api: Api) -> None:
    _centres(api)
    admin = make_officer(api.services, "quan.tri2", role=OfficerRole.ADMIN, centre="BD")
    token = sign_in(api.client, admin)["X-CSRF-Token"]

    page = api.client.get("/can-bo/quan-tri", headers=HTML)
    assert page.status_code == 200
    for text in ("UBND phường Ba Đình", "Xác nhận tất cả trước khi ký", "lan.nt", "Nguyễn Thị Lan", "Đã cài"):
        assert text in page.text
    assert "hoa.hk" not in page.text and 'aria-current="page">Quản trị' in page.text
    assert page.text.count(f'name="csrf" value="{token}"') >= 4  # every form, the sign-out's too

    form = {
        "csrf": token,
        "name": "UBND phường Ba Đình",
        "parent_name": "UBND quận Ba Đình",
        "place": "Ba Đình",
        "symbol": "UBND",
        "signing_policy": "auto_confident",
    }
    saved = api.client.post("/can-bo/quan-tri/trung-tam", data=form, headers=HTML, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/can-bo/quan-tri?da=trung-tam"
    with api.services.catalogue.reading() as s:
        bd = s.scalar(select(Centre).where(Centre.code == "BD"))
        assert bd is not None and (bd.signing_policy, bd.parent_name, bd.symbol) == (
            "auto_confident",
            "UBND quận Ba Đình",
            "UBND",
        )
    assert [a for a, _ in _audit(api, "centre_update")] == ["officer:quan.tri2"]
    again = api.client.get("/can-bo/quan-tri?da=trung-tam", headers=HTML)
    assert "Đã lưu thông tin trung tâm." in again.text
    assert '<option value="auto_confident" selected>Tự động ký bản chắc chắn, còn lại chờ xác nhận' in again.text
    bad = api.client.post("/can-bo/quan-tri/trung-tam", data=form | {"signing_policy": "auto_all"}, headers=HTML)
    assert bad.status_code == 422 and "Chế độ ký không hợp lệ" in bad.text
    forged = api.client.post("/can-bo/quan-tri/trung-tam", data=form | {"csrf": "sai"}, headers=HTML)
    assert forged.status_code == 403

    added = api.client.post(
        "/can-bo/quan-tri/can-bo",
        data={
            "csrf": token,
            "username": "tuan.la",
            "full_name": "Lê Anh Tuấn",
            "title": "",
            "role": "receiving_officer",
        },
        headers=HTML,
    )
    assert added.status_code == 200 and added.headers["cache-control"] == "no-store"
    shown = re.search(r'id="mat-khau-moi"><strong>([^<]+)</strong>', added.text)
    assert shown is not None
    tuan = _officer(api, "tuan.la")
    assert tuan.password_hash and passwords.verify_password(tuan.password_hash, shown.group(1))
    assert "mat-khau-moi" not in api.client.get("/can-bo/quan-tri", headers=HTML).text  # shown once

    _lock(api, "lan.nt")
    for action, field in (("mo-khoa", "locked_until"), ("dat-lai-totp", "totp_confirmed_at")):
        r = api.client.post(f"/can-bo/quan-tri/can-bo/lan.nt/{action}", data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert getattr(_officer(api, "lan.nt"), field) is None
    r = api.client.post("/can-bo/quan-tri/can-bo/lan.nt/vo-hieu", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and _officer(api, "lan.nt").disabled_at is not None
    assert _audit(api, "officer.disable") == [("officer:quan.tri2", "officer:lan.nt")]


def test_a_forgotten_password_is_reset_by_the_centres_administrator_only(api: Api) -> None:
    from fastapi.testclient import TestClient

    _centres(api)
    admin = make_officer(api.services, "quan.tri2", role=OfficerRole.ADMIN, centre="BD")
    lan = make_officer(api.services, "lan.nt2", centre="BD")
    with TestClient(api.client.app) as lans_browser:
        sign_in(lans_browser, lan)
        assert lans_browser.get("/api/v1/officer/me").status_code == 200
        _lock(api, "lan.nt2")
        csrf = sign_in(api.client, admin)

        reset = api.client.post("/api/v1/centre/officers/lan.nt2/reset-password", headers=csrf)
        assert reset.status_code == 200, reset.text
        assert reset.headers["cache-control"] == "no-store" and reset.json()["username"] == "lan.nt2"
        new = reset.json()["password"]
        after = _officer(api, "lan.nt2")
        assert passwords.verify_password(after.password_hash or "", new)
        assert not passwords.verify_password(after.password_hash or "", lan.password)
        assert (
            after.locked_until is None and after.totp_confirmed_at is not None
        )  # TOTP kept: the password alone is not enough
        assert lans_browser.get("/api/v1/officer/me").status_code == 401  # her sessions ended
    assert new not in str(_audit(api, "officer.password_reset"))
    assert _audit(api, "officer.password_reset") == [("officer:quan.tri2", "officer:lan.nt2")]

    own = api.client.post("/api/v1/centre/officers/quan.tri2/reset-password", headers=csrf)
    assert own.status_code == 409 and own.json()["detail"]["code"] == "OFFICER_OWN_PASSWORD"
    other = api.client.post("/api/v1/centre/officers/hoa.hk/reset-password", headers=csrf)
    assert other.status_code == 404 and other.json()["detail"]["code"] == "OFFICER_NOT_FOUND"
    assert api.client.post("/api/v1/centre/officers/lan.nt2/reset-password").status_code == 403  # no CSRF token

    page = api.client.post(
        "/can-bo/quan-tri/can-bo/lan.nt2/dat-lai-mat-khau", data={"csrf": csrf["X-CSRF-Token"]}, headers=HTML
    )
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = re.search(r'id="mat-khau-moi"><strong>([^<]+)</strong>', page.text)
    assert shown is not None and "Đã đặt lại mật khẩu của" in page.text
    assert passwords.verify_password(_officer(api, "lan.nt2").password_hash or "", shown.group(1))
    refused = api.client.post(
        "/can-bo/quan-tri/can-bo/hoa.hk/dat-lai-mat-khau", data={"csrf": csrf["X-CSRF-Token"]}, headers=HTML
    )
    assert refused.status_code == 404 and "mat-khau-moi" not in refused.text
    assert verify(api.services.catalogue).ok


def test_the_settings_default_centre_shows_its_own_policy(api: Api) -> None:
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="default")
    token = sign_in(api.client, admin)["X-CSRF-Token"]
    with api.services.catalogue.reading() as s:
        policy = s.scalar(select(Centre.signing_policy).where(Centre.code == "default"))
    assert policy == "auto_all"  # made from the settings: every copy signed at once
    page = api.client.get("/can-bo/quan-tri", headers=HTML)
    assert page.status_code == 200
    assert '<option value="auto_all" selected>Tự động ký tất cả (cấu hình hệ thống)' in page.text
    assert '<option value="confirm_all">Xác nhận tất cả trước khi ký' in page.text
    # Saving the names leaves the settings' policy as it is (it is not one an administrator chooses).
    form = {"csrf": token, "name": "Trung tâm mới", "signing_policy": "auto_all"}
    r = api.client.post("/can-bo/quan-tri/trung-tam", data=form, headers=HTML, follow_redirects=False)
    assert r.status_code == 303
    with api.services.catalogue.reading() as s:
        assert s.execute(select(Centre.name, Centre.signing_policy).where(Centre.code == "default")).one() == (
            "Trung tâm mới",
            "auto_all",
        )


def test_a_username_of_digits_only_is_refused_by_the_api_and_the_page(api: Api) -> None:
    """``officer:3`` is how an officer-role API key with id 3 is audited: no officer may be named ``3``."""
    _centres(api)
    admin = make_officer(api.services, "quan.tri2", role=OfficerRole.ADMIN, centre="BD")
    csrf = sign_in(api.client, admin)
    by_api = api.client.post(
        "/api/v1/centre/officers", json={"username": "3", "full_name": "X", "role": "receiving_officer"}, headers=csrf
    )
    assert by_api.status_code == 422 and "chỉ gồm chữ số" in by_api.text, by_api.text
    page = {"csrf": csrf["X-CSRF-Token"], "username": "0042", "full_name": "Y", "role": "receiving_officer"}
    by_page = api.client.post("/can-bo/quan-tri/can-bo", data=page, headers=HTML)
    assert by_page.status_code == 422 and "chỉ gồm chữ số" in by_page.text
    with api.services.catalogue.reading() as s:
        assert s.scalars(select(Officer.username).where(Officer.username.in_(["3", "0042"]))).all() == []
    assert [sub for _, sub in _audit(api, "officer.create") if sub in ("officer:3", "officer:0042")] == []
