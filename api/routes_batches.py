"""Scanning stations: push batches, follow their progress, fetch digitised documents."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.auth import require
from api.uploads import save_body, save_multipart_file
from sohoa.errors import NotFound
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole, Component, Document, Dossier
from storage.objectstore import Bucket
from workers.batch import read_batch
from workers.intake import ingest
from workers.status import dossier_status, find_dossier

router = APIRouter(prefix="/api/v1", tags=["stations"])
station = require(ClientRole.STATION)
station_or_officer = require(ClientRole.STATION, ClientRole.OFFICER)


def can_see(principal: Principal, dossier: Dossier) -> bool:
    return principal.role == ClientRole.OFFICER or dossier.station_id == principal.id


def _not_found(code: str) -> HTTPException:
    return HTTPException(404, detail=NotFound(code).to_dict() | {"detail": ""})


@router.post("/batches", status_code=202, summary="Push a batch (zip with manifest.json)")
async def push_batch(
    request: Request,
    response: Response,
    principal: Annotated[Principal, Depends(station)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict:
    services = request.app.state.services
    limit = services.settings.api.max_upload_bytes
    uploads = services.settings.work_dir / "uploads"
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        path = await save_multipart_file(request, uploads, limit)
    else:
        path = await save_body(request, uploads, limit)
    try:
        batch = await run_in_threadpool(read_batch, path)
        receipt = await run_in_threadpool(
            ingest, services, batch, station_id=principal.id, idempotency_key=idempotency_key
        )
    finally:
        Path(path).unlink(missing_ok=True)
    request.app.state.wake_workers()
    if not receipt.created:
        response.status_code = 200
    code = receipt.dossier_code
    return receipt.to_dict() | {
        "status_url": f"/api/v1/dossiers/{code}",
        "events_url": f"/api/v1/dossiers/{code}/events",
    }


def _status_for(request: Request, principal: Principal, code: str) -> dict:
    with request.app.state.services.catalogue.session() as s:
        dossier = find_dossier(s, code)
        if dossier is None or not can_see(principal, dossier):
            raise _not_found(code)
        return dossier_status(s, dossier)


@router.get("/dossiers/{code}", summary="Dossier status with per-component results")
async def get_dossier(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> dict:
    return await run_in_threadpool(_status_for, request, principal, code)


@router.get("/dossiers/{code}/events", summary="Server-sent progress events until the dossier finishes")
async def dossier_events(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> StreamingResponse:
    first = await run_in_threadpool(_status_for, request, principal, code)

    async def stream():  # type: ignore[no-untyped-def]
        status, last = first, None
        while True:
            payload = json.dumps(status, ensure_ascii=False)
            if payload != last:
                yield f"event: progress\ndata: {payload}\n\n"
                last = payload
            if status["state"] != "processing":
                yield f"event: done\ndata: {json.dumps({'state': status['state']})}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.5)
            status = await run_in_threadpool(_status_for, request, principal, code)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _document_bytes(request: Request, principal: Principal, document_id: int) -> tuple[bytes, str]:
    services = request.app.state.services
    with services.catalogue.session() as s:
        doc = s.get(Document, document_id)
        comp = s.get(Component, doc.component_id) if doc else None
        if doc is None or comp is None or not can_see(principal, comp.dossier):
            raise _not_found(str(document_id))
        key, sha, name = doc.object_key, doc.sha256, f"{comp.dossier.code}-{comp.ref}.pdf"
    return services.store.get_bytes(Bucket.DOCUMENTS, key, sha256=sha), name


@router.get("/documents/{document_id}/pdf", summary="Download a signed digitised document")
async def download_document(
    document_id: int, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> Response:
    data, name = await run_in_threadpool(_document_bytes, request, principal, document_id)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
