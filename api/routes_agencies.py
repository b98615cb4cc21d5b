"""Other agencies reuse a citizen's documents under their grants, with a stated purpose; all audited."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.auth import require
from api.docs import ERRORS
from api.verification import summary
from digitizer.model import DOCUMENT_TYPES
from sohoa.errors import SohoaError
from sohoa.identifiers import OWNER_ID
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole
from storage.errors import AgencyUnknown, LinkInvalid
from storage.objectstore import Bucket
from storage.objectstore.links import verify_local_link
from storage.warehouse.sharing import request_documents

log = logging.getLogger(__name__)
router = APIRouter(tags=["agencies"])
agency = require(ClientRole.AGENCY)


def _verification(request: Request, hit: dict[str, Any], agency_code: str, purpose: str) -> dict[str, Any]:
    """The document's signature status; its bytes, when read for it, are read (and audited) for the agency."""
    verifier = request.app.state.verifier
    view = verifier.cached(hit["sha256"])
    if view is None:
        data = request.app.state.warehouse.get_bytes(
            Bucket.DOCUMENTS,
            hit["object_key"],
            actor=f"agency:{agency_code}",
            purpose=f"{purpose} (kiểm tra chữ ký)",
            sha256=hit["sha256"],
            owner=hit.get("owner_id"),
        )
        view = verifier.verify(data, cache=True)
    return summary(view)


def _absolute(request: Request, url: str) -> str:
    """A local store's link on the service's public address (``api.base_url``), never on the request's
    Host header: whoever can set that header (a client past a proxy that passes it on) would otherwise
    choose where an agency's download goes."""
    return request.app.state.services.settings.api.base_url + url if url.startswith("/") else url


def _fetch(
    request: Request, principal: Principal, owner_id: str, purpose: str, doc_types: list[str]
) -> list[dict[str, Any]]:
    if not principal.agency_code:
        raise AgencyUnknown(f"client {principal.id} has no agency code")
    hits = request_documents(request.app.state.warehouse, principal.agency_code, owner_id, purpose, doc_types or None)
    out = []
    for hit in hits:
        item = {k: v for k, v in hit.items() if k != "object_key"}
        item["url"] = _absolute(request, hit["url"])
        item["verification"] = _verification(request, hit, principal.agency_code, purpose)
        out.append(item)
    return out


@router.get(
    "/api/v1/agency/documents",
    summary="A citizen's documents the agency may reuse for a purpose: metadata, verification, short-lived link",
    responses=ERRORS,
)
async def agency_documents(
    request: Request,
    principal: Annotated[Principal, Depends(agency)],
    owner_id: Annotated[str, Query(pattern=OWNER_ID.pattern, description="số định danh cá nhân (12 digits)")],
    purpose: Annotated[str, Query(min_length=3, max_length=200, description="purpose the grant was given for")],
    doc_type: Annotated[list[str] | None, Query(description="document types; default: all granted")] = None,
) -> dict[str, Any]:
    types = doc_type or []
    unknown = sorted(set(types) - set(DOCUMENT_TYPES))
    if unknown:
        message = f"Loại giấy tờ không hợp lệ: {', '.join(unknown)}"
        raise HTTPException(422, detail={"code": "DOC_TYPE_UNKNOWN", "message": message})
    metrics = request.app.state.api_metrics
    try:
        docs = await run_in_threadpool(_fetch, request, principal, owner_id, purpose, types)
    except SohoaError as exc:
        metrics.agency_requests.labels("refused").inc()
        log.warning("agency request refused: client=%s code=%s", principal.id, exc.code)
        raise
    metrics.agency_requests.labels("granted").inc()
    return {"owner_id": owner_id, "purpose": purpose, "count": len(docs), "documents": docs}


@router.get("/objects/{bucket}/{key:path}", include_in_schema=False)
async def signed_object(request: Request, bucket: str, key: str) -> Response:
    """Serve a short-lived HMAC-signed link of the local object store (S3 serves its own)."""
    store = request.app.state.services.store
    secret = getattr(store, "link_secret", None)
    if secret is None:
        raise HTTPException(404)
    link = request.url.path + ("?" + request.url.query if request.url.query else "")
    try:
        bucket_name, object_key = verify_local_link(secret, link)
        which = Bucket(bucket_name)
    except (LinkInvalid, ValueError) as exc:
        raise HTTPException(403, detail=LinkInvalid().to_dict()) from exc
    # The access was audited when the link was issued (as for S3, which serves its own links).
    data = await run_in_threadpool(store.get_bytes, which, object_key)
    return Response(data, media_type="application/pdf", headers={"Cache-Control": "no-store"})
