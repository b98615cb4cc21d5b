"""The centre administrator's page ``/can-bo/quan-tri`` (Vietnamese): the centre's details and signing
policy, and its officers (add, disable, unlock, reset TOTP). ``dossiers.centre_admin`` does the work and
the auditing; another role gets a 403 page. Forms carry the session's CSRF token (``officer_csrf``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.officer_auth import require_officer
from api.officer_pages import ROLE_NAMES, officer_page
from dossiers import centre_admin
from dossiers.centres import CHOOSABLE_POLICIES
from sohoa.errors import SohoaError
from storage.catalogue.models import OfficerRole, SigningPolicy
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(include_in_schema=False)
AnyOfficer = Annotated[OfficerPrincipal, Depends(require_officer())]
Admin = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.ADMIN))]
PAGE = "/can-bo/quan-tri"

POLICY_NAMES = {
    SigningPolicy.CONFIRM_ALL.value: "Xác nhận tất cả trước khi ký",
    SigningPolicy.AUTO_CONFIDENT.value: "Tự động ký bản chắc chắn, còn lại chờ xác nhận",
    "auto_all": "Tự động ký tất cả (cấu hình hệ thống)",
}
DONE = {
    "trung-tam": "Đã lưu thông tin trung tâm.",
    "vo-hieu": "Đã vô hiệu hóa tài khoản; các phiên đăng nhập của cán bộ đã kết thúc.",
    "mo-khoa": "Đã mở khóa tài khoản.",
    "dat-lai-totp": "Đã đặt lại TOTP; cán bộ sẽ cài lại mã ở lần đăng nhập sau.",
}
ACTIONS = {
    "vo-hieu": centre_admin.disable_centre_officer,
    "mo-khoa": centre_admin.unlock_centre_officer,
    "dat-lai-totp": centre_admin.reset_centre_officer_totp,
}
FORBIDDEN = "Trang quản trị chỉ dành cho cán bộ quản trị trung tâm."


def _policies(current: str) -> list[tuple[str, str]]:
    """The choices an administrator has, and the current one even when it is the settings' own (``auto_all``)."""
    values = [p.value for p in CHOOSABLE_POLICIES]
    if current not in values:
        values.insert(0, current)
    return [(v, POLICY_NAMES.get(v, v)) for v in values]


async def _admin_page(
    request: Request,
    officer: OfficerPrincipal,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
    created: centre_admin.NewOfficer | None = None,
    reset: tuple[str, str] | None = None,
) -> Response:
    services = request.app.state.services
    centre = await run_in_threadpool(centre_admin.own_centre, services, officer)
    officers = await run_in_threadpool(centre_admin.centre_officers, services, officer)
    return officer_page(
        request,
        "officer_admin.html",
        officer,
        status,
        active="admin",
        centre=centre,
        policies=_policies(centre["signing_policy"]),
        officers=officers,
        role_names=ROLE_NAMES,
        notice=notice,
        error=error,
        created=created,
        reset=reset,
    )


@router.get(PAGE, response_class=HTMLResponse)
async def admin_page(
    request: Request, officer: AnyOfficer, done: Annotated[str | None, Query(alias="da", max_length=20)] = None
) -> Response:
    if officer.role != OfficerRole.ADMIN:
        return officer_page(request, "officer_message.html", officer, 403, title="Không có quyền", text=FORBIDDEN)
    return await _admin_page(request, officer, notice=DONE.get(done or "", ""))


def _text(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return str(value).strip()[:limit] if isinstance(value, str) else ""


@router.post(f"{PAGE}/trung-tam", response_class=HTMLResponse)
async def change_centre(request: Request, officer: Admin) -> Response:
    form = await request.form()  # its CSRF token was checked by require_officer (a session's)
    services = request.app.state.services
    current = await run_in_threadpool(centre_admin.own_centre, services, officer)
    changes: dict[str, Any] = {}
    for name, limit in (("name", 300), ("parent_name", 300), ("place", 100), ("symbol", 40)):
        if name in form and _text(form, name, limit) != current[name]:
            changes[name] = _text(form, name, limit)
    policy = _text(form, "signing_policy", 40)
    if policy and policy != current["signing_policy"]:
        changes["signing_policy"] = policy
    if changes.get("name") == "":
        return await _admin_page(request, officer, status=422, error="Tên cơ quan không được để trống.")
    try:
        if changes:
            await run_in_threadpool(centre_admin.change_own_centre, services, officer, officer.centre_code, changes)
    except SohoaError as exc:
        return await _admin_page(request, officer, status=exc.http_status or 422, error=exc.message_vi)
    return RedirectResponse(f"{PAGE}?da=trung-tam", 303)


@router.post(f"{PAGE}/can-bo", response_class=HTMLResponse)
async def add_officer(request: Request, officer: Admin) -> Response:
    form = await request.form()
    username, full_name = _text(form, "username", 100), _text(form, "full_name", 200)
    role = _text(form, "role", 40)
    if not username or not full_name or role not in {r.value for r in OfficerRole}:
        return await _admin_page(
            request, officer, status=422, error="Vui lòng nhập tên đăng nhập, họ tên và chọn vai trò."
        )
    if not all(ch.isascii() and (ch.isalnum() or ch in "._@-") for ch in username):
        return await _admin_page(
            request,
            officer,
            status=422,
            error="Tên đăng nhập chỉ gồm chữ cái không dấu, chữ số và các dấu . _ @ -",
        )
    services = request.app.state.services
    try:
        made = await run_in_threadpool(
            lambda: centre_admin.add_centre_officer(
                services, officer, username, full_name, OfficerRole(role), _text(form, "title", 200)
            )
        )
    except SohoaError as exc:
        return await _admin_page(request, officer, status=exc.http_status or 422, error=exc.message_vi)
    # The initial password is shown in this answer only (no redirect: it is never put in a URL or kept).
    response = await _admin_page(request, officer, created=made)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(f"{PAGE}/can-bo/{{username}}/dat-lai-mat-khau", response_class=HTMLResponse)
async def reset_password(request: Request, username: str, officer: Admin) -> Response:
    services = request.app.state.services
    try:
        made = await run_in_threadpool(centre_admin.reset_centre_officer_password, services, officer, username)
    except SohoaError as exc:
        return await _admin_page(request, officer, status=exc.http_status or 422, error=exc.message_vi)
    # As for a new account: the password is in this answer only, never in a URL.
    response = await _admin_page(request, officer, reset=(username, made))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(f"{PAGE}/can-bo/{{username}}/{{action}}", response_class=HTMLResponse)
async def officer_action(
    request: Request, username: str, action: Literal["vo-hieu", "mo-khoa", "dat-lai-totp"], officer: Admin
) -> Response:
    services = request.app.state.services
    try:
        await run_in_threadpool(ACTIONS[action], services, officer, username)
    except SohoaError as exc:
        return await _admin_page(request, officer, status=exc.http_status or 422, error=exc.message_vi)
    return RedirectResponse(f"{PAGE}?da={action}", 303)
