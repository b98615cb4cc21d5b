"""Citizen portal (Vietnamese pages): look up an e-result, download it, verify any PDF.

``/tra-cuu/ket-qua/{code}`` is also where the QR code on each result points: without the
applicant's check it shows only what anyone holding the paper may see (who signed, when,
whether the stored file verifies, its SHA-256); with it, the title and the download.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from api.citizen import GRANT_COOKIE, Applicant, client_of, grant_allows, make_grant, normalise_code, passes
from api.errors import retry_seconds
from api.pages import page, vn_time
from api.ratelimit import Limits, Window
from api.trusted_devices import DEVICE_COOKIE, remember_device, trusted_device
from api.uploads import parse_multipart
from api.verification import VERIFY_LIMITED, ReportView, check_upload, etsi_upload, verify_quota_wait
from signing.errors import VerifyBusy
from sohoa.errors import SohoaError
from storage.catalogue.models import ComponentState, EResult
from storage.objectstore import Bucket
from storage.warehouse import audit
from workers.maintenance import earlier_versions

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
FAILED = "Thông tin tra cứu không khớp với kết quả nào. Kiểm tra lại mã kết quả, 6 số cuối số định danh và ngày sinh."
LIMITED = "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."
CODE_LOCKED = (
    "Kết quả này đang tạm khóa tra cứu vì có quá nhiều lần nhập sai thông tin. Vui lòng thử lại sau {minutes} phút "
    "trên thiết bị đã từng tra cứu thành công, hoặc liên hệ bộ phận một cửa nơi nộp hồ sơ."
)


@dataclass(frozen=True)
class ResultFacts:
    id: int
    code: str
    title: str
    dossier_code: str
    state: str
    level: str
    signed_by: str | None
    signed_at: datetime | None
    sha256: str | None
    object_key: str | None
    object_version: str | None
    applicant: Applicant

    @property
    def signed(self) -> bool:
        return self.state == ComponentState.DONE and self.object_key is not None


def _facts(request: Request, code: str) -> ResultFacts | None:
    with request.app.state.services.catalogue.reading() as s:
        r = s.scalar(select(EResult).where(EResult.code == code))
        if r is None:
            return None
        d = r.dossier
        return ResultFacts(
            r.id,
            r.code,
            r.title,
            d.code,
            r.state,
            r.level,
            r.signed_by,
            r.signed_at,
            r.sha256,
            r.object_key,
            r.object_version,
            Applicant(d.applicant_id, d.applicant_birth_date),
        )


@router.get("/tra-cuu", response_class=HTMLResponse)
async def lookup_form(request: Request, ma: str = "") -> HTMLResponse:
    return page(request, "lookup.html", code=normalise_code(ma))


def _refuse_limited(
    request: Request, code: str, client: str, wait: float, *, code_locked: bool = False
) -> HTMLResponse:
    request.app.state.api_metrics.lookups.labels("locked" if code_locked else "limited").inc()
    log.warning(
        "citizen lookup refused, %s: result=%s client=%s retry_after=%.0fs",
        "result locked by failures from all clients" if code_locked else "client rate-limited",
        code,
        client,
        wait,
    )
    minutes = max(1, round(wait / 60))
    error = (CODE_LOCKED if code_locked else LIMITED).format(minutes=minutes)
    response = page(request, "lookup.html", 429, code=code, error=error)
    response.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    return response


Slots = list[tuple[Window, str, str]]


def _forgive(slots: Slots) -> None:
    """Take counted attempts back: a lookup that passed, or one refused before anything was checked."""
    for window, key, slot in slots:
        window.forgive(key, slot)


def _attempt(limits: Limits, client: str, code: str, device: str | None) -> tuple[float, Window | None, Slots]:
    """Count a lookup: against a trusted device's own window, else the client's and the result's.

    Returns the wait and the window that was full (nothing counted then), or 0, None and the slots taken.
    """
    windows = [(limits.lookup_device, device)] if device else [(limits.lookup_ip, client), (limits.lookup_code, code)]
    taken: Slots = []
    for window, key in windows:
        wait, slot = window.attempt(key)
        if slot is None:
            _forgive(taken)
            return wait, window, []
        taken.append((window, key, slot))
    return 0.0, None, taken


def _audit_failure(request: Request, code: str, client: str) -> None:
    audit.record(
        request.app.state.services.catalogue,
        actor="citizen",
        action="lookup",
        subject=f"result:{code}",
        outcome="refused",
        detail={"client": client},
    )


LOOKUP_MAX_BODY = 8 * 1024  # three short fields: a larger form is refused before it is parsed


@router.post("/tra-cuu", response_class=HTMLResponse, max_body_size=LOOKUP_MAX_BODY)
async def lookup(
    request: Request,
    ma_ket_qua: Annotated[str, Form(max_length=120)] = "",
    so_dinh_danh: Annotated[str, Form(max_length=40)] = "",
    ngay_sinh: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Check the applicant; on success grant the download and go to the result page."""
    state = request.app.state
    code = normalise_code(ma_ket_qua)
    client = client_of(request)
    devices = request.cookies.get(DEVICE_COOKIE)
    device = trusted_device(state.portal_secret, devices, code)
    wait, full, slots = await run_in_threadpool(_attempt, state.limits, client, code, device)
    if full is not None:
        return _refuse_limited(request, code, client, wait, code_locked=full is state.limits.lookup_code)
    facts = await run_in_threadpool(_facts, request, code)
    if not passes(facts.applicant if facts else None, so_dinh_danh, ngay_sinh):
        await run_in_threadpool(_audit_failure, request, code, client)
        state.api_metrics.lookups.labels("failed").inc()
        log.warning("citizen lookup failed: result=%s client=%s", code, client)
        return page(request, "lookup.html", 403, code=code, error=FAILED)
    await run_in_threadpool(_forgive, slots)
    state.api_metrics.lookups.labels("ok").inc()
    log.info("citizen lookup passed: result=%s trusted_device=%s", code, device is not None)
    settings = state.services.settings.api
    device_ttl_s = settings.portal_device_ttl_days * 86400
    response = RedirectResponse(f"/tra-cuu/ket-qua/{code}", status_code=303)
    for name, value, ttl_s in (
        (GRANT_COOKIE, make_grant(state.portal_secret, code, settings.portal_grant_ttl_s), settings.portal_grant_ttl_s),
        (DEVICE_COOKIE, remember_device(state.portal_secret, devices, code, device_ttl_s), device_ttl_s),
    ):
        response.set_cookie(
            name,
            value,
            max_age=ttl_s,
            path="/tra-cuu",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def _report_of(request: Request, facts: ResultFacts, client: str) -> ReportView:
    """The result's verification report; its bytes, when read for it, are read (and audited) for the public page."""
    verifier = request.app.state.verifier
    if facts.sha256 and (hit := verifier.cached(facts.sha256)) is not None:
        return hit
    data = request.app.state.warehouse.get_bytes(
        Bucket.RESULTS,
        facts.object_key,
        actor=f"public:{client}",
        purpose=f"xác minh kết quả {facts.code}",
        sha256=facts.sha256,
        version_id=facts.object_version,
    )
    return verifier.verify(data, cache=True)


def _signed_facts(request: Request, code: str, slots: Slots) -> ResultFacts | None:
    """A signed result's facts, its page view taken back from the client's window; None (still counted) else."""
    facts = _facts(request, code)
    if facts is None or not facts.signed:
        return None
    _forgive(slots)
    return facts


@router.get("/tra-cuu/ket-qua/{code}", response_class=HTMLResponse)
async def resultpage(request: Request, code: str) -> HTMLResponse:
    """The QR target: public verification facts; the full view once the applicant's check passed."""
    state = request.app.state
    code = normalise_code(code)
    client = client_of(request)
    slots: Slots = []
    if trusted_device(state.portal_secret, request.cookies.get(DEVICE_COOKIE), code) is None:
        wait, slot = await run_in_threadpool(state.limits.lookup_ip.attempt, client)
        if slot is None:
            return _refuse_limited(request, code, client, wait)
        slots = [(state.limits.lookup_ip, client, slot)]
    facts = await run_in_threadpool(_signed_facts, request, code, slots)
    if facts is None:  # guessing codes: counted against the client
        log.info("result page for unknown or unsigned result=%s client=%s", code, client)
        return page(request, "message.html", 404, title="Không tìm thấy kết quả", text=NOT_FOUND)
    granted = grant_allows(state.portal_secret, request.cookies.get(GRANT_COOKIE), code)
    report = await run_in_threadpool(_report_of, request, facts, client)
    return page(request, "result.html", facts=facts, granted=granted, report=report)


NOT_FOUND = (
    "Không có kết quả điện tử đã ký nào mang mã này. Kiểm tra lại mã trên giấy tờ; "
    "nếu kết quả vừa được cấp, vui lòng thử lại sau ít phút."
)


def _download(request: Request, facts: ResultFacts) -> bytes:
    return request.app.state.warehouse.get_bytes(
        Bucket.RESULTS,
        facts.object_key,
        actor="citizen",
        purpose=f"tra cứu kết quả {facts.code}",
        sha256=facts.sha256,
        version_id=facts.object_version,
    )


@router.get("/tra-cuu/ket-qua/{code}/tai-ve")
async def download(request: Request, code: str) -> Response:
    state = request.app.state
    code = normalise_code(code)
    if not grant_allows(state.portal_secret, request.cookies.get(GRANT_COOKIE), code):
        log.warning("citizen download without a grant: result=%s client=%s", code, client_of(request))
        return page(request, "message.html", 403, title="Chưa xác minh người nộp hồ sơ", text=NO_GRANT, code=code)
    facts = await run_in_threadpool(_facts, request, code)
    if facts is None or not facts.signed:
        return page(request, "message.html", 404, title="Không tìm thấy kết quả", text=NOT_FOUND)
    data = await run_in_threadpool(_download, request, facts)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{code}.pdf"', "Cache-Control": "no-store"},
    )


NO_GRANT = "Để tải kết quả, vui lòng nhập 6 số cuối số định danh cá nhân và ngày sinh của người nộp hồ sơ."


@router.get("/tram-quet", response_class=HTMLResponse)
async def station_console(request: Request) -> HTMLResponse:
    """A minimal console for stations without their own client: push a zip, watch its progress."""
    return page(request, "station.html")


@router.get("/kiem-tra", response_class=HTMLResponse)
async def verify_form(request: Request, ma: str = "") -> HTMLResponse:
    return page(request, "verify.html", code=normalise_code(ma))


def _matches(request: Request, code: str, sha256: str) -> bool | None:
    if not code:
        return None
    facts = _facts(request, code)
    if facts is None or not facts.signed:
        return False
    if sha256 == facts.sha256:
        return True
    with request.app.state.services.catalogue.reading() as s:  # a copy issued before a re-time-stamping
        return sha256 in earlier_versions(s, facts.id)


def _busy_page(request: Request, code: str) -> HTMLResponse:
    response = page(request, "verify.html", 503, code=code, error=VerifyBusy.message_vi)
    response.headers["Retry-After"] = "60"
    return response


async def _etsi_download(request: Request, data: bytes, name: str, code: str) -> Response:
    """The ETSI TS 119 102-2 XML report as a download; a Vietnamese page when it cannot be made."""
    try:
        xml = await etsi_upload(request, data)
    except VerifyBusy:
        return _busy_page(request, code)
    except SohoaError as exc:
        return page(request, "verify.html", 422, code=code, error=exc.message_vi)
    stem = Path(name).stem.encode("ascii", "ignore").decode() or "tai-lieu"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem)[:80]
    disposition = f'attachment; filename="{safe}-etsi-119102-2.xml"'
    return Response(xml, media_type="application/xml", headers={"Content-Disposition": disposition})


@router.post("/kiem-tra", response_class=HTMLResponse)
async def verify_upload(request: Request) -> Response:
    """Verify any uploaded PDF (streamed, size-limited, rate-limited per client) and show the report."""
    wait = await run_in_threadpool(verify_quota_wait, request)
    if wait > 0:
        seconds = retry_seconds(wait)
        response = page(request, "verify.html", 429, error=VERIFY_LIMITED.format(seconds=seconds))
        response.headers["Retry-After"] = str(seconds)
        return response
    limit = request.app.state.services.settings.api.verify_max_upload_bytes
    form = await parse_multipart(request, limit, max_files=1, max_fields=4)
    try:
        upload = form.get("tep")
        code = normalise_code(str(form.get("ma_ket_qua") or ""))
        wants_etsi = form.get("dang") == "etsi"
        if not isinstance(upload, UploadFile) or not upload.filename:
            return page(request, "verify.html", 422, code=code, error="Vui lòng chọn tệp PDF cần kiểm tra.")
        data = await upload.read()
        name = Path(upload.filename).name[:120]
    finally:
        await form.close()
    if wants_etsi:
        return await _etsi_download(request, data, name, code)
    try:
        report = await check_upload(request, data)
    except VerifyBusy:
        return _busy_page(request, code)
    match = await run_in_threadpool(_matches, request, code, report.sha256)
    checked_at = vn_time(datetime.now().astimezone())
    return page(request, "verify.html", code=code, report=report, filename=name, match=match, checked_at=checked_at)
