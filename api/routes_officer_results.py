"""Result officers' page (Vietnamese): the centre's e-results, and forms to issue one from the NĐ 30/2020
template or from an uploaded PDF. The same functions as the API (``api.routes_results``) do the work;
the page adds the officer's centre as scope (no IDOR) and a per-form idempotency key, so that a form
sent twice (a double click, a reload) issues one result.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile as StarletteUpload

from api.officer_auth import require_officer
from api.officer_pages import officer_page
from api.pages import vn_time
from api.routes_results import ISSUING_ROLES, ResultIssuer, TemplateResult, check_dossier_for, render_and_issue
from dossiers.results import Issued, issue_result_once
from sohoa.errors import SohoaError
from storage.catalogue.models import ComponentState, Dossier, EResult
from storage.catalogue.officers import OfficerPrincipal
from storage.objectstore import Bucket

router = APIRouter(include_in_schema=False)
Issuing = Annotated[OfficerPrincipal, Depends(require_officer(*ISSUING_ROLES))]
PAGE = "/can-bo/ket-qua"
PAGE_SIZE = 50
STATES = {"pending": "Chờ ký", "processing": "Đang ký", "done": "Đã ký", "failed": "Lỗi"}
LEVELS = (("B-LTA", "B-LTA (lưu trữ lâu dài, mặc định)"), ("B-LT", "B-LT"), ("B-T", "B-T"))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _results(request: Request, officer: OfficerPrincipal, page_no: int) -> list[dict[str, Any]]:
    """One page of the centre's e-results, newest first."""
    with request.app.state.services.catalogue.reading() as s:
        rows = s.scalars(
            select(EResult)
            .join(Dossier, Dossier.id == EResult.dossier_id)
            .where(Dossier.centre_id == officer.centre_id)
            .order_by(EResult.created_at.desc(), EResult.id.desc())
            .offset((page_no - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
        return [
            {
                "code": r.code,
                "dossier_code": r.dossier.code,
                "title": r.title,
                "state": r.state,
                "signed_by": r.signed_by or "",
                "signed_at": vn_time(r.signed_at) if r.signed_at else "—",
                "error": r.error_message or "",
            }
            for r in rows
        ]


async def _render(
    request: Request,
    officer: OfficerPrincipal,
    *,
    status: int = 200,
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    results = await run_in_threadpool(_results, request, officer, 1)
    issued = request.query_params.get("da", "")
    return officer_page(
        request,
        "officer_results.html",
        officer,
        status,
        active="results",
        results=results,
        states=STATES,
        levels=LEVELS,
        issued=issued,
        error=error,
        form=form or {"dossier_code": request.query_params.get("ho-so", "")},
        form_keys=(secrets.token_urlsafe(16), secrets.token_urlsafe(16)),  # one per form
    )


@router.get(PAGE, response_class=HTMLResponse)
async def results_page(request: Request, officer: Issuing) -> Response:
    return await _render(request, officer)


async def _issue_and_show(
    request: Request,
    officer: OfficerPrincipal,
    code: str,
    form: dict[str, str],
    issue: Callable[[ResultIssuer], Issued],
) -> Response:
    """Issue for a dossier of the officer's centre, then to the list (the new code in its notice); a refusal
    is shown on the page with the form as it was sent."""
    services, issuer = request.app.state.services, ResultIssuer(None, officer)  # a browser session: no API key
    try:
        await run_in_threadpool(check_dossier_for, services, code, issuer)
        issued = await run_in_threadpool(issue, issuer)
    except SohoaError as exc:
        return await _render(request, officer, status=exc.http_status or 422, error=exc.message_vi, form=form)
    except HTTPException as exc:  # an unknown dossier, or another centre's
        if exc.status_code != 404:
            raise
        return await _render(request, officer, status=404, error=f"Không tìm thấy hồ sơ {code}.", form=form)
    if issued.created:
        request.app.state.wake_workers()
    return RedirectResponse(f"{PAGE}?da={issued.result.code}", 303)


@router.post(f"{PAGE}/mau", response_class=HTMLResponse)
async def issue_from_template(request: Request, officer: Issuing) -> Response:
    """The template form: the officer's text under the centre's NĐ 30/2020 header, signed by the centre."""
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    code = form.get("dossier_code", "").strip()
    try:
        spec = TemplateResult(
            title=form.get("title", "").strip(),
            body=[p.strip() for p in form.get("body", "").split("\n\n") if p.strip()],
            level=form.get("level") or None,  # type: ignore[arg-type]
            number=form.get("number", "").strip() or None,
            symbol=form.get("symbol", "").strip() or None,
            signer_title=_lines(form.get("signer_title", "")),
            signer_name=form.get("signer_name", "").strip() or None,
            recipients=_lines(form.get("recipients", "")),
            validity=form.get("validity", "").strip() or None,
            scope=form.get("scope", "").strip() or None,
        )
    except ValidationError:
        error = "Vui lòng nhập tên kết quả (tối đa 200 ký tự) và kiểm tra độ dài các mục khác."
        return await _render(request, officer, status=422, error=error, form=form)
    services, key = request.app.state.services, f"page:{form.get('form_key', '')}"
    return await _issue_and_show(
        request,
        officer,
        code,
        form,
        lambda issuer: render_and_issue(services, code, spec, None, key, issuer.ids, issuer.actor),
    )


@router.post(f"{PAGE}/tai-len", response_class=HTMLResponse)
async def issue_uploaded(request: Request, officer: Issuing) -> Response:
    """An uploaded result PDF: its pages keep their size; the QR code and the centre's signature go where it
    leaves room (checked as the API checks uploads: size, PDF, no active content)."""
    services = request.app.state.services
    form = await request.form()
    code = str(form.get("dossier_code") or "").strip()
    upload = form.get("pdf")
    limit = services.settings.api.result_max_upload_bytes
    data = await upload.read(limit + 1) if isinstance(upload, StarletteUpload) else b""
    fields = {"dossier_code": code, "upload_title": str(form.get("title") or "")}
    if not data:
        return await _render(request, officer, status=422, error="Vui lòng chọn tệp PDF kết quả.", form=fields)
    if len(data) > limit:
        return await _render(request, officer, status=413, error="Tệp PDF quá lớn.", form=fields)
    level, key = str(form.get("level") or "") or None, f"page:{form.get('form_key') or ''}"
    validity = str(form.get("validity") or "").strip()[:100] or None
    scope = str(form.get("scope") or "").strip()[:300] or None

    def issue(issuer: ResultIssuer) -> Issued:
        officer_id, centre_id = issuer.ids
        return issue_result_once(
            services,
            code,
            data,
            title=fields["upload_title"][:300],
            level=level,
            idempotency_key=key,
            officer_id=officer_id,
            centre_id=centre_id,
            validity=validity,
            scope=scope,
            actor=issuer.actor,
        )

    return await _issue_and_show(request, officer, code, fields, issue)


@router.get(PAGE + "/{code}.pdf")
async def download(request: Request, code: str, officer: Issuing) -> Response:
    """The signed e-result, for an officer of the issuing dossier's centre (the read is audited)."""

    def load() -> tuple[str, str | None, str, str] | None:
        with request.app.state.services.catalogue.reading() as s:
            r = s.scalar(select(EResult).where(EResult.code == code))
            if r is None or r.dossier.centre_id != officer.centre_id or r.state != ComponentState.DONE:
                return None
            assert r.object_key is not None and r.sha256 is not None
            return r.object_key, r.object_version, r.sha256, r.dossier.applicant_id

    found = await run_in_threadpool(load)
    if found is None:
        return officer_page(
            request, "officer_message.html", officer, 404, title="Không tìm thấy", text="Không tìm thấy kết quả đã ký."
        )
    key, version, sha256, owner = found
    data = await run_in_threadpool(
        lambda: request.app.state.warehouse.get_bytes(
            Bucket.RESULTS,
            key,
            actor=officer.actor,
            purpose="tải kết quả điện tử",
            sha256=sha256,
            version_id=version,
            owner=owner,
            centre_id=officer.centre_id,
        )
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{code}.pdf"', "Cache-Control": "private, no-store"},
    )
