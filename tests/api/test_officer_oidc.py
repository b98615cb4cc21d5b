"""OpenID Connect sign-in end to end against a real provider (node oidc-provider), through httpx.

The browser's part is played by an httpx client at the provider (its login and consent forms) and the
TestClient at the service: authorization code + PKCE, state and nonce, the ID token checked by its JWKS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from sohoa.settings import OfficerAuthSettings, OidcProvider, Settings
from storage.catalogue.models import Officer
from storage.catalogue.warehouse_models import AuditEntry
from testkit.oidc_provider import OidcProviderServer
from tests.officer_accounts import ensure_centre, make_officer

SECRET = "client-secret-for-the-tests-" + "x" * 20
CALLBACK = "http://testserver/can-bo/oidc/{name}/callback"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProviderServer]:
    clients = [
        {
            "client_id": "sohoa",
            "client_secret": SECRET,
            "redirect_uris": [CALLBACK.format(name=n) for n in ("idp", "idp-centre")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }
    ]
    accounts = {"hoa.tt": {"centre": "HN"}, "lan.nt": {"centre": "BD"}}
    with OidcProviderServer(tmp_path_factory.mktemp("oidc"), clients, accounts) as server:
        yield server


@pytest.fixture
def client(settings: Settings, provider: OidcProviderServer, tmp_path: Path) -> Iterator[TestClient]:
    secret_file = tmp_path / "oidc-client-secret"
    secret_file.write_text(SECRET + "\n")
    common = {"issuer": provider.issuer, "client_id": "sohoa", "client_secret_file": secret_file}
    auth = OfficerAuthSettings(
        oidc_providers=(
            OidcProvider(name="idp", display_name="Cổng định danh thử nghiệm", centre="BD", **common),
            OidcProvider(name="idp-centre", centre_claim="centre", scopes="openid profile centre", **common),
        )
    )
    with TestClient(create_app(settings.model_copy(update={"officer_auth": auth}), start_workers=False)) as c:
        yield c


def _form(html: str, base: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action, html[:2000]
    fields = {
        unescape(m[0]): unescape(m[1]) for m in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
    }
    return urljoin(base, unescape(action.group(1))), fields


def through_provider(start: str, login: str) -> str:
    """Follow the provider from the authorization request: sign in as ``login``, consent; the callback URL."""
    with httpx.Client(timeout=10) as browser:
        url, method, data = start, "GET", None
        for _ in range(20):
            r = browser.request(method, url, data=data)
            if r.is_redirect:
                url, method, data = urljoin(url, r.headers["location"]), "GET", None
                if url.startswith("http://testserver/"):
                    return url
                continue
            assert r.status_code == 200, r.text[:2000]
            url, fields = _form(r.text, str(r.url))
            if fields.get("prompt") == "login":
                fields |= {"login": login, "password": "any"}
            method, data = "POST", fields
        raise AssertionError("the provider never sent the browser back")


def start(client: TestClient, name: str = "idp") -> str:
    r = client.get(f"/can-bo/oidc/{name}/dang-nhap", follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_an_officer_signs_in_through_the_provider(client: TestClient, provider: OidcProviderServer) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    make_officer(services, "lan.nt", with_totp=False)
    page = client.get("/can-bo/dang-nhap", headers=HTML)
    assert 'href="/can-bo/oidc/idp/dang-nhap"' in page.text and "Cổng định danh thử nghiệm" in page.text

    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{provider.issuer}/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    assert query["redirect_uri"] == ["http://testserver/can-bo/oidc/idp/callback"]

    callback = through_provider(authorize, "lan.nt")
    r = client.get(callback, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/can-bo/hang-cho", r.text  # the review queue
    me = client.get("/api/v1/officer/me").json()
    assert me["username"] == "lan.nt" and me["auth"] == "session"
    assert "Xin chào Nguyễn Thị Lan" in client.get("/can-bo", headers=HTML).text
    with services.catalogue.reading() as s:
        officer = s.scalars(select(Officer).where(Officer.username == "lan.nt")).one()
        assert (officer.oidc_issuer, officer.oidc_subject) == (provider.issuer, "lan.nt")
        entries = [(e.actor, e.action, e.outcome, e.detail) for e in s.scalars(select(AuditEntry))]
    assert ("officer:lan.nt", "officer.oidc_link", "ok", {"provider": "idp"}) in entries
    assert any(
        a == "officer:lan.nt" and act == "officer.sign_in" and d.get("method") == "oidc:idp" for a, act, _, d in entries
    )

    # The same code again: the flow is over (its cookie is gone), and the provider would refuse the code too.
    again = client.get(callback, headers=HTML)
    assert again.status_code == 401 and "hết hạn" in again.text


def test_an_identity_of_no_officer_is_refused(client: TestClient) -> None:
    make_officer(client.app.state.services, "lan.nt", with_totp=False)  # type: ignore[attr-defined]
    callback = through_provider(start(client), "nguoi.la")
    r = client.get(callback, headers=HTML)
    assert r.status_code == 401 and "chưa gắn với tài khoản cán bộ" in r.text
    assert client.get("/api/v1/officer/me").status_code == 401


def test_a_wrong_state_is_refused(client: TestClient) -> None:
    make_officer(client.app.state.services, "lan.nt", with_totp=False)  # type: ignore[attr-defined]
    callback = through_provider(start(client), "lan.nt")
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    r = client.get(forged, headers=HTML)
    assert r.status_code == 401 and "không thành công" in r.text
    assert client.get("/api/v1/officer/me").status_code == 401


def test_a_callback_without_the_flow_cookie_is_refused(client: TestClient) -> None:
    make_officer(client.app.state.services, "lan.nt", with_totp=False)  # type: ignore[attr-defined]
    callback = through_provider(start(client), "lan.nt")
    client.cookies.clear()  # another browser than the one that started: a login CSRF attempt
    assert client.get(callback, headers=HTML).status_code == 401
    assert client.get("/api/v1/officer/me").status_code == 401


def test_the_centre_claim_must_name_the_officers_centre(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    ensure_centre(services, "HN", "UBND phường Hàng Bạc")
    make_officer(services, "hoa.tt", centre="BD", full_name="Trần Thị Hoa", with_totp=False)  # claim says HN
    make_officer(services, "lan.nt", with_totp=False)  # claim says BD
    refused = client.get(through_provider(start(client, "idp-centre"), "hoa.tt"), headers=HTML)
    assert refused.status_code == 401
    r = client.get(through_provider(start(client, "idp-centre"), "lan.nt"), follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/officer/me").json()["username"] == "lan.nt"


def test_a_client_with_the_wrong_secret_gets_no_session(
    settings: Settings, provider: OidcProviderServer, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong-secret"
    wrong.write_text("not-the-secret")
    auth = OfficerAuthSettings(
        oidc_providers=(OidcProvider(name="idp", issuer=provider.issuer, client_id="sohoa", client_secret_file=wrong),)
    )
    with TestClient(create_app(settings.model_copy(update={"officer_auth": auth}), start_workers=False)) as c:
        make_officer(c.app.state.services, "lan.nt", with_totp=False)  # type: ignore[attr-defined]
        r = c.get(through_provider(start(c), "lan.nt"), headers=HTML)
        assert r.status_code == 401 and "không thành công" in r.text
        assert c.get("/api/v1/officer/me").status_code == 401
