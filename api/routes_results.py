"""Officers issue e-results (upload the PDF or render it from the template); the signed PDF is downloadable."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.auth import bearer, principal_of, require
from api.docs import ERRORS, binary_body, error_response
from api.errors import not_found
from api.officer_auth import current_officer, officer_from_key
from api.routes_batches import can_see
from api.uploads import read_body
from dossiers.result_render import ResultForm, place_of, render_form
from dossiers.results import Issued, issue_result_once
from dossiers.services import Services
from dossiers.signer_keys import centre_details
from dossiers.status import find_dossier
from dossiers.workspace import effective_centre_id
from signing.vntime import to_vn
from storage.catalogue.clients import Principal
from storage.catalogue.models import ClientRole, ComponentState, EResult, OfficerRole
from storage.catalogue.officers import OfficerPrincipal, load_officer
from storage.objectstore import Bucket

router = APIRouter(prefix="/api/v1", tags=["officers"])
station_or_officer = require(ClientRole.STATION, ClientRole.OFFICER)
Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description=(
            "A key the client makes for each new e-result (e.g. a UUID) and sends again when it retries. "
            "A repeat of the same request under the same key gets the same e-result with 200 instead of "
            "a new one; the key reused for a different request is refused with IDEMPOTENCY_KEY_REUSED (409). "
            "Keys are scoped to the calling officer's API key."
        ),
    ),
]
ISSUE_RESPONSES = {
    200: {"description": "A repeat of an earlier request: the e-result it issued, not a new one"},
    **ERRORS,
    409: error_response("The Idempotency-Key was used for a different request (IDEMPOTENCY_KEY_REUSED)"),
}


class TemplateResult(BaseModel):
    """An e-result rendered from the centre's plain template: heading, dossier data, then these lines."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["Giấy xác nhận tình trạng hôn nhân"])
    body: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=40)
    level: Level | None = None
    number: str | None = Field(default=None, max_length=20, description="Số văn bản", examples=["123"])
    symbol: str | None = Field(default=None, max_length=40, description="Ký hiệu văn bản", examples=["XN-UBND"])
    parent_agency: str | None = Field(default=None, max_length=200, description="Cơ quan chủ quản")
    place: str | None = Field(default=None, max_length=100, description="Địa danh (default: from the agency name)")
    signer_title: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=3, examples=[["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]]
    )
    signer_name: str | None = Field(default=None, max_length=100, examples=["Nguyễn Văn An"])
    recipients: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=10, examples=[["Như trên;", "Lưu: VT."]]
    )
    validity: str | None = Field(
        default=None, max_length=100, description="Thời hạn hiệu lực (in the QR code)", examples=["đến 06/06/2027"]
    )
    scope: str | None = Field(
        default=None, max_length=300, description="Phạm vi sử dụng (in the QR code)", examples=["Trên toàn quốc"]
    )


@dataclass(frozen=True)
class ResultIssuer:
    """Who issues an e-result: an officer account (signed in, or by personal key), or a deployment-wide
    officer key of no officer (``client_id`` only; the result is then the default centre's)."""

    client_id: int | None  # the API key's id: idempotency keys are scoped to it (None: a browser session)
    officer: OfficerPrincipal | None

    @property
    def actor(self) -> str:
        """The audit trail's name for the issuer: the officer, else the API key."""
        return self.officer.actor if self.officer is not None else f"api-key:{self.client_id}"

    @property
    def ids(self) -> tuple[int | None, int | None]:
        """(officer id, centre id): the centre whose key signs the result."""
        return (self.officer.id, self.officer.centre_id) if self.officer is not None else (None, None)


ISSUING_ROLES = (OfficerRole.RESULT, OfficerRole.ADMIN)


async def result_issuer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> ResultIssuer:
    """A dependency: the caller allowed to issue results (a result officer or a centre admin; 401/403 else)."""
    if credentials is None:
        officer = await current_officer(request, None)  # a signed-in browser: its session, CSRF-checked
        client_id = None
    else:
        principal = await run_in_threadpool(principal_of, request, credentials, (ClientRole.OFFICER,))
        if principal.officer_id is None:
            return ResultIssuer(principal.id, None)
        officer = await run_in_threadpool(officer_from_key, request, credentials)
        client_id = principal.id
    if officer.role not in ISSUING_ROLES:
        raise HTTPException(
            403,
            detail={
                "code": "FORBIDDEN",
                "message": "Chỉ cán bộ trả kết quả hoặc quản trị trung tâm được ban hành kết quả.",
            },
        )
    return ResultIssuer(client_id, officer)


def check_dossier_for(services: Services, code: str, issuer: ResultIssuer) -> None:
    """An officer issues results only for their centre's dossiers (404 otherwise, as for an unknown code)."""
    if issuer.officer is None:
        return
    with services.catalogue.reading() as s:
        dossier = find_dossier(s, code)
        if dossier is None or dossier.centre_id != issuer.officer.centre_id:
            raise not_found(code)


def _result_view(r: EResult) -> dict[str, Any]:
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
        "public_url": f"/tra-cuu/ket-qua/{r.code}",
    }


def _issued(request: Request, response: Response, issued: Issued) -> dict[str, Any]:
    """The answer to an issue request: 202 for a new e-result, 200 for a repeat's existing one."""
    result = issued.result
    if issued.created:
        request.app.state.wake_workers()
    else:
        response.status_code = 200
    return {
        "code": result.code,
        "state": result.state,
        "level": result.level,
        "status_url": f"/api/v1/results/{result.code}",
        "public_url": f"/tra-cuu/ket-qua/{result.code}",
    }


@router.post(
    "/dossiers/{code}/results",
    status_code=202,
    summary="Issue an e-result: upload the result PDF; the code is <mã hồ sơ>-KQ<n>",
    openapi_extra=binary_body("The result PDF, unsigned", "application/pdf"),
    responses=ISSUE_RESPONSES,
)
async def post_result(
    code: str,
    request: Request,
    response: Response,
    issuer: Annotated[ResultIssuer, Depends(result_issuer)],
    level: Annotated[Level | None, Query()] = None,
    title: Annotated[str, Query(max_length=300)] = "",
    validity: Annotated[str | None, Query(max_length=100, description="Thời hạn hiệu lực (QR code)")] = None,
    scope: Annotated[str | None, Query(max_length=300, description="Phạm vi sử dụng (QR code)")] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    services = request.app.state.services
    await run_in_threadpool(check_dossier_for, services, code, issuer)
    data = await read_body(request, services.settings.api.result_max_upload_bytes)
    officer_id, centre_id = issuer.ids
    issued = await run_in_threadpool(
        lambda: issue_result_once(
            services,
            code,
            data,
            title=title,
            level=level,
            issued_by=issuer.client_id,
            idempotency_key=idempotency_key,
            officer_id=officer_id,
            centre_id=centre_id,
            validity=validity,
            scope=scope,
            actor=issuer.actor,
        )
    )
    return _issued(request, response, issued)


def template_form(
    services: Services,
    dossier_code: str,
    spec: TemplateResult,
    issued_on: date,
    centre_id: int | None = None,
    officer_id: int | None = None,
) -> ResultForm:
    """The NĐ 30/2020 form of a template e-result: the request's text under the issuing centre's header
    (``centre_id``, else the dossier's centre), the dossier's facts first. What the request leaves out
    comes from the centre (parent agency, place, ký hiệu) and the issuing officer (signer's title and name)."""
    with services.catalogue.reading() as s:
        dossier = find_dossier(s, dossier_code)
        if dossier is None:
            raise not_found(dossier_code)
        centre_id = centre_id or dossier.centre_id
        facts = [
            f"Mã hồ sơ: {dossier.code}",
            f"Mã thủ tục: {dossier.procedure_code}",
            f"Người nộp hồ sơ: {dossier.applicant_name or '—'}",
            f"Nơi tiếp nhận: {dossier.receiving_centre or '—'}",
        ]
        own_centre = centre_id if centre_id is not None else dossier.centre_id
    centre = centre_details(services, own_centre)
    officer = load_officer(services.catalogue, officer_id) if officer_id is not None else None
    agency = centre.name
    return ResultForm(
        agency=agency,
        parent_agency=spec.parent_agency or centre.parent_name or None,
        place=spec.place or centre.place or place_of(agency),
        issued_on=issued_on,
        title=spec.title,
        number=spec.number,
        symbol=spec.symbol or centre.symbol or None,
        body=(*facts, *spec.body),
        signer_title=tuple(spec.signer_title) or ((officer.title.upper(),) if officer and officer.title else ()),
        signer_name=spec.signer_name or (officer.full_name if officer else None),
        recipients=tuple(spec.recipients),
    )


def render_and_issue(
    services: Services,
    code: str,
    spec: TemplateResult,
    issued_by: int | None,
    idempotency_key: str | None,
    issuer: tuple[int | None, int | None] = (None, None),
    actor: str = "",
) -> Issued:
    """Issue the template's e-result; its form, not the rendered bytes (distinct per render), identifies it."""
    form = template_form(services, code, spec, to_vn(datetime.now(UTC)).date(), issuer[1], issuer[0])
    return issue_result_once(
        services,
        code,
        lambda: render_form(form, document_id=os.urandom(16)),
        title=spec.title,
        level=spec.level,
        issued_by=issued_by,
        idempotency_key=idempotency_key,
        content_sha256=hashlib.sha256(repr(form).encode()).hexdigest(),
        officer_id=issuer[0],
        centre_id=issuer[1],
        validity=spec.validity,
        scope=spec.scope,
        actor=actor,
    )


@router.post(
    "/dossiers/{code}/results/from-template",
    status_code=202,
    summary="Issue an e-result rendered from the centre's template (Vietnamese text)",
    responses=ISSUE_RESPONSES,
)
async def post_result_from_template(
    code: str,
    spec: TemplateResult,
    request: Request,
    response: Response,
    issuer: Annotated[ResultIssuer, Depends(result_issuer)],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    services = request.app.state.services
    await run_in_threadpool(check_dossier_for, services, code, issuer)
    issued = await run_in_threadpool(
        render_and_issue, services, code, spec, issuer.client_id, idempotency_key, issuer.ids, issuer.actor
    )
    return _issued(request, response, issued)


def _load(
    request: Request, principal: Principal, code: str
) -> tuple[dict[str, Any], tuple[str | None, str | None, str, int | None]]:
    """The e-result's view for this principal, where its signed PDF is stored (key, version), and whose
    and which centre's it is (for the audit entry of a download)."""
    with request.app.state.services.catalogue.reading() as s:
        r = s.scalar(select(EResult).where(EResult.code == code))
        if r is None or not can_see(principal, r.dossier):
            raise not_found(code)
        centre_id = r.centre_id if r.centre_id is not None else effective_centre_id(s, r.dossier)
        return _result_view(r), (r.object_key, r.object_version, r.dossier.applicant_id, centre_id)


@router.get("/results/{code}", summary="E-result status", responses=ERRORS)
async def get_result(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> dict[str, Any]:
    view, _stored = await run_in_threadpool(_load, request, principal, code)
    return view


@router.get(
    "/results/{code}/pdf",
    summary="Download the signed e-result",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "Not signed yet"}, **ERRORS},
)
async def download_result(
    code: str, request: Request, principal: Annotated[Principal, Depends(station_or_officer)]
) -> Response:
    view, (key, version, owner, centre_id) = await run_in_threadpool(_load, request, principal, code)
    if view["state"] != ComponentState.DONE:
        raise HTTPException(409, detail={"code": "RESULT_NOT_READY", "message": "Kết quả chưa được ký xong."})
    data = await run_in_threadpool(
        lambda: request.app.state.warehouse.get_bytes(
            Bucket.RESULTS,
            key,
            actor=f"{principal.role}:{principal.id}",
            purpose="tải kết quả điện tử",
            sha256=view["sha256"],
            version_id=version,
            owner=owner,
            centre_id=centre_id,
        )
    )
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{code}.pdf"'}
    )
