"""A centre's administrator manages the officers of their own centre: list, add, disable, unlock,
reset TOTP, reset a forgotten password.

The JSON side of ``/can-bo/quan-tri`` (``dossiers.centre_admin``). Another centre's officer answers
404 OFFICER_NOT_FOUND, as one that does not exist; every change is audited with the administrator as actor.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.docs import ERRORS, error_response
from api.officer_auth import require_officer
from dossiers import centre_admin
from storage.catalogue.models import OfficerRole
from storage.catalogue.officers import OfficerPrincipal

router = APIRouter(prefix="/api/v1/centre", tags=["officers"])
Admin = Annotated[OfficerPrincipal, Depends(require_officer(OfficerRole.ADMIN))]
USERNAME = r"^[A-Za-z0-9._@-]{1,100}$"
Username = Annotated[str, Path(pattern=USERNAME, max_length=100)]
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: error_response("No officer of this username in your centre (OFFICER_NOT_FOUND)")
}


class NewOfficerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME, max_length=100, examples=["lan.nt"])
    full_name: str = Field(min_length=1, max_length=200, examples=["Nguyễn Thị Lan"])
    title: str = Field(default="", max_length=200, examples=["Chuyên viên"])
    role: Literal["receiving_officer", "result_officer", "centre_admin"] = "receiving_officer"


class PasswordReset(BaseModel):
    username: str
    password: str = Field(description="Shown once: hand it to the officer in person; only its hash is kept")


@router.get("/officers", summary="Your centre's officers (accounts; no secret)", responses=ERRORS)
async def list_officers(request: Request, officer: Admin) -> list[dict[str, Any]]:
    return await run_in_threadpool(centre_admin.centre_officers, request.app.state.services, officer)


@router.post(
    "/officers",
    status_code=201,
    summary="Add an officer to your centre; the initial password is in the answer, once",
    responses={**ERRORS, 409: error_response("The username is taken (OFFICER_EXISTS)")},
)
async def add_officer(body: NewOfficerBody, request: Request, officer: Admin) -> dict[str, Any]:
    services = request.app.state.services
    made = await run_in_threadpool(
        lambda: centre_admin.add_centre_officer(
            services, officer, body.username, body.full_name, OfficerRole(body.role), body.title
        )
    )
    return {"id": made.id, "username": made.username, "initial_password": made.initial_password}


@router.post(
    "/officers/{username}/disable", summary="Disable an officer of your centre", responses={**ERRORS, **NOT_YOURS}
)
async def disable_officer(username: Username, request: Request, officer: Admin) -> dict[str, Any]:
    await run_in_threadpool(centre_admin.disable_centre_officer, request.app.state.services, officer, username)
    return {"username": username, "disabled": True}


@router.post(
    "/officers/{username}/unlock", summary="Unlock an officer of your centre", responses={**ERRORS, **NOT_YOURS}
)
async def unlock_officer(username: Username, request: Request, officer: Admin) -> dict[str, Any]:
    await run_in_threadpool(centre_admin.unlock_centre_officer, request.app.state.services, officer, username)
    return {"username": username, "locked": False}


@router.post(
    "/officers/{username}/reset-totp",
    summary="Make an officer of your centre set up TOTP again",
    responses={**ERRORS, **NOT_YOURS},
)
async def reset_officer_totp(username: Username, request: Request, officer: Admin) -> dict[str, Any]:
    await run_in_threadpool(centre_admin.reset_centre_officer_totp, request.app.state.services, officer, username)
    return {"username": username, "totp": False}


@router.post(
    "/officers/{username}/reset-password",
    summary="Give an officer of your centre a new one-time password (they forgot theirs)",
    response_model=PasswordReset,
    responses={**ERRORS, **NOT_YOURS},
)
async def reset_officer_password(username: Username, request: Request, officer: Admin) -> JSONResponse:
    """The password is in this answer only (never stored, never logged); their sessions end, their TOTP stays."""
    made = await run_in_threadpool(
        centre_admin.reset_centre_officer_password, request.app.state.services, officer, username
    )
    return JSONResponse({"username": username, "password": made}, headers={"Cache-Control": "no-store"})
