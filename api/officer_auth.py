"""Who an officer request acts as: a signed-in person (session cookie) or an officer's personal API key.

Every officer action is authorised by role and audited under ``OfficerPrincipal.actor``.

The session cookie (``sohoa_officer``; ``__Host-sohoa_officer`` with Secure over HTTPS) is HttpOnly
and SameSite=Lax and holds a random token whose hash the catalogue keeps (``storage.accounts``). A
request that changes anything and is authenticated by the cookie must also carry the session's
CSRF token: the ``X-CSRF-Token`` header (scripts read it from ``<meta name="csrf-token">``) or a
form field ``csrf`` (``{{ officer_csrf }}`` in officer templates); a browser that says the request
comes from another site (``api.csrf.cross_site``) is refused as well.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from api.auth import bearer, principal_of
from api.csrf import cross_site
from storage.accounts.sessions import NewSession, SessionInfo, Stage
from storage.accounts.signin import Accounts
from storage.catalogue.models import ClientRole, OfficerRole, utcnow
from storage.catalogue.officers import OfficerPrincipal, load_officer

COOKIE = "sohoa_officer"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_REFUSED = (
    "Yêu cầu không được gửi từ trang của hệ thống (thiếu hoặc sai mã chống giả mạo), nên đã bị từ chối. "
    "Vui lòng tải lại trang rồi thực hiện lại."
)


def _forbidden() -> HTTPException:
    return HTTPException(
        403, detail={"code": "FORBIDDEN", "message": "Tài khoản không có quyền thực hiện thao tác này."}
    )


def signed_out(message: str = "Vui lòng đăng nhập bằng tài khoản cán bộ.") -> HTTPException:
    return HTTPException(401, detail={"code": "UNAUTHENTICATED", "message": message})


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def secure_cookies(request: Request) -> bool:
    """Secure and ``__Host-``: the service's public address is https (settings), or this request came over it."""
    return bool(request.app.state.services.settings.secure_cookies) or request.url.scheme == "https"


def cookie_name(request: Request) -> str:
    return f"__Host-{COOKIE}" if secure_cookies(request) else COOKIE


def set_session_cookie(request: Request, response: Response, new: NewSession) -> None:
    """The session cookie, replacing any earlier one (the token rotates at every sign-in step)."""
    response.set_cookie(
        cookie_name(request),
        new.token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        max_age=max(1, int((new.expires_at - utcnow()).total_seconds())),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request), path="/", secure=secure_cookies(request), httponly=True, samesite="lax"
    )


def session_of(request: Request, *, stages: tuple[Stage, ...] = (Stage.ACTIVE,)) -> SessionInfo | None:
    """The live session of this browser's cookie in one of ``stages`` (blocking: reads the catalogue)."""
    token = request.cookies.get(cookie_name(request))
    if not token:
        return None
    info = accounts(request).find_session(token)
    return info if info is not None and info.stage in stages else None


def officer_from_key(request: Request, credentials: HTTPAuthorizationCredentials | None) -> OfficerPrincipal:
    """The officer whose personal API key this is (blocking); 401 without a key, 403 for a key of no officer."""
    principal = principal_of(request, credentials, (ClientRole.OFFICER,))
    if principal.officer_id is None:
        raise HTTPException(
            403,
            detail={
                "code": "NOT_AN_OFFICER_ACCOUNT",
                "message": "Khóa truy cập này không gắn với tài khoản cán bộ nào.",
            },
        )
    officer = load_officer(request.app.state.services.catalogue, principal.officer_id)
    if officer is None:
        raise HTTPException(
            401, detail={"code": "UNAUTHENTICATED", "message": "Tài khoản cán bộ đã bị khóa hoặc không còn."}
        )
    return officer


def officer_from_session(request: Request) -> tuple[OfficerPrincipal, SessionInfo] | None:
    """The signed-in officer of this browser and their session (blocking); None when signed out."""
    info = session_of(request)
    if info is None:
        return None
    officer = load_officer(request.app.state.services.catalogue, info.officer_id)
    return None if officer is None else (officer, info)


async def csrf_refusal(request: Request, info: SessionInfo) -> str | None:
    """Why a state-changing request with a session cookie must be refused (None: it carries the token)."""
    if request.method in SAFE_METHODS:
        return None
    reason = cross_site(request)
    if reason is not None:
        return reason
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if token is None and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)  # cached: the route reads the same form
        token = value if isinstance(value, str) else None
    if not token or not hmac.compare_digest(token.encode(), info.csrf_token.encode()):
        return "csrf token missing or wrong"
    return None


async def current_officer(request: Request, credentials: HTTPAuthorizationCredentials | None) -> OfficerPrincipal:
    """The calling officer by personal API key or session cookie (CSRF-checked); 401/403 otherwise."""
    if credentials is not None:
        return await run_in_threadpool(officer_from_key, request, credentials)
    found = await run_in_threadpool(officer_from_session, request)
    if found is None:
        raise signed_out()
    officer, info = found
    if await csrf_refusal(request, info) is not None:
        raise HTTPException(403, detail={"code": "CSRF_REFUSED", "message": CSRF_REFUSED})
    request.state.officer_session = info
    return officer


def require_officer(*roles: OfficerRole) -> Callable[..., Awaitable[OfficerPrincipal]]:
    """A dependency: the calling officer, if their role is one of ``roles`` (all roles when none is given).

    Accepts an officer's personal API key (``Authorization: Bearer``) or a signed-in browser's session
    cookie; with the cookie, POST/PUT/PATCH/DELETE need the session's CSRF token (module doc).
    ``request.state.officer_session`` is the session (cookie callers only).
    """
    allowed = roles or tuple(OfficerRole)

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> OfficerPrincipal:
        officer = await current_officer(request, credentials)
        if officer.role not in allowed:
            raise _forbidden()
        return officer

    return dependency
