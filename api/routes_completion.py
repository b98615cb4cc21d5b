"""Completing a dossier: a station sends one failed component again; an officer attaches a stored document."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.auth import bearer, principal_of
from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from api.routes_batches import limited_station
from api.uploads import MULTIPART_NO_TYPE, save_multipart_scans
from dossiers.completion import ComponentUpload, attach_stored_document, resend_component
from dossiers.workspace_completion import attach_from_workspace
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1")
_account = require_officer(OfficerRole.RECEIVING, OfficerRole.ADMIN)


async def completing_officer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> OfficerPrincipal | Principal:
    """A receiving officer or centre administrator (personal key or signed-in session: scoped to their centre),
    or a legacy officer API key of no account (``sohoa`` development keys: the whole deployment, as before)."""
    if credentials is not None:
        principal = await run_in_threadpool(principal_of, request, credentials, (ClientRole.OFFICER,))
        if principal.officer_id is None:
            return principal
    return await _account(request, credentials)


SCANS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The component's scans, one file part each (any field name, e.g. `files`), in page order.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                }
            }
        },
    }
}


@router.put(
    "/dossiers/{code}/components/{ref}",
    status_code=202,
    summary="Send one failed component's scans again",
    description=(
        "Only the station that pushed the dossier, and only for a component that failed: its scans are "
        "replaced and it is digitised, signed and stored again (the dossier is `processing` until then). "
        "The scans are read, bounded and charged to the station's day as a batch's are. An `Idempotency-Key`, "
        "or the same scans sent again while the first send runs or after it, gets the first send's receipt (200)."
    ),
    tags=["stations"],
    openapi_extra=SCANS_BODY,
    response_class=JSONResponse,
    responses={
        202: {"description": "The component's receipt"},
        200: {"description": "The same send was made before: its receipt"},
        **ERRORS,
        404: error_response("No such dossier or component, or another station's dossier"),
        409: error_response(
            "The component is done (COMPONENT_DONE) or being processed (COMPONENT_BUSY), or the Idempotency-Key "
            "was used for other scans (IDEMPOTENCY_KEY_REUSED)"
        ),
        413: error_response("As a batch: UPLOAD_TOO_LARGE, BATCH_TOO_MANY_PAGES, BATCH_TOO_LARGE"),
        422: error_response(
            "No scan (COMPONENT_SCANS_MISSING), not multipart (MULTIPART_INVALID), or a scan the batch reader "
            "refuses (UNSAFE_PATH, MEMBER_UNREADABLE, ...)"
        ),
        429: error_response("RATE_LIMITED or STATION_DAILY_QUOTA; see Retry-After"),
    },
)
async def resend(
    code: str,
    ref: str,
    request: Request,
    principal: Annotated[Principal, Depends(limited_station)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    services = request.app.state.services
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(422, detail={"code": "MULTIPART_INVALID", "message": MULTIPART_NO_TYPE})
    limit = min(services.settings.api.max_upload_bytes, principal.limits.max_batch_bytes or 2**63)
    upload, names = await save_multipart_scans(request, services.settings.work_dir / "uploads", limit)
    try:
        receipt = await anyio.to_thread.run_sync(
            lambda: resend_component(
                services,
                code,
                ref,
                ComponentUpload(upload.path, names),
                station_id=principal.id,
                idempotency_key=idempotency_key,
            )
        )
    finally:
        Path(upload.path).unlink(missing_ok=True)
    request.app.state.wake_workers()
    body = receipt.to_dict() | {
        "status_url": f"/api/v1/dossiers/{code}",
        "events_url": f"/api/v1/dossiers/{code}/events",
    }
    return JSONResponse(body, status_code=202 if receipt.created else 200)


class ReuseRequest(BaseModel):
    """A stored document to stand in for the component: by id, or by the reference the intake receipt listed."""

    model_config = ConfigDict(extra="forbid")

    document_id: int | None = Field(default=None, gt=0, lt=2**63)
    reference: str | None = Field(default=None, pattern=r"^TL-[A-Z2-7]{16}$")
    purpose: str = Field(default="", max_length=200, description="Why (kept in the audit log)")

    @model_validator(mode="after")
    def _one_name(self) -> ReuseRequest:
        if (self.document_id is None) == (self.reference is None):
            raise ValueError("give document_id or reference, one of them")
        return self


@router.post(
    "/dossiers/{code}/components/{ref}/reuse",
    summary="Complete a component by a stored document of the applicant (no new scan)",
    description=(
        "The document must be the applicant's (owner, or named in it as a party), signed and stored, still "
        "valid, and of the component's declared type; the component pending or failed. It is then done by "
        "reference (`reused_from` in the dossier's status); the access is audited (`reuse_document`)."
    ),
    tags=["officers"],
    responses={
        **ERRORS,
        404: error_response("No such dossier or component"),
        409: error_response("The component is done (COMPONENT_DONE) or being processed (COMPONENT_BUSY)"),
        422: error_response(
            "REUSE_DOCUMENT_UNAVAILABLE (unknown, not the applicant's, not signed and stored), REUSE_TYPE_MISMATCH, "
            "REUSE_DOCUMENT_EXPIRED"
        ),
    },
)
async def reuse(
    code: str,
    ref: str,
    body: ReuseRequest,
    request: Request,
    principal: Annotated[OfficerPrincipal | Principal, Depends(completing_officer)],
) -> dict[str, Any]:
    services = request.app.state.services
    if isinstance(principal, OfficerPrincipal):  # an account: only its centre's dossiers, audited as the person
        return await run_in_threadpool(
            lambda: attach_from_workspace(
                services,
                principal,
                code,
                ref,
                document_id=body.document_id,
                reference=body.reference,
                purpose=body.purpose,
            )
        )
    return await run_in_threadpool(
        lambda: attach_stored_document(
            services,
            code,
            ref,
            body.document_id,
            reference=body.reference,
            actor=f"{principal.role}:{principal.id}",
            purpose=body.purpose,
        )
    )
