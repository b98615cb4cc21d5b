"""Telling the citizen: the giấy hẹn (appointment slip) of a dossier, and officers' view of result notices.

``GET /api/v1/dossiers/{code}/giay-hen.pdf``: the station that pushed the dossier, or an officer of its
centre (``can_see``), gets its slip (A5 by default, ``size=A4``). ``GET /api/v1/notices``: an officer's
centre's notices (recipients masked); a deployment-wide officer key sees every centre's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import require
from api.docs import ERRORS
from api.errors import not_found
from api.routes_batches import can_see
from dossiers.appointment_slip import appointment_slip_pdf
from dossiers.notices import list_notices
from dossiers.status import find_dossier
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole

router = APIRouter(prefix="/api/v1", tags=["officers"])
station_or_officer = require(ClientRole.STATION, ClientRole.OFFICER)
officer_only = require(ClientRole.OFFICER)
NoticeStateName = Literal["pending", "sending", "sent", "failed", "cancelled"]


def slip_response(pdf: bytes, code: str) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="giay-hen-{code}.pdf"', "Cache-Control": "no-store"},
    )


def _slip(request: Request, principal: Principal, code: str, size: Literal["A4", "A5"]) -> bytes:
    services = request.app.state.services
    with services.catalogue.reading() as s:
        dossier = find_dossier(s, code)
        if dossier is None or not can_see(principal, dossier):
            raise not_found(code)
    return appointment_slip_pdf(services, code, size, actor=f"{principal.role}:{principal.id}")


@router.get(
    "/dossiers/{code}/giay-hen.pdf",
    tags=["stations"],
    summary="The dossier's appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả), A5 or A4 PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **ERRORS},
)
async def get_appointment_slip(
    code: str,
    request: Request,
    principal: Annotated[Principal, Depends(station_or_officer)],
    size: Annotated[Literal["A4", "A5"], Query(description="Paper size")] = "A5",
) -> Response:
    pdf = await run_in_threadpool(_slip, request, principal, code, size)
    return slip_response(pdf, code)


@router.get("/notices", summary="Result notices to citizens (e-mail, SMS) of the officer's centre", responses=ERRORS)
async def get_notices(
    request: Request,
    principal: Annotated[Principal, Depends(officer_only)],
    dossier: Annotated[str | None, Query(max_length=64, description="A dossier code")] = None,
    state: NoticeStateName | None = None,
) -> dict[str, Any]:
    """Newest first, at most 200; each with its result code, channel, masked recipient, state, attempts,
    last error and when it was sent."""
    centre = principal.centre_id if principal.officer_id is not None else None

    def run() -> list[dict[str, Any]]:
        with request.app.state.services.catalogue.reading() as s:
            return list_notices(s, dossier_code=dossier, state=state, centre_id=centre)

    return {"notices": await run_in_threadpool(run)}
