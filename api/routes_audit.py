"""The access audit trail for a centre's administrator: ``GET /api/v1/audit`` (JSON).

Scope: the entries that concern the administrator's centre (its dossiers, documents and results:
``audit_log.centre_id``) and those of its own officers and API clients; never another centre's
(``dossiers.audit_trail.centre_scope``). Each look is itself audited (``audit_view``, the
administrator as actor). The page ``/can-bo/quan-tri/nhat-ky`` shows the same.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.docs import ERRORS
from api.officer_auth import require_officer
from dossiers.audit_trail import PAGE_SIZE, TrailFilter, centre_view
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1", tags=["officers"])
Admin = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.ADMIN))]


@router.get(
    "/audit",
    summary="Your centre's access audit trail, newest first (who read whose documents, when, why)",
    responses=ERRORS,
)
async def audit_trail(
    request: Request,
    officer: Admin,
    owner: Annotated[str | None, Query(max_length=12, description="số định danh (12 digits)")] = None,
    actor: Annotated[str | None, Query(max_length=200, examples=["officer:lan.nt"])] = None,
    action: Annotated[str | None, Query(max_length=40, examples=["get"])] = None,
    date_from: Annotated[date | None, Query(alias="from", description="first day, Vietnam time")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="last day, included")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> dict[str, Any]:
    wanted = TrailFilter(owner, actor, action, date_from, date_to)
    trail = await run_in_threadpool(
        lambda: centre_view(
            request.app.state.services.catalogue,
            wanted,
            centre_id=officer.centre_id,
            actor=officer.actor,
            page=page,
            size=PAGE_SIZE,
        )
    )
    return trail.to_dict()
