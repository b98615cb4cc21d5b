"""Officers' pages (Vietnamese): the review queue, the centre's dossiers, and the workspace of one component
(page images beside the OCR text and what was read; forms to correct the type, fields and parties, and to
confirm that the copy matches the paper).

Authentication is ``require_officer``'s (a session cookie in a browser, or an officer's key); without
it a page redirects to the sign-in page (``api.errors.page_or_json_error``). Forms carry the session's
CSRF token (``officer_csrf``), which ``require_officer`` checks on every post made with the cookie.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.officer_auth import require_officer
from api.officer_pages import officer_page
from api.pages import templates, vn_time
from digitizer.model import DOCUMENT_TYPES
from digitizer.review import TYPE_NAMES, type_name
from dossiers import workspace
from dossiers.confirmation import confirm_component
from dossiers.corrections import PartyInput, correct_component
from sohoa.errors import SohoaError
from storage.catalogue.models import ComponentState, OfficerRole
from storage.catalogue.officers import OfficerPrincipal

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
Officer = Annotated[OfficerPrincipal, Depends(require_officer())]
Receiving = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.RECEIVING, OfficerRole.ADMIN))]

COMPONENT_STATES = {
    "awaiting": "Chờ xác nhận",
    "processing": "Đang xử lý",
    "pending": "Chờ xử lý",
    "done": "Đã xong",
    "failed": "Lỗi",
}
QUEUE_FILTERS = (("awaiting", "Chờ xác nhận"), ("processing", "Đang xử lý"), ("done", "Đã xong"), ("all", "Tất cả"))
DOSSIER_STATES = {
    "awaiting": "Chờ cán bộ xác nhận",
    "processing": "Đang xử lý",
    "done": "Hoàn thành",
    "partial": "Xong một phần",
    "failed": "Lỗi",
}
SAVED = "Đã lưu sửa đổi."
NOTHING_CHANGED = "Không có gì thay đổi."
CONFIRMED = "Đã xác nhận bản sao khớp bản giấy."

templates.env.globals["type_name"] = type_name


def _vn(iso: str | None) -> str:
    return vn_time(datetime.fromisoformat(iso)) if iso else "—"


@router.get("/can-bo/hang-cho", response_class=HTMLResponse)
async def queue_page(
    request: Request,
    officer: Officer,
    state: Annotated[str, Query(alias="trang-thai", max_length=20)] = "awaiting",
    page_no: Annotated[int, Query(alias="trang", ge=1, le=10_000)] = 1,
) -> Response:
    state = state if state in dict(QUEUE_FILTERS) else "awaiting"

    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            return workspace.queue(s, officer.centre_id, state=None if state == "all" else state, page=page_no)

    result = await run_in_threadpool(run)
    for item in result["items"]:
        item["received_at_vn"] = _vn(item["received_at"])
    return officer_page(
        request,
        "officer_queue.html",
        officer,
        active="queue",
        result=result,
        state=state,
        states=QUEUE_FILTERS,
        state_names=COMPONENT_STATES,
    )


@router.get("/can-bo/ho-so", response_class=HTMLResponse)
async def dossiers_page(
    request: Request,
    officer: Officer,
    state: Annotated[str | None, Query(alias="trang-thai", max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page_no: Annotated[int, Query(alias="trang", ge=1, le=10_000)] = 1,
) -> Response:
    state = state if state in DOSSIER_STATES else None

    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            return workspace.list_dossiers(s, officer.centre_id, state=state, q=q or None, page=page_no)

    result = await run_in_threadpool(run)
    for item in result["items"]:
        item["received_at_vn"] = _vn(item["received_at"])
    return officer_page(
        request,
        "officer_dossiers.html",
        officer,
        active="dossiers",
        result=result,
        state=state,
        q=q,
        states=tuple(DOSSIER_STATES.items()),
        dossier_states=DOSSIER_STATES,
    )


def _party_rows(parties: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The parties as the form shows them (plain strings), and one empty row to add a person."""

    def value(p: dict[str, Any], name: str) -> str:
        entry = p.get(name)
        v = entry.get("value") if isinstance(entry, dict) else entry
        return str(v) if v is not None else ""

    rows = [
        {
            "role": str(p.get("role") or "person"),
            "so_dinh_danh": value(p, "so_dinh_danh"),
            "name": value(p, "full_name"),
            "date_of_birth": value(p, "date_of_birth"),
        }
        for p in parties
    ]
    return [*rows, {"role": "", "so_dinh_danh": "", "name": "", "date_of_birth": ""}]


async def _workspace(
    request: Request,
    officer: OfficerPrincipal,
    component_id: int,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            return workspace.component_view(s, component_id, officer.centre_id)

    try:
        view = await run_in_threadpool(run)
    except SohoaError as exc:
        if exc.http_status != 404:
            raise
        return officer_page(request, "officer_message.html", officer, 404, title="Không tìm thấy", text=exc.message_vi)
    for h in view["corrections"]:
        h["at_vn"] = _vn(h["at"])
    return officer_page(
        request,
        "officer_component.html",
        officer,
        status,
        active="queue",
        c=view,
        notice=notice,
        error=error,
        state_names=COMPONENT_STATES,
        types=[(t, TYPE_NAMES.get(t, t)) for t in DOCUMENT_TYPES],
        party_rows=_party_rows(view.get("parties") or []),
        can_confirm=view["digitised"] and view["state"] == ComponentState.AWAITING,
        confirmed_vn=_vn(view["confirmed_at"]),
    )


@router.get("/can-bo/thanh-phan/{component_id}", response_class=HTMLResponse)
async def component_page(
    request: Request, component_id: int, officer: Officer, done: Annotated[str | None, Query(alias="da")] = None
) -> Response:
    notice = {"sua": SAVED, "khong-doi": NOTHING_CHANGED, "xac-nhan": CONFIRMED}.get(done or "", "")
    return await _workspace(request, officer, component_id, notice=notice)


def _form_parties(form: Any) -> list[tuple[str, str, str, str]]:
    try:
        count = min(int(form.get("party_count", "0")), 30)
    except ValueError:
        count = 0
    rows = []
    for n in range(count):
        row = tuple(
            str(form.get(f"party-{n}-{k}", "")).strip() for k in ("role", "so_dinh_danh", "name", "date_of_birth")
        )
        if any(row[1:]):  # a row with only a role is the empty row left as it was
            rows.append((row[0] or "person", row[1], row[2], row[3]))
    return rows


@router.post("/can-bo/thanh-phan/{component_id}/sua", response_class=HTMLResponse)
async def correct_page(request: Request, component_id: int, officer: Receiving) -> Response:
    form = await request.form()  # its CSRF token was checked by require_officer (a session's)
    services = request.app.state.services

    def current() -> dict[str, Any]:
        with services.catalogue.reading() as s:
            return workspace.component_view(s, component_id, officer.centre_id)

    view = await run_in_threadpool(current)
    fields: dict[str, str | None] = {}
    for key, value in form.multi_items():
        if key.startswith("field."):
            fields[key.removeprefix("field.")] = str(value)
    new_name = str(form.get("new_field_name") or "").strip()
    if new_name:
        fields[new_name] = str(form.get("new_field_value") or "")
    submitted = _form_parties(form)
    shown = [tuple(r.values()) for r in _party_rows(view.get("parties") or [])[:-1]]
    parties = None
    if submitted != [(r[0] or "person", r[1], r[2], r[3]) for r in shown]:
        parties = [PartyInput(role, number, name, born or None) for role, number, name, born in submitted]
    doc_type = str(form.get("doc_type") or "") or None
    try:
        changed = await run_in_threadpool(
            lambda: correct_component(
                services, component_id, officer, doc_type=doc_type, fields=fields or None, parties=parties
            )
        )
    except SohoaError as exc:
        return await _workspace(request, officer, component_id, error=exc.message_vi, status=exc.http_status or 422)
    done = "sua" if changed else "khong-doi"
    return RedirectResponse(f"/can-bo/thanh-phan/{component_id}?da={done}", 303)


@router.post("/can-bo/thanh-phan/{component_id}/xac-nhan", response_class=HTMLResponse)
async def confirm_page(request: Request, component_id: int, officer: Receiving) -> Response:
    try:  # the form's CSRF token was checked by require_officer (a session's)
        services, wake = request.app.state.services, request.app.state.wake_workers
        await run_in_threadpool(lambda: confirm_component(services, component_id, officer, wake=wake))
    except SohoaError as exc:
        return await _workspace(request, officer, component_id, error=exc.message_vi, status=exc.http_status or 409)
    return RedirectResponse(f"/can-bo/thanh-phan/{component_id}?da=xac-nhan", 303)
