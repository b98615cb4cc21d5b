"""The centre administrator's page ``/can-bo/quan-tri/nhat-ky`` (Vietnamese): "Nhật ký truy cập — ai đã
xem giấy tờ của công dân này". A GET form (số định danh, người thực hiện, thao tác, dates), a table newest
first, pages. The scope and the auditing of each look are ``dossiers.audit_trail.centre_view``'s (as the
JSON ``GET /api/v1/audit``); another role gets a 403 page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from api.officer_auth import require_officer
from api.officer_pages import officer_page
from dossiers.audit_trail import ACTIONS_VI, PAGE_SIZE, TrailFilter, TrailFilterInvalid, centre_view
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(include_in_schema=False)
AnyOfficer = Annotated[OfficerPrincipal, Depends(require_officer())]
PAGE = "/can-bo/quan-tri/nhat-ky"
FORBIDDEN = "Nhật ký truy cập chỉ dành cho cán bộ quản trị trung tâm."
Field = Annotated[str, Query(max_length=200)]


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TrailFilterInvalid("date", message_vi="Ngày phải theo dạng năm-tháng-ngày.") from None


@router.get(PAGE, response_class=HTMLResponse)
async def audit_page(
    request: Request,
    officer: AnyOfficer,
    owner: Field = "",
    actor: Field = "",
    action: Field = "",
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if officer.role != OfficerRole.ADMIN:
        return officer_page(request, "officer_message.html", officer, 403, title="Không có quyền", text=FORBIDDEN)
    form = {"owner": owner.strip(), "actor": actor.strip(), "action": action.strip(), "from": start, "to": end}
    context: dict[str, Any] = {"form": form, "actions": ACTIONS_VI, "active": "admin", "trail": None, "error": ""}
    status = 200
    try:
        wanted = TrailFilter(form["owner"], form["actor"], form["action"], _day(start), _day(end))
        context["trail"] = await run_in_threadpool(
            lambda: centre_view(
                request.app.state.services.catalogue,
                wanted,
                centre_id=officer.centre_id,
                actor=officer.actor,
                page=page,
                size=PAGE_SIZE,
            )
        )
    except TrailFilterInvalid as exc:
        context["error"], status = exc.message_vi, 422
    kept = {k: v for k, v in form.items() if v}
    context["page_link"] = lambda n: f"{PAGE}?{urlencode({**kept, 'page': n})}"
    return officer_page(request, "officer_audit.html", officer, status, **context)
