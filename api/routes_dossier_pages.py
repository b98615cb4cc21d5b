"""One dossier of the officer's centre (``/can-bo/ho-so/{code}``, Vietnamese): its components with their state
and why they failed or need review, the results issued, and for a partial dossier the forms that complete it:
replacement scans for a failed component (``gui-lai``), or a stored document instead (``dung-lai``).

``dossiers.workspace_completion`` does the work (scoped to the officer's centre, audited as the officer).
Forms carry the session's CSRF token (``officer_csrf``), checked by ``require_officer``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.officer_auth import require_officer
from api.officer_pages import officer_page
from api.pages import vn_time
from api.routes_notices import slip_response
from api.routes_officer_pages import COMPONENT_STATES
from api.uploads import refuse_declared_oversize, zip_form_scans
from dossiers import workspace
from dossiers.appointment_slip import appointment_slip_pdf
from dossiers.completion import ComponentUpload
from dossiers.notices import contact_of, list_notices
from dossiers.workspace_completion import attach_from_workspace, resend_from_workspace
from sohoa.errors import SohoaError
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(include_in_schema=False)
Officer = Annotated[OfficerPrincipal, Depends(require_officer())]
Receiving = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.RECEIVING, OfficerRole.ADMIN))]
COMPLETERS = (OfficerRole.RECEIVING, OfficerRole.ADMIN)
DONE = {
    "gui-lai": "Đã gửi lại thành phần; hệ thống đang số hóa bản quét mới.",
    "dung-lai": "Đã dùng lại giấy tờ đã lưu cho thành phần.",
}
NOTICE_STATES = {
    "pending": "Đang chờ gửi",
    "sending": "Đang gửi",
    "sent": "Đã gửi",
    "failed": "Gửi không được",
    "cancelled": "Đã hủy",
}
CHANNELS = {"email": "Thư điện tử", "sms": "Tin nhắn SMS"}
NOTHING_SENT = "Vui lòng chọn ít nhất một tệp quét."
WHICH_DOCUMENT = "Nhập số giấy tờ đã lưu (chữ số) hoặc mã tham chiếu dạng TL-… trên phiếu tiếp nhận."


def _vn(iso: str | None) -> str:
    return vn_time(datetime.fromisoformat(iso)) if iso else "—"


def upload_within_limit(request: Request) -> None:
    """Refuse a declared oversize body before anything reads it (a dependency listed before the officer's)."""
    refuse_declared_oversize(request, request.app.state.services.settings.api.max_upload_bytes)


async def _dossier_page(
    request: Request, officer: OfficerPrincipal, code: str, *, notice: str = "", error: str = "", status: int = 200
) -> Response:
    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            view = workspace.dossier_view(s, code, officer.centre_id)
            view["notices"] = list_notices(s, dossier_code=code, centre_id=officer.centre_id)
            view["contact"] = contact_of(s, view["id"])
            return view

    try:
        view = await run_in_threadpool(run)
    except SohoaError as exc:
        if exc.http_status != 404:
            raise
        text = "Không tìm thấy hồ sơ này trong trung tâm của bạn."
        return officer_page(request, "officer_message.html", officer, 404, title="Không tìm thấy", text=text)
    for r in view["results"]:
        r["signed_at_vn"] = _vn(r["signed_at"])
    for n in view["notices"]:
        n["sent_at_vn"] = _vn(n["sent_at"])
    return officer_page(
        request,
        "officer_dossier.html",
        officer,
        status,
        active="dossiers",
        d=view,
        received_vn=_vn(view["received_at"]),
        state_names=COMPONENT_STATES,
        notice_states=NOTICE_STATES,
        channel_names=CHANNELS,
        can_complete=officer.role in COMPLETERS,
        notice=notice,
        error=error,
    )


@router.get("/can-bo/ho-so/{code}", response_class=HTMLResponse)
async def dossier_page(
    request: Request, code: str, officer: Officer, done: Annotated[str | None, Query(alias="da", max_length=20)] = None
) -> Response:
    return await _dossier_page(request, officer, code, notice=DONE.get(done or "", ""))


@router.get("/can-bo/ho-so/{code}/giay-hen.pdf", response_class=Response)
async def appointment_slip_page(
    request: Request, code: str, officer: Officer, size: Annotated[Literal["A4", "A5"], Query(alias="kho")] = "A5"
) -> Response:
    """The dossier's giấy hẹn for printing (``?kho=A4`` for A4); another centre's dossier: 404 page."""
    services = request.app.state.services

    def run() -> bytes:
        with services.catalogue.reading() as s:
            workspace.dossier_view(s, code, officer.centre_id)  # NOT_FOUND for another centre's
        return appointment_slip_pdf(services, code, size, actor=officer.actor)

    try:
        pdf = await run_in_threadpool(run)
    except SohoaError as exc:
        if exc.http_status != 404:
            raise
        text = "Không tìm thấy hồ sơ này trong trung tâm của bạn."
        return officer_page(request, "officer_message.html", officer, 404, title="Không tìm thấy", text=text)
    return slip_response(pdf, code)


@router.post("/can-bo/ho-so/{code}/thanh-phan/{ref}/gui-lai", response_class=HTMLResponse)
async def resend_page(
    request: Request,
    code: str,
    ref: str,
    _bounded: Annotated[None, Depends(upload_within_limit)],
    officer: Receiving,
) -> Response:
    services = request.app.state.services
    form = await request.form()  # parsed once (require_officer read its CSRF token from it)
    upload, names = await zip_form_scans(form, services.settings.work_dir / "uploads")
    try:
        if not names or all(not n for n in names):
            return await _dossier_page(request, officer, code, error=NOTHING_SENT, status=422)
        await run_in_threadpool(
            lambda: resend_from_workspace(services, officer, code, ref, ComponentUpload(upload.path, names))
        )
    except SohoaError as exc:
        return await _dossier_page(request, officer, code, error=exc.message_vi, status=exc.http_status or 422)
    finally:
        Path(upload.path).unlink(missing_ok=True)
    request.app.state.wake_workers()
    return RedirectResponse(f"/can-bo/ho-so/{code}?da=gui-lai", 303)


@router.post("/can-bo/ho-so/{code}/thanh-phan/{ref}/dung-lai", response_class=HTMLResponse)
async def reuse_page(request: Request, code: str, ref: str, officer: Receiving) -> Response:
    form = await request.form()
    raw = form.get("giay_to")
    given = raw.strip() if isinstance(raw, str) else ""
    document_id: int | None = None
    reference: str | None = None
    if given.isdigit() and 0 < len(given) < 19:
        document_id = int(given)
    elif given.upper().startswith("TL-") and len(given) <= 40:
        reference = given.upper()
    else:
        return await _dossier_page(request, officer, code, error=WHICH_DOCUMENT, status=422)
    services = request.app.state.services
    try:
        await run_in_threadpool(
            lambda: attach_from_workspace(services, officer, code, ref, document_id=document_id, reference=reference)
        )
    except SohoaError as exc:
        return await _dossier_page(request, officer, code, error=exc.message_vi, status=exc.http_status or 422)
    return RedirectResponse(f"/can-bo/ho-so/{code}?da=dung-lai", 303)
