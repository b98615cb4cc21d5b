"""Scanning stations: push batches, follow their progress, fetch digitised documents."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import bearer, principal_of, require
from api.docs import ERRORS, binary_body, error_response
from api.errors import not_found, rate_limited
from api.uploads import save_body, save_multipart_batch
from dossiers.batch_reader import ParsedBatch, read_batch
from dossiers.budgets import bounds_of
from dossiers.errors import DossierCodeForeign
from dossiers.intake import Receipt, ingest
from dossiers.reuse import ReuseAnswer, ReuseAsk, disclose
from dossiers.status import dossier_status, find_dossier
from dossiers.workspace import effective_centre_id
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole, Component, Document, Dossier
from storage.objectstore import Bucket

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["stations"])
station_or_officer = require(ClientRole.STATION, ClientRole.OFFICER)

BATCH_BODY = binary_body(
    "A batch: a zip holding manifest.json and the scans (raw body, or multipart field `file`), "
    "or multipart with a `manifest` field (JSON) and one file part per scan named as in the manifest.",
    "application/zip",
    multipart={
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "the batch zip"},
            "manifest": {"type": "string", "description": "manifest.json, when scans are sent as parts"},
        },
    },
)


RECEIPT_SCHEMA = {"type": "object", "additionalProperties": True, "title": "Batch receipt"}


def can_see(principal: Principal, dossier: Dossier) -> bool:
    """The station that pushed the dossier; an officer's personal key: an officer of the dossier's centre;
    a deployment-wide officer key (one of no officer, ``sohoa keys create --role officer``): every dossier."""
    if principal.role == ClientRole.OFFICER:
        return principal.officer_id is None or dossier.centre_id == principal.centre_id
    return dossier.station_id == principal.id


async def limited_station(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """An authenticated station within its own token bucket: 429 with Retry-After when it pushes too fast.

    The key check and the bucket share one worker-thread hop (every receipt pays for each hop).
    """
    limits = request.app.state.limits

    def check() -> tuple[Principal, float]:
        principal = principal_of(request, credentials, (ClientRole.STATION,))
        own = principal.limits
        rate = own.batches_per_minute / 60 if own.batches_per_minute else None
        return principal, limits.station.take(str(principal.id), rate, own.batch_burst)

    principal, wait = await run_in_threadpool(check)
    if wait > 0:
        request.app.state.api_metrics.rate_limited.labels("station").inc()
        log.warning("station %s over its batch rate; retry in %.1f s", principal.id, wait)
        raise rate_limited(wait, "Trạm quét gửi lô hồ sơ quá nhanh. Vui lòng thử lại sau thời gian chờ.")
    return principal


def _with_reuse(receipt: Receipt, reuse: ReuseAnswer) -> dict[str, Any]:
    out = receipt.to_dict()
    for comp in out["components"]:
        comp["reusable"] = reuse.by_ref.get(comp["ref"], [])
    out["reusable_documents"] = sum(len(v) for v in reuse.by_ref.values())
    out["reuse"] = reuse.status
    return out


def _own_code(principal: Principal, batch: ParsedBatch) -> None:
    """A station bound to a receiving unit (its key's agency code) sends that unit's dossier codes only.

    Checked before the catalogue is read: the answer to another unit's code is the same whether
    or not a dossier holds it, so a station cannot probe other centres' dossiers. Stations of one
    unit share its numbering (the unit issues the codes), and a code taken there is a real
    conflict they are told about (DOSSIER_EXISTS, the same answer whichever station holds it).
    """
    unit = principal.agency_code
    if unit and not batch.manifest.dossier_code.startswith(f"{unit}-"):
        raise DossierCodeForeign(f"station of {unit}")


def _reusable(request: Request, receipt: Receipt, batch: ParsedBatch, station_id: int) -> ReuseAnswer:
    """The applicant's documents that can stand in for declared components (``dossiers.reuse``: when the
    birth date matches and the station is within its day), kept and audited; unusual volume alerts."""
    services = request.app.state.services
    wanted = {c["ref"]: c["declared_type"] for c in receipt.components if c["declared_type"]}
    m = batch.manifest
    ask = ReuseAsk(station_id, receipt.applicant_id, m.applicant_birth_date, receipt.dossier_code, wanted)
    answer = disclose(services.catalogue, ask, services.settings.intake, request.app.state.portal_secret)
    metrics = request.app.state.api_metrics
    metrics.reuse_lookups.labels(answer.outcome).inc()
    for reason in filter(None, (answer.alert, answer.reason, "mismatch" if answer.outcome == "mismatch" else "")):
        metrics.reuse_alerts.labels(reason).inc()
        log.warning(
            "reuse at intake: station %s, %s (dossier %s, %d distinct applicants today)",
            station_id,
            reason,
            receipt.dossier_code,
            answer.applicants_today,
        )
    return answer


@router.post(
    "/batches",
    status_code=202,
    summary="Push a batch; the receipt lists the applicant's reusable documents",
    description=(
        "The receipt's `reuse` says whether stored documents of the applicant were looked up: only when the "
        "manifest gives `applicant_birth_date` and it matches the one recorded with each document's dossier "
        "(`skipped`, `REUSE_NEEDS_BIRTH_DATE` otherwise), and within the station's day (`refused`, "
        "`REUSE_BUDGET_EXHAUSTED`). Each component's `reusable` lists `reference`, `doc_type`, `pages` and "
        "`expires` of a document that can stand in for it."
    ),
    openapi_extra=BATCH_BODY,
    response_class=JSONResponse,
    responses={
        202: {"description": "The receipt", "content": {"application/json": {"schema": RECEIPT_SCHEMA}}},
        200: {"description": "The same batch was pushed before: its receipt"},
        **ERRORS,
        403: error_response(
            "The key is not a station's, or the dossier code does not carry the station's unit code "
            "(DOSSIER_CODE_FOREIGN: the same answer whether or not that dossier exists)"
        ),
        409: error_response("The dossier code was taken with other content (DOSSIER_EXISTS)"),
        413: error_response(
            "Nothing was recorded: the upload is too large (UPLOAD_TOO_LARGE), or its scans would cost too much: "
            "too many pages to OCR, counting every time the manifest names a file (BATCH_TOO_MANY_PAGES), or too "
            "many bytes once unpacked, absolutely or for the upload's size (BATCH_TOO_LARGE)"
        ),
        429: error_response(
            "Nothing was recorded: the station pushes too fast (RATE_LIMITED), or its day's pages or unpacked "
            "bytes are used up (STATION_DAILY_QUOTA, until midnight in Vietnam); see Retry-After"
        ),
        503: error_response(
            "Nothing was recorded: the service's storage is full (STORAGE_FULL) or the object store is "
            "unreachable (OBJECT_STORE_UNAVAILABLE); push the same batch again later (after Retry-After seconds "
            "when given)"
        ),
    },
)
async def push_batch(
    request: Request,
    principal: Annotated[Principal, Depends(limited_station)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    services = request.app.state.services
    limit = min(services.settings.api.max_upload_bytes, principal.limits.max_batch_bytes or 2**63)
    uploads = services.settings.work_dir / "uploads"
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await save_multipart_batch(request, uploads, limit)
    else:
        upload = await save_body(request, uploads, limit)
    path = upload.path

    def receive() -> tuple[Receipt, ReuseAnswer]:
        bounds = bounds_of(services.settings.intake)
        batch = read_batch(path, archive_sha256=upload.sha256, data=upload.data, bounds=bounds)
        _own_code(principal, batch)
        receipt = ingest(
            services, batch, station_id=principal.id, idempotency_key=idempotency_key, centre_id=principal.centre_id
        )
        return receipt, _reusable(request, receipt, batch, principal.id)

    try:
        # A small batch (held in memory) is mostly CPU: those run on a few threads of their own
        # (api.receipt_threads), since with one thread per waiting upload handing the GIL around
        # took more CPU than some of the work. A large one is mostly I/O (its archive copied to
        # the store) and must not hold the small ones up: it runs on the general pool.
        limiter = request.app.state.receipt_threads if upload.data is not None else None
        receipt, reuse = await anyio.to_thread.run_sync(receive, limiter=limiter)
    finally:
        Path(path).unlink(missing_ok=True)
    request.app.state.wake_workers()
    code = receipt.dossier_code
    body = _with_reuse(receipt, reuse) | {
        "status_url": f"/api/v1/dossiers/{code}",
        "events_url": f"/api/v1/dossiers/{code}/events",
        "appointment_slip_url": f"/api/v1/dossiers/{code}/giay-hen.pdf",
    }
    return JSONResponse(body, status_code=202 if receipt.created else 200)  # plain JSON types: no encoder pass


def _status_for(request: Request, principal: Principal, code: str) -> dict[str, Any]:
    with request.app.state.services.catalogue.reading() as s:
        dossier = find_dossier(s, code)
        if dossier is None or not can_see(principal, dossier):
            raise not_found(code)
        return dossier_status(s, dossier, sources=principal.role == ClientRole.OFFICER)


@router.get("/dossiers/{code}", summary="Dossier status with per-component results", responses=ERRORS)
async def get_dossier(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> dict[str, Any]:
    """Progress of the dossier and of each component. A digitised component carries ``review``:
    ``needs_review``, ``warnings`` (``[{code, message}]``, the message a Vietnamese sentence for the officer,
    e.g. ``UNFAMILIAR_TEXT``, ``TYPE_UNCERTAIN``, ``LOW_OCR_CONFIDENCE``, ``ID_NUMBER_INVALID``,
    ``TYPE_MISMATCH``) and ``guess`` (the classifier's best type and its probability; the type is ``other``
    when the text is unlike every known type). ``review`` is null until the component is digitised.
    A component completed by a stored document (``POST .../components/{ref}/reuse``) is done with
    ``reused_from`` (``document_id``, ``doc_type``; for an officer also the ``dossier_code`` it came from)."""
    return await run_in_threadpool(_status_for, request, principal, code)


@router.get(
    "/dossiers/{code}/events",
    summary="Server-sent progress events until the dossier finishes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
)
async def dossier_events(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> StreamingResponse:
    first = await run_in_threadpool(_status_for, request, principal, code)

    async def stream() -> AsyncIterator[str]:
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
    with services.catalogue.reading() as s:
        doc = s.get(Document, document_id)
        comp = s.get(Component, doc.component_id) if doc else None
        if doc is None or comp is None or not can_see(principal, comp.dossier):
            raise not_found(str(document_id))
        key, sha, version, name = doc.object_key, doc.sha256, doc.object_version, f"{comp.dossier.code}-{comp.ref}.pdf"
        owner, centre_id = doc.owner_id, effective_centre_id(s, comp.dossier)
    data = request.app.state.warehouse.get_bytes(
        Bucket.DOCUMENTS,
        key,
        actor=f"{principal.role}:{principal.id}",
        purpose="tải bản số hóa",
        sha256=sha,
        version_id=version,
        owner=owner,
        centre_id=centre_id,
    )
    return data, name


@router.get(
    "/documents/{document_id}/pdf",
    summary="Download a signed digitised document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **ERRORS},
)
async def download_document(
    document_id: int, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> Response:
    if not 0 < document_id < 2**63:
        raise not_found(str(document_id))
    data, name = await run_in_threadpool(_document_bytes, request, principal, document_id)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
