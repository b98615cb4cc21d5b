"""Centres of the deployment: names printed on results, signing policy. A centre's administrators manage it.

``GET /api/v1/centres`` lists them (no key material: where a key is, never what it is), ``PATCH
/api/v1/centres/{code}`` changes the caller's own centre, ``POST /api/v1/centres`` adds one and is
left to the administrators of the default centre (the deployment's own, made from the settings);
``sohoa centres add`` does the same from the host. Signing keys are registered from the host only
(``sohoa centres set-key``): they name files and devices there.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from dossiers.centre_admin import audit_centre, change_own_centre
from dossiers.centres import add_centre, list_centres
from dossiers.errors import CentreForbidden
from dossiers.signer_keys import DEFAULT_CENTRE_CODE
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1", tags=["officers"])
admin = require_officer(OfficerRole.ADMIN)
Policy = Literal["confirm_all", "auto_confident"]


class CentreChanges(BaseModel):
    """What a centre's administrator may change (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=300, examples=["UBND phường Ba Đình"])
    parent_name: str | None = Field(default=None, max_length=300, examples=["UBND quận Ba Đình"])
    place: str | None = Field(default=None, max_length=100, examples=["Ba Đình"])
    symbol: str | None = Field(default=None, max_length=40, examples=["UBND"])
    signing_policy: Policy | None = None


class NewCentre(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$", examples=["ba-dinh"])
    name: str = Field(min_length=1, max_length=300, examples=["UBND phường Ba Đình"])
    parent_name: str = Field(default="", max_length=300)
    place: str = Field(default="", max_length=100)
    symbol: str = Field(default="", max_length=40)
    signing_policy: Policy = "confirm_all"


@router.get("/centres", summary="The deployment's centres (names, policy, kind of key)", responses=ERRORS)
async def get_centres(request: Request, officer: Annotated[OfficerPrincipal, Depends(admin)]) -> list[dict[str, Any]]:
    return await run_in_threadpool(list_centres, request.app.state.services)


@router.post(
    "/centres",
    status_code=201,
    summary="Add a centre (administrators of the default centre only)",
    responses={**ERRORS, 409: error_response("A centre with this code exists (CENTRE_EXISTS)")},
)
async def post_centre(
    body: NewCentre, request: Request, officer: Annotated[OfficerPrincipal, Depends(admin)]
) -> dict[str, Any]:
    if officer.centre_code != DEFAULT_CENTRE_CODE:
        raise CentreForbidden(officer.username)
    services = request.app.state.services
    view = await run_in_threadpool(lambda: add_centre(services, **body.model_dump()))
    await run_in_threadpool(audit_centre, services, officer, "centre_add", body.code, body.model_dump())
    return view


@router.patch(
    "/centres/{code}",
    summary="Change your own centre's names or signing policy",
    responses={**ERRORS, 403: error_response("Not your centre (CENTRE_FORBIDDEN)")},
)
async def patch_centre(
    code: str, body: CentreChanges, request: Request, officer: Annotated[OfficerPrincipal, Depends(admin)]
) -> dict[str, Any]:
    services = request.app.state.services
    changes = body.model_dump(exclude_none=True)
    return await run_in_threadpool(change_own_centre, services, officer, code, changes)
