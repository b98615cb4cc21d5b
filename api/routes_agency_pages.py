"""The page ``/can-bo/quan-tri/co-quan`` (Vietnamese): the agencies that reuse stored documents and their
grants; forms to register an agency, grant it document types for a purpose, revoke a grant, disable an
agency. ``dossiers.agency_admin`` does the work and the auditing; another role gets a 403 page. Forms carry
the session's CSRF token (``officer_csrf``), checked by ``require_officer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.officer_auth import require_officer
from api.officer_pages import officer_page
from digitizer.model import DOCUMENT_TYPES
from digitizer.review import TYPE_NAMES
from dossiers import agency_admin
from dossiers.agency_admin import GrantRequest
from sohoa.errors import SohoaError
from sohoa.identifiers import AGENCY_CODE
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(include_in_schema=False)
AnyOfficer = Annotated[OfficerPrincipal, Depends(require_officer())]
Admin = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.ADMIN))]
PAGE = "/can-bo/quan-tri/co-quan"
FORBIDDEN = "Trang quản trị chỉ dành cho cán bộ quản trị trung tâm."
DONE = {
    "co-quan": "Đã lưu cơ quan khai thác dữ liệu.",
    "cap-quyen": "Đã cấp quyền khai thác.",
    "thu-hoi": "Đã thu hồi quyền khai thác.",
    "vo-hieu": "Đã vô hiệu hóa cơ quan: các quyền còn hiệu lực và khóa API của cơ quan đã bị thu hồi.",
}
STATE_NAMES = {"active": "Còn hiệu lực", "pending": "Chưa hiệu lực", "expired": "Hết hạn", "revoked": "Đã thu hồi"}


def type_choices() -> list[tuple[str, str]]:
    """Every known document type with its Vietnamese name, as the grant form's checkboxes show them."""
    return [(t, TYPE_NAMES.get(t, t)) for t in DOCUMENT_TYPES]


async def _page(
    request: Request, officer: OfficerPrincipal, *, status: int = 200, notice: str = "", error: str = ""
) -> Response:
    catalogue = request.app.state.services.catalogue
    agencies = await run_in_threadpool(agency_admin.list_agencies, catalogue)
    return officer_page(
        request,
        "officer_agencies.html",
        officer,
        status,
        active="admin",
        agencies=agencies,
        types=type_choices(),
        type_names=TYPE_NAMES,
        state_names=STATE_NAMES,
        notice=notice,
        error=error,
    )


def _text(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return str(value).strip()[:limit] if isinstance(value, str) else ""


@router.get(PAGE, response_class=HTMLResponse)
async def agencies_page(
    request: Request, officer: AnyOfficer, done: Annotated[str | None, Query(alias="da", max_length=20)] = None
) -> Response:
    if officer.role != OfficerRole.ADMIN:
        return officer_page(request, "officer_message.html", officer, 403, title="Không có quyền", text=FORBIDDEN)
    return await _page(request, officer, notice=DONE.get(done or "", ""))


async def _act(request: Request, officer: OfficerPrincipal, change: Callable[[], object], done: str) -> Response:
    """Make ``change`` (audited as the officer), then back to the page with its notice; a refusal shown there."""
    try:
        await run_in_threadpool(change)
    except SohoaError as exc:
        return await _page(request, officer, status=exc.http_status or 422, error=exc.message_vi)
    return RedirectResponse(f"{PAGE}?da={done}", 303)


@router.post(PAGE, response_class=HTMLResponse)
async def add_agency(request: Request, officer: Admin) -> Response:
    form = await request.form()
    code, name = _text(form, "code", 40), _text(form, "name", 300)
    if not AGENCY_CODE.fullmatch(code) or not name:
        error = "Vui lòng nhập mã định danh cơ quan đúng định dạng (ví dụ 000.00.12.H26) và tên cơ quan."
        return await _page(request, officer, status=422, error=error)
    catalogue = request.app.state.services.catalogue
    return await _act(
        request, officer, lambda: agency_admin.add_agency(catalogue, code, name, actor=officer.actor), "co-quan"
    )


@router.post(f"{PAGE}/quyen", response_class=HTMLResponse)
async def add_grant(request: Request, officer: Admin) -> Response:
    form = await request.form()
    types = tuple(str(t) for t in form.getlist("doc_types") if isinstance(t, str))
    days_text = _text(form, "days", 6) or "365"
    days = int(days_text) if days_text.isdigit() else 0
    wanted = GrantRequest(_text(form, "agency_code", 40), types, _text(form, "purpose", 200), days)
    catalogue = request.app.state.services.catalogue
    return await _act(
        request, officer, lambda: agency_admin.add_grant(catalogue, wanted, actor=officer.actor), "cap-quyen"
    )


@router.post(f"{PAGE}/quyen/{{grant_id}}/thu-hoi", response_class=HTMLResponse)
async def revoke_grant(request: Request, grant_id: int, officer: Admin) -> Response:
    catalogue = request.app.state.services.catalogue
    return await _act(
        request, officer, lambda: agency_admin.revoke(catalogue, grant_id, actor=officer.actor), "thu-hoi"
    )


@router.post(f"{PAGE}/{{code}}/vo-hieu", response_class=HTMLResponse)
async def disable_agency(request: Request, code: str, officer: Admin) -> Response:
    catalogue = request.app.state.services.catalogue
    return await _act(
        request, officer, lambda: agency_admin.disable_agency(catalogue, code, actor=officer.actor), "vo-hieu"
    )
