"""The centre administrator registers the agencies that reuse stored documents and grants them access.

The JSON side of ``/can-bo/quan-tri/co-quan`` (``dossiers.agency_admin``); every change is audited with
the administrator as actor. An agency's API key is made with ``sohoa keys create --role agency``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from dossiers import agency_admin
from dossiers.agency_admin import GrantRequest
from sohoa.identifiers import AGENCY_CODE
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1", tags=["agencies"])
Admin = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.ADMIN))]
Code = Annotated[str, Path(pattern=AGENCY_CODE.pattern, description="agency code (QĐ 20/2020), e.g. 000.00.13.H26")]
NO_AGENCY: dict[int | str, dict[str, Any]] = {404: error_response("No agency of this code (AGENCY_NOT_FOUND)")}


class NewAgencyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AGENCY_CODE.pattern, examples=["000.00.13.H26"])
    name: str = Field(min_length=1, max_length=300, examples=["UBND phường Hoàn Kiếm"])


class NewGrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(pattern=AGENCY_CODE.pattern, examples=["000.00.13.H26"])
    doc_types: list[str] = Field(min_length=1, max_length=50, examples=[["birth_certificate"]])
    purpose: str = Field(min_length=3, max_length=200, examples=["giải quyết thủ tục đăng ký kết hôn"])
    days: int = Field(default=365, ge=1, le=agency_admin.MAX_DAYS, description="validity from now, in days")


@router.get("/agencies", summary="Agencies that reuse stored documents, with their grants", responses=ERRORS)
async def list_agencies(request: Request, officer: Admin) -> list[dict[str, Any]]:
    return await run_in_threadpool(agency_admin.list_agencies, request.app.state.services.catalogue)


@router.post(
    "/agencies",
    status_code=201,
    summary="Register an agency (or rename it; re-enables a disabled one)",
    responses=ERRORS,
)
async def add_agency(body: NewAgencyBody, request: Request, officer: Admin) -> dict[str, Any]:
    catalogue = request.app.state.services.catalogue
    return await run_in_threadpool(
        lambda: agency_admin.add_agency(catalogue, body.code, body.name, actor=officer.actor)
    )


@router.post(
    "/agencies/{code}/disable",
    summary="Disable an agency: its grants in force and its API keys are revoked",
    responses={**ERRORS, **NO_AGENCY},
)
async def disable_agency(code: Code, request: Request, officer: Admin) -> dict[str, Any]:
    catalogue = request.app.state.services.catalogue
    return await run_in_threadpool(lambda: agency_admin.disable_agency(catalogue, code, actor=officer.actor))


@router.get("/grants", summary="Grants (every state), optionally one agency's", responses=ERRORS)
async def list_grants(
    request: Request,
    officer: Admin,
    agency: Annotated[str | None, Query(pattern=AGENCY_CODE.pattern, description="agency code")] = None,
) -> list[dict[str, Any]]:
    catalogue = request.app.state.services.catalogue
    return await run_in_threadpool(agency_admin.list_grants, catalogue, agency)


@router.post(
    "/grants",
    status_code=201,
    summary="Grant an agency document types for a purpose, for some days",
    responses={**ERRORS, **NO_AGENCY, 409: error_response("The agency is disabled (AGENCY_DISABLED)")},
)
async def add_grant(body: NewGrantBody, request: Request, officer: Admin) -> dict[str, Any]:
    catalogue = request.app.state.services.catalogue
    wanted = GrantRequest(body.agency_code, tuple(body.doc_types), body.purpose, body.days)
    return await run_in_threadpool(lambda: agency_admin.add_grant(catalogue, wanted, actor=officer.actor))


@router.delete(
    "/grants/{grant_id}",
    summary="Revoke a grant",
    responses={**ERRORS, 404: error_response("No grant in force of this id (GRANT_NOT_FOUND)")},
)
async def revoke_grant(grant_id: Annotated[int, Path(ge=1)], request: Request, officer: Admin) -> dict[str, Any]:
    catalogue = request.app.state.services.catalogue
    return await run_in_threadpool(lambda: agency_admin.revoke(catalogue, grant_id, actor=officer.actor))
