"""Officers signing in and out: pages (/can-bo/…) and the JSON API (/api/v1/officer/…).

Password, then the TOTP code (or its enrolment on first sign-in): each step rotates the session
token. Lockout after ``officer_auth.max_failed_logins`` failures in a row (passwords and codes).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api import csrf
from api.officer_auth import (
    accounts,
    clear_session_cookie,
    csrf_refusal,
    require_officer,
    session_of,
    set_session_cookie,
)
from api.officer_pages import SIGN_IN, after_sign_in, officer_page
from signing.vntime import to_vn
from storage.accounts.sessions import SessionInfo, Stage
from storage.accounts.signin import Check, Outcome
from storage.catalogue.officers import OfficerPrincipal, load_officer

router = APIRouter()

TOTP_STEP = "/can-bo/dang-nhap/ma-xac-thuc"
ENROL = "/can-bo/xac-thuc-hai-buoc"
WRONG_PASSWORD = "Tên đăng nhập hoặc mật khẩu không đúng."
WRONG_CODE = "Mã xác thực không đúng. Vui lòng nhập mã đang hiển thị trên ứng dụng xác thực."
REPLAYED_CODE = "Mã xác thực này đã được dùng. Vui lòng chờ mã mới trên ứng dụng xác thực rồi nhập lại."
PENDING_EXPIRED = "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."


def locked_message(check: Check) -> str:
    until = to_vn(check.locked_until) if check.locked_until else None
    when = f" sau {until:%H:%M} ngày {until:%d/%m/%Y} (giờ Việt Nam)" if until else " sau ít phút"
    return f"Tài khoản tạm bị khóa do nhập sai nhiều lần. Vui lòng thử lại{when} hoặc liên hệ quản trị trung tâm."


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _with_next(url: str, wanted: str | None) -> str:
    return f"{url}?tiep={quote(wanted, safe='/')}" if wanted else url


def _login_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    providers = request.app.state.services.settings.officer_auth.oidc_providers
    return officer_page(request, "officer_login.html", None, status, providers=providers, **context)


# -- sign-in pages ------------------------------------------------------------------------------------


@router.get("/can-bo/dang-nhap", include_in_schema=False, response_model=None)
async def sign_in_page(request: Request, tiep: str | None = None, da_dang_xuat: str | None = None) -> Response:
    if await run_in_threadpool(session_of, request) is not None:
        return _redirect(after_sign_in(request, tiep))
    notice = "Bạn đã đăng xuất." if da_dang_xuat else None
    return _login_page(request, tiep=tiep or "", notice=notice)


@router.post("/can-bo/dang-nhap", include_in_schema=False, response_model=None)
async def sign_in_submit(
    request: Request,
    ten_dang_nhap: Annotated[str, Form(max_length=200)] = "",
    mat_khau: Annotated[str, Form(max_length=1000)] = "",
    csrf_field: Annotated[str, Form(alias="csrf")] = "",
    tiep: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if csrf.refusal(request, csrf_field) is not None:
        return _login_page(request, 403, error=csrf.REFUSED.replace("Cổng tra cứu", "hệ thống"), tiep=tiep)
    acc = accounts(request)
    check = await run_in_threadpool(acc.check_password, ten_dang_nhap, mat_khau, client=_client(request))
    if check.outcome == Outcome.LOCKED:
        return _login_page(request, 403, error=locked_message(check), username=ten_dang_nhap, tiep=tiep)
    if check.outcome != Outcome.OK or check.officer_id is None or check.next_stage is None:
        return _login_page(request, 401, error=WRONG_PASSWORD, username=ten_dang_nhap, tiep=tiep)
    earlier = await run_in_threadpool(session_of, request, stages=tuple(Stage))  # ended: a new token
    new = await run_in_threadpool(
        acc.open_session,
        check.officer_id,
        check.next_stage,
        "password",
        replacing=earlier.id if earlier else None,
        client=_client(request),
    )
    target = {Stage.ACTIVE: after_sign_in(request, tiep), Stage.TOTP: TOTP_STEP, Stage.ENROL: ENROL}
    response = _redirect(
        _with_next(target[check.next_stage], tiep) if check.next_stage != Stage.ACTIVE else target[Stage.ACTIVE]
    )
    set_session_cookie(request, response, new)
    return response


async def _pending(request: Request, stage: Stage) -> SessionInfo | None:
    info = await run_in_threadpool(session_of, request, stages=(stage,))
    if info is not None:
        request.state.officer_session = info
    return info


@router.get(TOTP_STEP, include_in_schema=False, response_model=None)
async def totp_page(request: Request, tiep: str | None = None) -> Response:
    if await _pending(request, Stage.TOTP) is None:
        return _redirect(_with_next(SIGN_IN, tiep))
    return officer_page(request, "officer_totp.html", None, tiep=tiep or "")


@router.post(TOTP_STEP, include_in_schema=False, response_model=None)
async def totp_submit(
    request: Request, ma: Annotated[str, Form(max_length=20)] = "", tiep: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    info = await _pending(request, Stage.TOTP)
    if info is None:
        return _login_page(request, 401, error=PENDING_EXPIRED, tiep=tiep)
    if await csrf_refusal(request, info) is not None:
        return officer_page(request, "officer_totp.html", None, 403, error=csrf.REFUSED, tiep=tiep)
    acc = accounts(request)
    check = await run_in_threadpool(acc.check_code, info.officer_id, ma, client=_client(request))
    if check.outcome == Outcome.LOCKED:
        response = _login_page(request, 403, error=locked_message(check), tiep=tiep)
        clear_session_cookie(request, response)
        return response
    if check.outcome != Outcome.OK:
        error = REPLAYED_CODE if check.outcome == Outcome.REPLAYED else WRONG_CODE
        return officer_page(request, "officer_totp.html", None, 401, error=error, tiep=tiep)
    new = await run_in_threadpool(
        acc.open_session, info.officer_id, Stage.ACTIVE, info.method, replacing=info.id, client=_client(request)
    )
    done: Response = _redirect(after_sign_in(request, tiep))
    set_session_cookie(request, done, new)
    return done


# -- TOTP enrolment ------------------------------------------------------------------------------------


def qr_svg_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG ``data:`` URI (rendered here: the secret never leaves the service)."""
    code = segno.make_qr(text, error="m")
    return str(code.svg_data_uri(scale=8, border=2))


def _grouped(secret: str) -> str:
    return " ".join(re.findall(".{1,4}", secret))


async def _enrolling(request: Request) -> tuple[SessionInfo, OfficerPrincipal | None] | None:
    info = await run_in_threadpool(session_of, request, stages=(Stage.ENROL, Stage.ACTIVE))
    if info is None:
        return None
    request.state.officer_session = info
    officer = None
    if info.stage == Stage.ACTIVE:
        officer = await run_in_threadpool(load_officer, request.app.state.services.catalogue, info.officer_id)
    return info, officer


async def _enrol_page(
    request: Request, info: SessionInfo, officer: OfficerPrincipal | None, **context: Any
) -> Response:
    acc = accounts(request)
    if info.stage == Stage.ACTIVE and await run_in_threadpool(acc.totp_enabled, info.officer_id):
        return officer_page(request, "officer_enrol.html", officer, enabled=True, **context)
    secret, uri = await run_in_threadpool(acc.enrolment_secret, info.officer_id)
    return officer_page(
        request, "officer_enrol.html", officer, qr=qr_svg_data_uri(uri), secret=_grouped(secret), **context
    )


@router.get(ENROL, include_in_schema=False, response_model=None)
async def enrol_page(request: Request, tiep: str | None = None) -> Response:
    found = await _enrolling(request)
    if found is None:
        return _redirect(_with_next(SIGN_IN, ENROL))
    return await _enrol_page(request, *found, tiep=tiep or "")


@router.post(ENROL, include_in_schema=False, response_model=None)
async def enrol_submit(
    request: Request, ma: Annotated[str, Form(max_length=20)] = "", tiep: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    found = await _enrolling(request)
    if found is None:
        return _login_page(request, 401, error=PENDING_EXPIRED, tiep=tiep)
    info, officer = found
    if await csrf_refusal(request, info) is not None:
        return await _enrol_page(request, info, officer, error=csrf.REFUSED, tiep=tiep)
    acc = accounts(request)
    if not await run_in_threadpool(acc.confirm_enrolment, info.officer_id, ma):
        return await _enrol_page(request, info, officer, error=WRONG_CODE, tiep=tiep)
    if info.stage == Stage.ACTIVE:
        return officer_page(request, "officer_enrol.html", officer, enabled=True, done=True)
    new = await run_in_threadpool(
        acc.open_session, info.officer_id, Stage.ACTIVE, info.method, replacing=info.id, client=_client(request)
    )
    response = _redirect(after_sign_in(request, tiep))
    set_session_cookie(request, response, new)
    return response


# -- signed in -----------------------------------------------------------------------------------------

AnyOfficer = Annotated[OfficerPrincipal, Depends(require_officer())]


@router.get("/can-bo", include_in_schema=False)
async def landing(request: Request, officer: AnyOfficer) -> HTMLResponse:
    return officer_page(request, "officer_home.html", officer)


@router.post("/can-bo/dang-xuat", include_in_schema=False)
async def sign_out(request: Request, officer: AnyOfficer) -> RedirectResponse:
    info = getattr(request.state, "officer_session", None)
    if info is not None:
        await run_in_threadpool(accounts(request).close_session, info.id, officer.id)
    response = _redirect(f"{SIGN_IN}?da_dang_xuat=1")
    clear_session_cookie(request, response)
    return response


@router.get("/can-bo/doi-mat-khau", include_in_schema=False)
async def password_page(request: Request, officer: AnyOfficer) -> HTMLResponse:
    return officer_page(request, "officer_password.html", officer)


@router.post("/can-bo/doi-mat-khau", include_in_schema=False)
async def password_submit(
    request: Request,
    officer: AnyOfficer,
    mat_khau_hien_tai: Annotated[str, Form(max_length=1000)] = "",
    mat_khau_moi: Annotated[str, Form(max_length=1000)] = "",
    nhap_lai: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse:
    info = getattr(request.state, "officer_session", None)
    if mat_khau_moi != nhap_lai:
        return officer_page(
            request, "officer_password.html", officer, 400, error="Hai lần nhập mật khẩu mới không khớp."
        )
    problem = await run_in_threadpool(
        accounts(request).change_password,
        officer.id,
        mat_khau_hien_tai,
        mat_khau_moi,
        keep_session=info.id if info else None,
    )
    if problem:
        return officer_page(request, "officer_password.html", officer, 400, error=problem)
    return officer_page(request, "officer_password.html", officer, done=True)


# -- JSON API ------------------------------------------------------------------------------------------


class SessionRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)
    totp: str | None = Field(default=None, max_length=20)


def _me(officer: OfficerPrincipal, info: SessionInfo | None) -> dict[str, Any]:
    return {
        "id": officer.id,
        "username": officer.username,
        "full_name": officer.full_name,
        "title": officer.title,
        "role": str(officer.role),
        "centre": officer.centre_code,
        "auth": "session" if info else "key",
        "csrf_token": info.csrf_token if info else None,
        "expires_at": info.expires_at.isoformat() if info else None,
    }


def _refuse(status: int, code: str, message: str, **extra: Any) -> HTTPException:
    return HTTPException(status, detail={"code": code, "message": message, **extra})


@router.post("/api/v1/officer/session", tags=["public"])  # signing in needs no key
async def create_session(request: Request, body: SessionRequest) -> JSONResponse:
    """Sign in with username, password and TOTP code: sets the session cookie, returns the CSRF token.

    Requests that change anything with this cookie must send the token as ``X-CSRF-Token``.
    An account that has not set up TOTP yet signs in on the page ``/can-bo/dang-nhap`` first.
    """
    if csrf.cross_site(request) is not None:
        raise _refuse(403, "CSRF_REFUSED", "Yêu cầu đăng nhập đến từ một trang web khác nên đã bị từ chối.")
    acc, client = accounts(request), _client(request)
    check = await run_in_threadpool(acc.check_password, body.username, body.password, client=client)
    if check.outcome == Outcome.LOCKED:
        until = check.locked_until.isoformat() if check.locked_until else None
        raise _refuse(403, "ACCOUNT_LOCKED", locked_message(check), locked_until=until)
    if check.outcome != Outcome.OK or check.officer_id is None:
        raise _refuse(401, "SIGN_IN_FAILED", WRONG_PASSWORD)
    if check.next_stage == Stage.ENROL:
        raise _refuse(
            403,
            "TOTP_ENROLMENT_REQUIRED",
            "Tài khoản chưa thiết lập xác thực hai bước. Vui lòng đăng nhập trên trang /can-bo/dang-nhap để thiết lập.",
        )
    if check.next_stage == Stage.TOTP:
        code = await run_in_threadpool(acc.check_code, check.officer_id, body.totp or "", client=client)
        if code.outcome == Outcome.LOCKED:
            until = code.locked_until.isoformat() if code.locked_until else None
            raise _refuse(403, "ACCOUNT_LOCKED", locked_message(code), locked_until=until)
        if code.outcome != Outcome.OK:
            message = REPLAYED_CODE if code.outcome == Outcome.REPLAYED else WRONG_CODE
            raise _refuse(401, "TOTP_REPLAYED" if code.outcome == Outcome.REPLAYED else "TOTP_WRONG", message)
    new = await run_in_threadpool(acc.open_session, check.officer_id, Stage.ACTIVE, "password", client=client)
    info = await run_in_threadpool(acc.find_session, new.token)
    officer = await run_in_threadpool(load_officer, request.app.state.services.catalogue, check.officer_id)
    if officer is None or info is None:  # disabled between the two statements
        raise _refuse(401, "SIGN_IN_FAILED", WRONG_PASSWORD)
    response = JSONResponse(_me(officer, info), headers={"Cache-Control": "no-store"})
    set_session_cookie(request, response, new)
    return response


@router.delete("/api/v1/officer/session", tags=["officers"], status_code=204)
async def delete_session(request: Request, officer: AnyOfficer) -> Response:
    """Sign out (the session cookie's session ends; needs ``X-CSRF-Token``)."""
    info = getattr(request.state, "officer_session", None)
    if info is None:
        raise _refuse(400, "NO_SESSION", "Yêu cầu này không dùng phiên đăng nhập (khóa truy cập không đăng xuất được).")
    await run_in_threadpool(accounts(request).close_session, info.id, officer.id)
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@router.get("/api/v1/officer/me", tags=["officers"])
async def me(request: Request, officer: AnyOfficer) -> dict[str, Any]:
    """The calling officer (by session cookie or personal API key), and the session's CSRF token."""
    return _me(officer, getattr(request.state, "officer_session", None))
