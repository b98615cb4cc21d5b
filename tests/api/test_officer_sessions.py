"""Officers signing in: session cookies done right, CSRF, expiry, revocation, lockout, TOTP used once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from storage.accounts import totp
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole, OfficerRole, OfficerSession, utcnow
from storage.catalogue.warehouse_models import AuditEntry
from tests.api.conftest import Api
from tests.officer_accounts import PASSWORD, make_officer, sign_in

HTML = {"Accept": "text/html"}


@pytest.fixture(params=["sqlite", "postgresql"])
def officer_api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    """The API on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return make_api()
    url = request.getfixturevalue("pg_url")
    settings = request.getfixturevalue("settings").model_copy(update={"database_url": url})
    client = TestClient(create_app(settings, start_workers=False))
    client.__enter__()
    request.addfinalizer(lambda: client.__exit__(None, None, None))
    return Api(client, client.app.state.services, {}, {})  # type: ignore[attr-defined]


def _set_cookie(response) -> SimpleCookie:  # type: ignore[no-untyped-def]
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


def _audit(api: Api) -> list[tuple[str, str, str]]:
    with api.services.catalogue.reading() as s:
        return [(e.actor, e.action, e.outcome) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_page_sign_in_enrols_totp_then_lands_with_a_rotated_cookie(officer_api: Api) -> None:
    api = officer_api
    make_officer(api.services, with_totp=False)
    client = api.client
    form = client.get("/can-bo/dang-nhap", headers=HTML)
    assert form.status_code == 200 and "Đăng nhập cán bộ" in form.text
    r = client.post(
        "/can-bo/dang-nhap",
        data={"ten_dang_nhap": "lan.nt", "mat_khau": PASSWORD, "csrf": _field(form.text, "csrf")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/can-bo/xac-thuc-hai-buoc"
    pending = _set_cookie(r)["sohoa_officer"].value
    # A pending session is no sign-in: officer pages still send the browser to the sign-in page.
    assert client.get("/can-bo", headers=HTML, follow_redirects=False).headers["location"] == "/can-bo/dang-nhap"
    enrol = client.get("/can-bo/xac-thuc-hai-buoc", headers=HTML)
    assert 'src="data:image/svg+xml' in enrol.text
    secret = re.search(r'id="khoa-bi-mat">([A-Z2-7 ]+)<', enrol.text).group(1).replace(" ", "")  # type: ignore[union-attr]
    wrong = client.post("/can-bo/xac-thuc-hai-buoc", data={"ma": "12345", "csrf": _field(enrol.text, "csrf")})
    assert "Mã xác thực không đúng" in wrong.text
    code = totp.code_at(secret, totp.current_step())
    r = client.post(
        "/can-bo/xac-thuc-hai-buoc", data={"ma": code, "csrf": _field(enrol.text, "csrf")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/can-bo/hang-cho"  # the review queue
    active = _set_cookie(r)["sohoa_officer"].value
    assert active != pending
    home = client.get("/can-bo", headers=HTML)
    assert "Xin chào Nguyễn Thị Lan" in home.text
    assert 'href="/can-bo/quan-tri"' not in home.text  # not an admin
    assert ("officer:lan.nt", "officer.totp_enrol", "ok") in _audit(api)
    assert ("officer:lan.nt", "officer.sign_in", "ok") in _audit(api)

    # Next time: password, then a code (the one used at enrolment is refused: each code counts once).
    client.cookies.clear()
    form = client.get("/can-bo/dang-nhap", headers=HTML)
    r = client.post(
        "/can-bo/dang-nhap",
        data={"ten_dang_nhap": "lan.nt", "mat_khau": PASSWORD, "csrf": _field(form.text, "csrf")},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/can-bo/dang-nhap/ma-xac-thuc"
    step = client.get("/can-bo/dang-nhap/ma-xac-thuc", headers=HTML)
    replay = client.post("/can-bo/dang-nhap/ma-xac-thuc", data={"ma": code, "csrf": _field(step.text, "csrf")})
    assert replay.status_code == 401 and "đã được dùng" in replay.text
    fresh = totp.code_at(secret, totp.current_step() + 1)
    r = client.post(
        "/can-bo/dang-nhap/ma-xac-thuc", data={"ma": fresh, "csrf": _field(step.text, "csrf")}, follow_redirects=False
    )
    assert r.status_code == 303 and client.get("/api/v1/officer/me").json()["username"] == "lan.nt"

    # Sign-out needs the session's CSRF token; then the session is gone.
    home = client.get("/can-bo", headers=HTML)
    assert client.post("/can-bo/dang-xuat", data={}, follow_redirects=False).status_code == 403
    r = client.post("/can-bo/dang-xuat", data={"csrf": _field(home.text, "csrf")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/can-bo/dang-nhap")
    assert client.get("/api/v1/officer/me").status_code == 401
    assert ("officer:lan.nt", "officer.sign_out", "ok") in _audit(api)


def test_cookie_flags_over_http_and_https(api: Api) -> None:
    account = make_officer(api.services)
    r = api.client.post(
        "/api/v1/officer/session", json={"username": "lan.nt", "password": PASSWORD, "totp": account.code()}
    )
    header = r.headers["set-cookie"]
    assert header.startswith("sohoa_officer=") and "HttpOnly" in header and "SameSite=lax" in header
    assert "Secure" not in header and "Path=/" in header
    token = _set_cookie(r)["sohoa_officer"].value
    with api.services.catalogue.reading() as s:
        assert token not in s.scalars(select(OfficerSession.token_hash)).all()  # only its hash is kept

    https = TestClient(api.client.app, base_url="https://testserver")
    r = https.post("/api/v1/officer/session", json={"username": "lan.nt", "password": PASSWORD, "totp": account.code()})
    header = r.headers["set-cookie"]
    assert header.startswith("__Host-sohoa_officer=") and "Secure" in header and "Path=/" in header
    assert "Domain" not in header and "HttpOnly" in header
    me = https.get("/api/v1/officer/me")
    assert me.status_code == 200 and me.json()["auth"] == "session"


def test_csrf_is_required_of_cookie_requests_that_change_things(api: Api) -> None:
    account = make_officer(api.services)
    csrf = sign_in(api.client, account)
    assert api.client.delete("/api/v1/officer/session").status_code == 403
    refused = api.client.delete("/api/v1/officer/session", headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "CSRF_REFUSED"
    cross = api.client.delete("/api/v1/officer/session", headers=csrf | {"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert api.client.get("/api/v1/officer/me").status_code == 200  # reads need no token
    assert api.client.delete("/api/v1/officer/session", headers=csrf).status_code == 204
    assert api.client.get("/api/v1/officer/me").status_code == 401


def test_sessions_end_when_idle_or_expired(api: Api) -> None:
    account = make_officer(api.services)
    sign_in(api.client, account)
    assert api.client.get("/api/v1/officer/me").status_code == 200
    with api.services.catalogue.session() as s:
        s.execute(update(OfficerSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    assert api.client.get("/api/v1/officer/me").status_code == 401

    sign_in(api.client, account)
    with api.services.catalogue.session() as s:
        s.execute(update(OfficerSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.client.get("/api/v1/officer/me").status_code == 401
    page = api.client.get("/can-bo/doi-mat-khau", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/can-bo/dang-nhap?tiep=/can-bo/doi-mat-khau"


def test_lockout_after_repeated_failures_even_for_the_right_password(make_api: Callable[..., Api]) -> None:
    api = make_api()
    account = make_officer(api.services)
    bad = {"username": "lan.nt", "password": "sai-mat-khau", "totp": "000000"}
    for _ in range(4):
        r = api.client.post("/api/v1/officer/session", json=bad)
        assert r.status_code == 401 and r.json()["detail"]["code"] == "SIGN_IN_FAILED"
    r = api.client.post("/api/v1/officer/session", json=bad)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "ACCOUNT_LOCKED"
    assert r.json()["detail"]["locked_until"]
    right = {"username": "lan.nt", "password": PASSWORD, "totp": account.code()}
    assert api.client.post("/api/v1/officer/session", json=right).json()["detail"]["code"] == "ACCOUNT_LOCKED"
    page = api.client.post("/can-bo/dang-nhap", data={"ten_dang_nhap": "lan.nt", "mat_khau": PASSWORD})
    assert page.status_code == 403
    assert re.search(r"tạm bị khóa .* sau \d\d:\d\d ngày \d\d/\d\d/\d{4} \(giờ Việt Nam\)", page.text)
    assert ("officer:lan.nt", "officer.lockout", "locked") in _audit(api)


def test_wrong_and_replayed_codes_are_refused_and_count_as_failures(api: Api) -> None:
    account = make_officer(api.services)
    base = {"username": "lan.nt", "password": PASSWORD}
    r = api.client.post("/api/v1/officer/session", json=base | {"totp": "12345x"})
    assert r.status_code == 401 and r.json()["detail"]["code"] == "TOTP_WRONG"
    code = account.code()
    assert api.client.post("/api/v1/officer/session", json=base | {"totp": code}).status_code == 200
    again = api.client.post("/api/v1/officer/session", json=base | {"totp": code})
    assert again.status_code == 401 and again.json()["detail"]["code"] == "TOTP_REPLAYED"
    outcomes = [o for actor, action, o in _audit(api) if actor == "officer:lan.nt" and action == "officer.sign_in"]
    assert outcomes == ["wrong_code", "ok", "replayed_code"]
    no_code = api.client.post("/api/v1/officer/session", json=base)
    assert no_code.json()["detail"]["code"] == "TOTP_WRONG"


def test_an_account_without_totp_must_enrol_on_the_page_first(api: Api) -> None:
    make_officer(api.services, with_totp=False)
    r = api.client.post("/api/v1/officer/session", json={"username": "lan.nt", "password": PASSWORD})
    assert r.status_code == 403 and r.json()["detail"]["code"] == "TOTP_ENROLMENT_REQUIRED"


def test_personal_keys_still_act_as_their_officer_and_roles_are_checked(api: Api) -> None:
    account = make_officer(api.services, role=OfficerRole.ADMIN, username="admin.bd", full_name="Lê Văn Quản")
    key = create_client(api.services.catalogue, "script", ClientRole.OFFICER, officer_id=account.id)
    me = api.client.get("/api/v1/officer/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["username"] == "admin.bd" and me.json()["auth"] == "key" and me.json()["csrf_token"] is None
    assert api.client.get("/api/v1/officer/me", headers=api.officer).status_code == 403  # a key of no officer
    sign_in(api.client, account)
    home = api.client.get("/can-bo", headers=HTML)
    assert 'href="/can-bo/quan-tri"' in home.text and "Đăng xuất" in home.text


def test_changing_the_password_ends_other_sessions(api: Api) -> None:
    account = make_officer(api.services)
    other = TestClient(api.client.app)
    sign_in(other, account)
    sign_in(api.client, account)
    page = api.client.get("/can-bo/doi-mat-khau", headers=HTML)
    csrf = _field(page.text, "csrf")
    new = {"mat_khau_moi": "mat-khau-moi-2027", "nhap_lai": "mat-khau-moi-2027"}
    wrong = api.client.post(
        "/can-bo/doi-mat-khau",
        data={"csrf": csrf, "mat_khau_hien_tai": "sai", **new},
    )
    assert wrong.status_code == 400 and "Mật khẩu hiện tại không đúng" in wrong.text
    ok = api.client.post(
        "/can-bo/doi-mat-khau",
        data={"csrf": csrf, "mat_khau_hien_tai": PASSWORD, **new},
    )
    assert ok.status_code == 200 and "Đã đổi mật khẩu" in ok.text
    assert api.client.get("/api/v1/officer/me").status_code == 200
    assert other.get("/api/v1/officer/me").status_code == 401
    assert ("officer:lan.nt", "officer.password_change", "ok") in _audit(api)
    text = repr(_audit(api))
    assert PASSWORD not in text and "mat-khau-moi-2027" not in text


def test_development_service_has_a_signed_in_capable_admin(api: Api) -> None:
    import json

    creds = json.loads((api.services.settings.var_dir / "dev-credentials.json").read_text())
    account = creds["officer_account"]
    assert account["otpauth_uri"].startswith("otpauth://totp/")
    body = {
        "username": account["username"],
        "password": account["password"],
        "totp": totp.code_at(account["totp_secret"], totp.current_step()),
    }
    me = api.client.post("/api/v1/officer/session", json=body)
    assert me.status_code == 200 and me.json()["role"] == "centre_admin"


def test_dangerous_next_addresses_are_not_followed(api: Api) -> None:
    account = make_officer(api.services, with_totp=False)
    del account
    form = api.client.get("/can-bo/dang-nhap?tiep=https://evil.example/", headers=HTML)
    assert 'value="https://evil.example/"' in form.text  # carried, but never followed
    from api.officer_pages import after_sign_in

    class _Req:
        app = api.client.app

    for wanted in ("https://evil.example/", "//evil.example", "/can-bo\\@evil", None):
        assert after_sign_in(_Req(), wanted) == "/can-bo/hang-cho"  # type: ignore[arg-type]
    assert after_sign_in(_Req(), "/can-bo/doi-mat-khau") == "/can-bo/doi-mat-khau"  # type: ignore[arg-type]


def test_the_signed_in_officer_fixture(api: Api, signed_in_officer) -> None:  # type: ignore[no-untyped-def]
    account, csrf = signed_in_officer("hoa.tt", role=OfficerRole.RESULT, full_name="Trần Thị Hoa")
    me = api.client.get("/api/v1/officer/me").json()
    assert me["username"] == account.username == "hoa.tt" and me["role"] == "result_officer"
    assert csrf == {"X-CSRF-Token": me["csrf_token"]}


def test_an_https_public_address_makes_cookies_secure(make_api: Callable[..., Api]) -> None:
    api = make_api(public_base_url="https://sohoa.example.vn")
    account = make_officer(api.services)
    body = {"username": "lan.nt", "password": PASSWORD, "totp": account.code()}
    header = api.client.post("/api/v1/officer/session", json=body).headers["set-cookie"]
    assert header.startswith("__Host-sohoa_officer=") and "Secure" in header
