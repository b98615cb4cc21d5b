"""Officers issue e-results; the signed result PDF is downloadable once stored."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from api.auth import require
from api.routes_batches import can_see
from api.uploads import save_body
from sohoa.errors import NotFound
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole, ComponentState, EResult
from storage.objectstore import Bucket
from workers.results import issue_result

router = APIRouter(prefix="/api/v1", tags=["results"])
officer = require(ClientRole.OFFICER)
station_or_officer = require(ClientRole.STATION, ClientRole.OFFICER)


def _result_view(r: EResult) -> dict:
    return {
        "code": r.code,
        "dossier_code": r.dossier.code,
        "title": r.title,
        "state": r.state,
        "level": r.level,
        "sha256": r.sha256,
        "signed_by": r.signed_by,
        "signed_at": r.signed_at.isoformat() if r.signed_at else None,
        "error": {"code": r.error_code, "message": r.error_message} if r.error_code else None,
        "download_url": f"/api/v1/results/{r.code}/pdf" if r.state == ComponentState.DONE else None,
    }


@router.post("/dossiers/{code}/results", status_code=202, summary="Issue an e-result: upload the result PDF")
async def post_result(
    code: str,
    request: Request,
    principal: Annotated[Principal, Depends(officer)],
    level: Annotated[Literal["B-B", "B-T", "B-LT", "B-LTA"] | None, Query()] = None,
    title: Annotated[str, Query(max_length=300)] = "",
) -> dict:
    services = request.app.state.services
    path = await save_body(request, services.settings.work_dir / "uploads", services.settings.api.max_upload_bytes)
    try:
        data = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    result = await run_in_threadpool(
        issue_result, services, code, data, title=title, level=level, issued_by=principal.id
    )
    request.app.state.wake_workers()
    return {"code": result.code, "state": result.state, "status_url": f"/api/v1/results/{result.code}"}


def _load(request: Request, principal: Principal, code: str) -> dict:
    with request.app.state.services.catalogue.session() as s:
        r = s.scalar(select(EResult).where(EResult.code == code))
        if r is None or not can_see(principal, r.dossier):
            raise HTTPException(404, detail=NotFound(code).to_dict())
        return _result_view(r) | {"_key": r.object_key}


@router.get("/results/{code}", summary="E-result status")
async def get_result(code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]) -> dict:
    view = await run_in_threadpool(_load, request, principal, code)
    view.pop("_key")
    return view


@router.get("/results/{code}/pdf", summary="Download the signed e-result")
async def download_result(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> Response:
    view = await run_in_threadpool(_load, request, principal, code)
    if view["state"] != ComponentState.DONE:
        raise HTTPException(409, detail={"code": "RESULT_NOT_READY", "message": "Kết quả chưa được ký xong."})
    store = request.app.state.services.store
    data = await run_in_threadpool(store.get_bytes, Bucket.RESULTS, view["_key"], sha256=view["sha256"])
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{code}.pdf"'}
    )
