"""OpenID Connect sign-in for centres with an identity provider (``officer_auth.oidc_providers``).

Authorization code flow with PKCE (S256), ``state`` and ``nonce``: the browser goes to the provider
with a code challenge; the provider sends it back to ``/can-bo/oidc/<name>/callback`` with a code,
which is exchanged (with the verifier and the client's secret) for an ID token. The token's
signature is checked against the provider's published keys (JWKS), then its issuer, audience,
expiry and nonce. The identity must already be an officer's (no self-registration): see
``storage.accounts.signin.Accounts.officer_for_oidc``.

The flow's own state (provider, state, nonce, verifier, where to go after) waits in a short-lived
HttpOnly cookie signed with the portal's HMAC key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from api.officer_auth import accounts, secure_cookies, set_session_cookie
from api.officer_pages import after_sign_in, officer_page
from sohoa.settings import OidcProvider
from storage.accounts.sessions import Stage

log = logging.getLogger(__name__)
router = APIRouter()

FLOW_COOKIE = "sohoa_oidc"
FLOW_TTL_S = 600
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
FAILED = "Đăng nhập qua nhà cung cấp định danh không thành công"


class OidcFailure(Exception):
    """Why a sign-in through the provider is refused (logged in English; the page says it in Vietnamese)."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(reason)
        self.message = message or f"{FAILED}. Vui lòng thử lại hoặc đăng nhập bằng tài khoản của hệ thống."


def _provider(request: Request, name: str) -> OidcProvider | None:
    providers = request.app.state.services.settings.officer_auth.oidc_providers
    return next((p for p in providers if p.name == name), None)


def _flow_cookie(request: Request) -> str:
    return f"__Host-{FLOW_COOKIE}" if secure_cookies(request) else FLOW_COOKIE


def _sign(request: Request, payload: bytes) -> str:
    return hmac.new(request.app.state.portal_secret, b"oidc-flow\n" + payload, hashlib.sha256).hexdigest()


def _pack(request: Request, flow: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(flow, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_sign(request, payload)}"


def _unpack(request: Request, value: str | None) -> dict[str, Any] | None:
    if not value or "." not in value:
        return None
    payload, mac = value.rsplit(".", 1)
    if not hmac.compare_digest(mac.encode(), _sign(request, payload.encode()).encode()):
        return None
    flow: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload.encode()))
    return flow if flow.get("exp", 0) > time.time() else None


def _redirect_uri(request: Request, provider: OidcProvider) -> str:
    base = request.app.state.services.settings.api.public_base_url or str(request.base_url).rstrip("/")
    return f"{base}/can-bo/oidc/{provider.name}/callback"


def _metadata(request: Request, provider: OidcProvider) -> dict[str, Any]:
    """The provider's discovery document (cached per process); its issuer must be the configured one."""
    cache: dict[str, dict[str, Any]] = request.app.state.__dict__.setdefault("oidc_metadata", {})
    if provider.name not in cache:
        url = f"{provider.issuer}/.well-known/openid-configuration"
        try:
            meta = httpx.get(url, timeout=provider.timeout_s).raise_for_status().json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailure(f"discovery failed: {exc}") from None
        if meta.get("issuer") != provider.issuer:
            raise OidcFailure(f"discovery names issuer {meta.get('issuer')!r}, not {provider.issuer!r}")
        cache[provider.name] = meta
    return cache[provider.name]


def _client_secret(provider: OidcProvider) -> str | None:
    return provider.client_secret_file.read_text().strip() if provider.client_secret_file else None


def _start(request: Request, provider: OidcProvider, wanted: str | None) -> tuple[str, dict[str, Any]]:
    meta = _metadata(request, provider)
    flow = {
        "p": provider.name,
        "s": secrets.token_urlsafe(24),
        "n": secrets.token_urlsafe(24),
        "v": secrets.token_urlsafe(48),
        "t": wanted or "",
        "exp": int(time.time()) + FLOW_TTL_S,
    }
    params = [
        ("response_type", "code"),
        ("client_id", provider.client_id),
        ("redirect_uri", _redirect_uri(request, provider)),
        ("scope", provider.scopes),
        ("state", flow["s"]),
        ("nonce", flow["n"]),
        ("code_challenge", create_s256_code_challenge(flow["v"])),
        ("code_challenge_method", "S256"),
    ]
    return add_params_to_uri(meta["authorization_endpoint"], params), flow


def _exchange(request: Request, provider: OidcProvider, http: httpx.Client, code: str, verifier: str) -> dict[str, Any]:
    """The token endpoint's answer to the code (client_secret_basic, or a public client's client_id)."""
    meta = _metadata(request, provider)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(request, provider),
        "code_verifier": verifier,
    }
    secret = _client_secret(provider)
    auth: httpx.Auth = httpx.BasicAuth(provider.client_id, secret) if secret else httpx.Auth()
    if secret is None:
        form["client_id"] = provider.client_id
    try:
        answer = http.post(meta["token_endpoint"], data=form, auth=auth, headers={"Accept": "application/json"})
        token: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcFailure(f"token exchange failed: {exc}") from None
    if answer.status_code != 200:
        raise OidcFailure(f"token endpoint answered {answer.status_code}: {str(token.get('error'))[:100]}")
    return token


def _id_claims(request: Request, provider: OidcProvider, flow: dict[str, Any], code: str) -> dict[str, Any]:
    """Exchange the code, and the ID token's claims once its signature, issuer, audience, expiry, nonce hold."""
    meta = _metadata(request, provider)
    with httpx.Client(timeout=provider.timeout_s) as http:
        token = _exchange(request, provider, http, code, flow["v"])
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcFailure("no id_token in the token response")
        try:
            keys = KeySet.import_key_set(http.get(meta["jwks_uri"]).raise_for_status().json())
            decoded = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": provider.issuer},
                aud={"essential": True, "value": provider.client_id},
                sub={"essential": True},
                nonce={"essential": True, "value": flow["n"]},
                exp={"essential": True},
                iat={"essential": True},
                leeway=60,
            ).validate(decoded.claims)
        except (JoseError, ValueError, httpx.HTTPError) as exc:
            raise OidcFailure(f"ID token refused: {exc}") from None
        claims = dict(decoded.claims)
        audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audience) > 1 and claims.get("azp") != provider.client_id:
            raise OidcFailure("ID token for several audiences without this client as azp")
        wanted = {provider.username_claim, provider.centre_claim} - {None}
        access = token.get("access_token")
        if not wanted <= claims.keys() and meta.get("userinfo_endpoint") and isinstance(access, str):
            try:
                info = http.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access}"}).json()
            except (httpx.HTTPError, ValueError):
                info = {}
            if isinstance(info, dict) and info.get("sub") == claims["sub"]:  # the same subject's claims only
                claims = {**info, **claims}
        return claims


def _failure_page(request: Request, failure: OidcFailure, name: str) -> Response:
    log.warning("OIDC sign-in through %s refused: %s", name, failure)
    providers = request.app.state.services.settings.officer_auth.oidc_providers
    response = officer_page(request, "officer_login.html", None, 401, error=failure.message, providers=providers)
    response.delete_cookie(_flow_cookie(request), path="/")
    return response


@router.get("/can-bo/oidc/{name}/dang-nhap", include_in_schema=False, response_model=None)
async def oidc_start(request: Request, name: str, tiep: str | None = None) -> Response:
    provider = _provider(request, name)
    if provider is None:
        return _failure_page(request, OidcFailure("unknown provider", "Không có nhà cung cấp định danh này."), name)
    try:
        url, flow = await run_in_threadpool(_start, request, provider, tiep)
    except OidcFailure as failure:
        return _failure_page(request, failure, name)
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        _flow_cookie(request),
        _pack(request, flow),
        max_age=FLOW_TTL_S,
        path="/",
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level navigation: Lax cookies come with it
        secure=secure_cookies(request),
    )
    return response


@router.get("/can-bo/oidc/{name}/callback", include_in_schema=False, response_model=None)
async def oidc_callback(
    request: Request, name: str, code: str | None = None, state: str | None = None, error: str | None = None
) -> Response:
    provider = _provider(request, name)
    flow = _unpack(request, request.cookies.get(_flow_cookie(request)))
    try:
        if provider is None:
            raise OidcFailure("unknown provider", "Không có nhà cung cấp định danh này.")
        if error:
            raise OidcFailure(f"provider answered error={error[:100]}")
        if flow is None or flow.get("p") != name:
            raise OidcFailure(
                "no or expired sign-in flow cookie", f"{FAILED}: phiên đăng nhập đã hết hạn, vui lòng thử lại."
            )
        if not state or not hmac.compare_digest(state.encode(), str(flow["s"]).encode()):
            raise OidcFailure("state does not match")
        if not code:
            raise OidcFailure("no code")
        claims = await run_in_threadpool(_id_claims, request, provider, flow, code)
        centre = provider.centre
        if provider.centre_claim:
            value = claims.get(provider.centre_claim)
            if not isinstance(value, str) or (centre is not None and value != centre):
                raise OidcFailure(f"centre claim {provider.centre_claim!r} missing or not this provider's centre")
            centre = value
        username = claims.get(provider.username_claim)
        officer_id = await run_in_threadpool(
            accounts(request).officer_for_oidc,
            provider.issuer,
            str(claims["sub"]),
            username if isinstance(username, str) else None,
            centre=centre,
            provider=provider.name,
        )
        if officer_id is None:
            raise OidcFailure(
                "no officer for this identity",
                f"{FAILED}: danh tính này chưa gắn với tài khoản cán bộ nào. Vui lòng liên hệ quản trị trung tâm.",
            )
    except OidcFailure as failure:
        return _failure_page(request, failure, name)
    client = request.client.host if request.client else ""
    new = await run_in_threadpool(
        accounts(request).open_session, officer_id, Stage.ACTIVE, f"oidc:{name}", client=client
    )
    response = RedirectResponse(
        after_sign_in(request, flow.get("t")), status_code=303, headers={"Cache-Control": "no-store"}
    )
    set_session_cookie(request, response, new)
    response.delete_cookie(_flow_cookie(request), path="/")
    return response
