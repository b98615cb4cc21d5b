"""Officers' review workspace (JSON): the centre's dossiers, the queue of components to check, one
component with its pages and what was read, corrections, and confirmation that the copy matches the paper.

Every route takes the calling officer (``require_officer``) and sees only their centre's dossiers:
another centre's component answers 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from dossiers import workspace
from dossiers.confirmation import confirm_component
from dossiers.corrections import PartyInput, correct_component
from dossiers.previews import page_png
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1/workspace", tags=["officers"])
Officer = Annotated[OfficerPrincipal, Depends(require_officer())]
Receiving = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.RECEIVING, OfficerRole.ADMIN))]
RESPONSES = ERRORS | {409: error_response("Not digitised yet, or not awaiting confirmation")}


class PartyBody(BaseModel):
    role: str = Field(default="person", max_length=32, description="husband, wife, principal, agent, party_a…")
    so_dinh_danh: str = Field(max_length=20, description="Số định danh cá nhân (12 digits)")
    name: str = Field(default="", max_length=200)
    date_of_birth: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")


class CorrectionBody(BaseModel):
    """What the officer corrects; anything left out stays as it is."""

    doc_type: str | None = Field(default=None, max_length=40, description="One of the document types")
    fields: dict[str, str | None] | None = Field(
        default=None, description="Field name → corrected value (empty or null removes the field)"
    )
    parties: list[PartyBody] | None = Field(default=None, description="The full list of parties (replaces it)")


@router.get("/dossiers", summary="The centre's dossiers by state", responses=ERRORS)
async def list_dossiers(
    request: Request,
    officer: Officer,
    state: Annotated[Literal["processing", "awaiting", "done", "partial", "failed"] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100, description="Dossier code, applicant name or number")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            return workspace.list_dossiers(s, officer.centre_id, state=state, q=q, page=page)

    return await run_in_threadpool(run)


@router.get("/components", summary="The review queue: components needing review first, then the oldest")
async def list_components(
    request: Request,
    officer: Officer,
    needs_review: Annotated[bool | None, Query()] = None,
    state: Annotated[
        Literal["pending", "processing", "awaiting", "done", "failed", "all"], Query(description="Component state")
    ] = "awaiting",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        with request.app.state.services.catalogue.reading() as s:
            return workspace.queue(
                s, officer.centre_id, state=None if state == "all" else state, needs_review=needs_review, page=page
            )

    return await run_in_threadpool(run)


def _view(request: Request, component_id: int, officer: OfficerPrincipal) -> dict[str, Any]:
    with request.app.state.services.catalogue.reading() as s:
        return workspace.component_view(s, component_id, officer.centre_id)


@router.get("/components/{component_id}", summary="One component: pages, OCR text, type, fields, parties, reasons")
async def get_component(request: Request, component_id: int, officer: Officer) -> dict[str, Any]:
    return await run_in_threadpool(_view, request, component_id, officer)


@router.get(
    "/components/{component_id}/pages/{page}.png",
    summary="A page of the component as a PNG (longer side at most 1600 px)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
async def get_page_image(request: Request, component_id: int, page: int, officer: Officer) -> Response:
    png, tag = await run_in_threadpool(page_png, request.app.state.services, component_id, officer.centre_id, page)
    etag = f'"{tag}"'
    headers = {"Cache-Control": "private, max-age=86400", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)


@router.patch("/components/{component_id}", summary="Correct the type, fields or parties", responses=RESPONSES)
async def patch_component(
    request: Request, component_id: int, body: CorrectionBody, officer: Receiving
) -> dict[str, Any]:
    services = request.app.state.services
    parties = (
        None
        if body.parties is None
        else [PartyInput(p.role, p.so_dinh_danh, p.name, p.date_of_birth) for p in body.parties]
    )
    changed = await run_in_threadpool(
        lambda: correct_component(
            services, component_id, officer, doc_type=body.doc_type, fields=body.fields, parties=parties
        )
    )
    view = await run_in_threadpool(_view, request, component_id, officer)
    return view | {"changed": changed}


@router.post(
    "/components/{component_id}/confirm",
    summary="Confirm the digitised copy matches the paper (then it is signed)",
    responses=RESPONSES,
)
async def post_confirm(request: Request, component_id: int, officer: Receiving) -> dict[str, Any]:
    services, wake = request.app.state.services, request.app.state.wake_workers
    await run_in_threadpool(lambda: confirm_component(services, component_id, officer, wake=wake))
    return await run_in_threadpool(_view, request, component_id, officer)
