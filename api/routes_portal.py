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
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from api import csrf, proof_of_work
from api.citizen import GRANT_COOKIE, Applicant, client_of, grant_allows, make_grant, normalise_code, passes
from api.errors import ResultCodeInvalid, retry_seconds
from api.lookup_guard import Alert, LookupGuard
from api.lookup_state import Attempt
from api.pages import page, vn_time
from api.ratelimit import Window
from api.trusted_devices import DEVICE_COOKIE, remember_device, trusted_device
from api.uploads import parse_multipart
from api.verification import ReportView, check_upload, etsi_upload, verify_refusal
from dossiers.audit_trail import CitizenRead, citizen_trail
from dossiers.results import earlier_versions
from dossiers.workspace import effective_centre_id
from signing.errors import VerifyBusy
from sohoa.errors import SohoaError
from storage.catalogue.models import ComponentState, EResult
from storage.objectstore import Bucket
from storage.warehouse import audit

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
FAILED = "Thông tin tra cứu không khớp với kết quả nào. Kiểm tra lại mã kết quả, 6 số cuối số định danh và ngày sinh."
LIMITED = "Bạn đã nhập sai nhiều lần. Vui lòng thử lại sau {wait}."
PROOF_NEEDED = (
    "Mã kết quả này đang bị nhiều nơi dò thử. Để bảo vệ người nộp hồ sơ, trình duyệt cần tự giải một phép tính "
    "ngắn (vài giây) trước mỗi lần tra cứu: hãy bật JavaScript rồi nhập lại thông tin và bấm Tra cứu, "
    "hoặc tra cứu trên thiết bị đã từng tra cứu thành công kết quả này."
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
    centre_id: int | None = None

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
            r.centre_id if r.centre_id is not None else effective_centre_id(s, d),
        )


def _code(text: str) -> str:
    """``normalise_code``, a code with control characters answered 422 (a Vietnamese page for a browser)."""
    try:
        return normalise_code(text)
    except ResultCodeInvalid as exc:
        log.warning("portal request with an invalid result code refused: %s", exc.detail)
        raise HTTPException(422, detail={"code": exc.code, "message": exc.message_vi}) from None


@router.get("/tra-cuu", response_class=HTMLResponse)
async def lookup_form(request: Request, ma: str = "") -> HTMLResponse:
    return page(request, "lookup.html", code=_code(ma))


def vn_wait(seconds: float) -> str:
    """A wait in Vietnamese words, rounded up: ``45 giây``, ``3 phút``, ``2 giờ``."""
    if seconds < 60:
        return f"{retry_seconds(seconds)} giây"
    if seconds < 3600:
        return f"{retry_seconds(seconds / 60)} phút"
    return f"{retry_seconds(seconds / 3600)} giờ"


def _refuse_limited(request: Request, code: str, client: str, wait: float, why: str) -> HTMLResponse:
    request.app.state.api_metrics.lookups.labels("limited").inc()
    log.warning("citizen lookup refused, %s: result=%s client=%s retry_after=%.0fs", why, code, client, wait)
    response = page(request, "lookup.html", 429, code=code, error=LIMITED.format(wait=vn_wait(wait)))
    response.headers["Retry-After"] = str(retry_seconds(wait))
    return response


def _refuse_unproven(request: Request, code: str, client: str, why: str) -> HTMLResponse:
    """A guess at a result under attack came without a valid proof of work: the page asks for one."""
    request.app.state.api_metrics.lookups.labels("proof_required").inc()
    log.info("citizen lookup needs a proof of work (%s): result=%s client=%s", why, code, client)
    response = page(request, "lookup.html", 429, code=code, error=PROOF_NEEDED)
    response.headers["Retry-After"] = "1"
    return response


def _refuse_forged(request: Request, template: str, code: str, why: str) -> HTMLResponse:
    request.app.state.api_metrics.forged_posts.labels(request.url.path).inc()
    log.warning("portal form post refused as cross-site (%s): path=%s", why, request.url.path)
    return page(request, template, 403, code=code, error=csrf.REFUSED)


@router.get("/tra-cuu/thu-thach")
async def lookup_challenge(request: Request, ma: str = "") -> JSONResponse:
    """The proof of work the next guess at a result needs from this browser (``required: false``: none).

    The lookup page's script asks before it posts the form; ``challenge`` is solved in the browser
    and sent with the guess (``api.proof_of_work``).
    """
    state = request.app.state
    code = _code(ma)
    client = client_of(request)
    guard: LookupGuard = state.lookup_guard
    trusted = trusted_device(state.portal_secret, request.cookies.get(DEVICE_COOKIE), code) is not None
    bits = 0 if trusted or not code else await run_in_threadpool(guard.required_bits, code)
    body: dict[str, object] = {"required": bits > 0, "bits": bits, "challenge": None}
    if bits:
        failures = await run_in_threadpool(guard.failures_of, client, code)
        ttl_s = guard.policy.pow_ttl_s
        body["challenge"] = proof_of_work.issue(state.portal_secret, code, client, failures, bits, ttl_s)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


Slots = list[tuple[Window, str, str]]


def _forgive(slots: Slots) -> None:
    """Take counted attempts back: a lookup that passed, or one refused before anything was checked."""
    for window, key, slot in slots:
        window.forgive(key, slot)


def _take(window: Window, key: str) -> tuple[float, Slots]:
    wait, slot = window.attempt(key)
    return (wait, []) if slot is None else (0.0, [(window, key, slot)])


@dataclass(frozen=True)
class _Refusal:
    why: str
    wait: float = 0.0
    unproven: bool = False  # a proof of work is missing, too easy or spent (else: a wait)


def _admit(
    state: Any, client: str, code: str, device: str | None, pow_challenge: str, pow_nonce: str
) -> tuple[Slots, Attempt | None] | _Refusal:
    """Count a lookup before anything is checked, in one trip to the limiters (blocking: Redis).

    A trusted device counts against its own window. Any other browser must bring the proof of
    work a result under attack asks for, then counts against its client's window (all results)
    and the lookup guard (this result: backoff).
    """
    if device:
        wait, slots = _take(state.limits.lookup_device, device)
        return _Refusal("trusted device rate-limited", wait) if wait else (slots, None)
    guard: LookupGuard = state.lookup_guard
    bits = guard.required_bits(code)
    proof = None
    if bits:
        proof = proof_of_work.check(state.portal_secret, pow_challenge, pow_nonce, code, client)
        if proof is None or proof.bits < bits - 1:  # one bit of slack: the bar may rise while a browser solves
            return _Refusal("missing" if proof is None else "too easy", unproven=True)
    wait, slots = _take(state.limits.lookup_ip, client)
    if wait:
        return _Refusal("client rate-limited", wait)
    attempt = guard.attempt(client, code, under_attack=bits > 0, expect=proof.failures if proof else None)
    if not attempt.allowed:
        _forgive(slots)
        if attempt.stale:
            return _Refusal("spent", unproven=True)
        return _Refusal("client backing off at this result", attempt.wait)
    return slots, attempt


def _passed(guard: LookupGuard, slots: Slots, client: str, code: str, guarded: bool) -> None:
    """A lookup passed: its window counts taken back, and (not for a trusted device) the guard told."""
    _forgive(slots)
    if guarded:
        guard.passed(client, code)


def _audit_failure(request: Request, code: str, client: str) -> None:
    audit.record(
        request.app.state.services.catalogue,
        actor="citizen",
        action="lookup",
        subject=f"result:{code}",
        outcome="refused",
        detail={"client": client},
    )


def _raise_alert(request: Request, alert: Alert) -> None:
    """A result came under attack, or its attack grew: audit entry, warning, metric."""
    request.app.state.api_metrics.lookup_attack_alerts.inc()
    log.warning(
        "citizen lookup under attack: result=%s failures=%d clients=%d proof_of_work_bits=%d",
        alert.code,
        alert.failures,
        alert.clients,
        alert.bits,
    )
    audit.record(
        request.app.state.services.catalogue,
        actor="system",
        action="lookup-attack",
        subject=f"result:{alert.code}",
        outcome="alert",
        detail={"failures": alert.failures, "clients": alert.clients, "bits": alert.bits},
    )


def _failed(request: Request, code: str, client: str, attempt: Attempt | None) -> None:
    """Record a failed guess: audit, and the result's attack meter (not for a trusted device's own guesses)."""
    _audit_failure(request, code, client)
    if attempt is not None:
        alert = request.app.state.lookup_guard.failed(code, attempt)
        if alert is not None:
            _raise_alert(request, alert)


LOOKUP_MAX_BODY = 8 * 1024  # a few short fields: a larger form is refused before it is parsed


@router.post("/tra-cuu", response_class=HTMLResponse, max_body_size=LOOKUP_MAX_BODY)
async def lookup(
    request: Request,
    ma_ket_qua: Annotated[str, Form(max_length=120)] = "",
    so_dinh_danh: Annotated[str, Form(max_length=40)] = "",
    ngay_sinh: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form(alias=csrf.FIELD, max_length=64)] = "",
    pow_challenge: Annotated[str, Form(max_length=200)] = "",
    pow_nonce: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    """Check the applicant; on success grant the download and go to the result page.

    In order: a forged cross-site post is refused before anything is counted; a trusted device
    counts against its own window; any other browser against its client's window (all results)
    and the lookup guard (this result: backoff, and under attack a proof of work per guess).
    """
    state = request.app.state
    code = _code(ma_ket_qua)
    if forged := csrf.refusal(request, csrf_token):
        return _refuse_forged(request, "lookup.html", code, forged)
    client = client_of(request)
    guard: LookupGuard = state.lookup_guard
    devices = request.cookies.get(DEVICE_COOKIE)
    device = trusted_device(state.portal_secret, devices, code)
    admitted = await run_in_threadpool(_admit, state, client, code, device, pow_challenge, pow_nonce)
    if isinstance(admitted, _Refusal):
        if admitted.unproven:
            return _refuse_unproven(request, code, client, admitted.why)
        return _refuse_limited(request, code, client, admitted.wait, admitted.why)
    slots, attempt = admitted
    facts = await run_in_threadpool(_facts, request, code)
    if not passes(facts.applicant if facts else None, so_dinh_danh, ngay_sinh):
        await run_in_threadpool(_failed, request, code, client, attempt)
        state.api_metrics.lookups.labels("failed").inc()
        log.warning("citizen lookup failed: result=%s client=%s", code, client)
        return page(request, "lookup.html", 403, code=code, error=FAILED)
    await run_in_threadpool(_passed, guard, slots, client, code, attempt is not None)
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
        owner=facts.applicant.id_number,
        centre_id=facts.centre_id,
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
    code = _code(code)
    client = client_of(request)
    slots: Slots = []
    if trusted_device(state.portal_secret, request.cookies.get(DEVICE_COOKIE), code) is None:
        wait, slots = await run_in_threadpool(_take, state.limits.lookup_ip, client)
        if wait:
            return _refuse_limited(request, code, client, wait, "client rate-limited")
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
        owner=facts.applicant.id_number,
        centre_id=facts.centre_id,
    )


@router.get("/tra-cuu/ket-qua/{code}/tai-ve")
async def download(request: Request, code: str) -> Response:
    state = request.app.state
    code = _code(code)
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
NO_GRANT_TRAIL = (
    "Để xem ai đã đọc giấy tờ của bạn, vui lòng nhập 6 số cuối số định danh cá nhân và ngày sinh của người nộp "
    "hồ sơ trên trang kết quả."
)


def _reads(request: Request, facts: ResultFacts, page_no: int) -> tuple[list[CitizenRead], bool]:
    return citizen_trail(
        request.app.state.services.catalogue, facts.applicant.id_number, page=page_no, audited_as="citizen"
    )


async def _granted_reads(
    request: Request, code: str, page_no: int
) -> tuple[ResultFacts, list[CitizenRead], bool] | Response:
    """The applicant's trail (agency or centre, purpose, time; never an officer), for the grant's holder only."""
    state = request.app.state
    if not grant_allows(state.portal_secret, request.cookies.get(GRANT_COOKIE), code):
        log.warning("citizen trail without a grant: result=%s client=%s", code, client_of(request))
        return page(request, "message.html", 403, title="Chưa xác minh người nộp hồ sơ", text=NO_GRANT_TRAIL, code=code)
    facts = await run_in_threadpool(_facts, request, code)
    if facts is None:
        return page(request, "message.html", 404, title="Không tìm thấy kết quả", text=NOT_FOUND)
    reads, more = await run_in_threadpool(_reads, request, facts, page_no)
    return facts, reads, more


@router.get("/tra-cuu/nhat-ky/{code}", response_class=HTMLResponse)
async def trail_page(request: Request, code: str, trang: int = 1) -> Response:
    """Who read the applicant's documents: agency or centre, purpose, time (the applicant's check passed)."""
    code, page_no = _code(code), min(max(trang, 1), 10_000)
    found = await _granted_reads(request, code, page_no)
    if isinstance(found, Response):
        return found
    facts, reads, more = found
    return page(request, "citizen_trail.html", facts=facts, reads=reads, more=more, page_no=page_no)


@router.get("/tra-cuu/nhat-ky/{code}/json")
async def trail_json(request: Request, code: str, trang: int = 1) -> Response:
    """The same as JSON (for the portal's own scripts and apps): ``{"code", "page", "has_more", "reads"}``."""
    code, page_no = _code(code), min(max(trang, 1), 10_000)
    found = await _granted_reads(request, code, page_no)
    if isinstance(found, Response):
        status = found.status_code
        message = NO_GRANT_TRAIL if status == 403 else NOT_FOUND
        return JSONResponse(
            {"detail": {"code": "NO_GRANT" if status == 403 else "NOT_FOUND", "message": message}}, status
        )
    facts, reads, more = found
    body = {"code": facts.code, "page": page_no, "has_more": more, "reads": [r.to_dict() for r in reads]}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/tram-quet", response_class=HTMLResponse)
async def station_console(request: Request) -> HTMLResponse:
    """A minimal console for stations without their own client: push a zip, watch its progress."""
    return page(request, "station.html")


@router.get("/kiem-tra", response_class=HTMLResponse)
async def verify_form(request: Request, ma: str = "") -> HTMLResponse:
    return page(request, "verify.html", code=_code(ma))


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
    if forged := csrf.cross_site(request):  # before the client's quota is spent on a forged post
        return _refuse_forged(request, "verify.html", "", forged)
    refused = await run_in_threadpool(verify_refusal, request)
    if refused:
        wait, sentence = refused
        response = page(request, "verify.html", 429, error=sentence)
        response.headers["Retry-After"] = str(retry_seconds(wait))
        return response
    limit = request.app.state.services.settings.api.verify_max_upload_bytes
    form = await parse_multipart(request, limit, max_files=1, max_fields=4)
    try:
        upload = form.get("tep")
        code = _code(str(form.get("ma_ket_qua") or ""))
        if forged := csrf.refusal(request, str(form.get(csrf.FIELD) or "")):
            return _refuse_forged(request, "verify.html", code, forged)
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
