"""Public endpoints: the Vietnamese home page, health probes, metrics, PDF verification, and the development
TSA and revocation responder (CRLs, OCSP) of the development PKI."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import func, select, text

from api.docs import ERRORS, binary_body, error_response
from api.errors import rate_limited
from api.pages import page
from api.uploads import read_body
from api.verification import check_upload, etsi_upload, verify_refusal
from sohoa.diskspace import folder_space
from storage.catalogue.models import Document, Dossier, EResult

if TYPE_CHECKING:
    from signing.dev import DevRevocationResponder

router = APIRouter(tags=["public"])

TSA_MAX_QUERY_BYTES = 64 * 1024
OCSP_MAX_REQUEST_BYTES = 16 * 1024


def _counts(request: Request) -> dict[str, int]:
    with request.app.state.services.catalogue.reading() as s:
        return {
            "dossiers": s.scalar(select(func.count(Dossier.id))) or 0,
            "documents": s.scalar(select(func.count(Document.id))) or 0,
            "results": s.scalar(select(func.count(EResult.id))) or 0,
        }


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    counts = await run_in_threadpool(_counts, request)
    return page(request, "index.html", counts=counts)


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


def _ready(request: Request) -> dict[str, str]:
    services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        with services.catalogue.reading() as s:
            s.execute(text("SELECT 1"))
        checks["catalogue"] = "ok"
    except Exception as exc:
        checks["catalogue"] = f"error: {type(exc).__name__}"
    try:
        services.store.ping()
        checks["object_store"] = "ok"
    except Exception as exc:
        checks["object_store"] = f"error: {type(exc).__name__}"
    workers = services.settings.workers
    if workers.mode == "celery":
        checks["broker"] = _broker(workers.broker_url, services.settings.api.ready_timeout_s)
    checks["disk_space"] = _disk_space(request)
    return checks


def _broker(url: str, timeout: float) -> str:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)  # type: ignore[arg-type]  # kombu: int; any seconds work
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _disk_space(request: Request) -> str:
    """Either ok, or which watched folders are under ``storage.min_free_bytes`` and how much each has left."""
    low = [f for f in folder_space(request.app.state.services.settings) if f.low]
    if not low:
        return "ok"
    mib = 1024 * 1024
    floor = request.app.state.services.settings.storage.min_free_bytes / mib
    return "low: " + ", ".join(f"{f.name} {f.free_bytes / mib:.1f} MiB free (under {floor:.1f} MiB)" for f in low)


@router.get(
    "/readyz",
    summary="Readiness: catalogue, object store and (Celery mode) broker reachable; free disk space",
    description="503 `unavailable` when a dependency is unreachable. Low disk space (a folder under "
    "`storage.min_free_bytes`) answers 200 with status `degraded`: lookups and verification still work, "
    "and writes that meet a full disk answer 503 STORAGE_FULL with Retry-After.",
)
async def readyz(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(_ready, request)
    reachable = all(v == "ok" for k, v in checks.items() if k != "disk_space")
    status = "unavailable" if not reachable else "ok" if checks["disk_space"] == "ok" else "degraded"
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if reachable else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: step durations and failures of this process, queue depth from the catalogue.

    Served only to a bearer of ``api.metrics_token``, whatever the client's address: behind a
    reverse proxy on the same host every request arrives from loopback, so the address proves
    nothing (and a forwarded one is only as good as the proxy's configuration).
    """
    token = request.app.state.services.settings.api.metrics_token
    presented = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not (token and hmac.compare_digest(presented.encode(), token.encode())):
        raise HTTPException(403)
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    body = await run_in_threadpool(
        lambda: generate_latest(REGISTRY) + generate_latest(request.app.state.metrics_registry)
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def _public_upload(request: Request) -> bytes:
    """The body of a public verification request, within the client's quota and the size limit."""
    refused = await run_in_threadpool(verify_refusal, request)
    if refused:
        raise rate_limited(*refused)
    return await read_body(request, request.app.state.services.settings.api.verify_max_upload_bytes)


@router.post(
    "/api/v1/verify",
    summary="Verify the signatures of any PDF; the report's sentences are Vietnamese",
    description="Each client is charged the seconds its checks take (429 RATE_LIMITED with Retry-After once "
    "they are spent). A file that declares far more than any real signed PDF holds is not verified: it is "
    "reported not valid with the problem `pdf_too_costly`.",
    openapi_extra=binary_body("The PDF to verify", "application/pdf"),
    responses={
        413: ERRORS[413],
        429: error_response("Too many checks, or the client's checks used its seconds (RATE_LIMITED); see Retry-After"),
        503: error_response("Every verification process stayed busy (VERIFY_BUSY); try again later"),
    },
)
async def verify_any(request: Request) -> dict[str, Any]:
    view = await check_upload(request, await _public_upload(request))
    return view.data | {"sha256": view.sha256, "verdict": view.verdict, "report_vi": view.signatures}


@router.post(
    "/api/v1/verify/etsi",
    summary="The ETSI TS 119 102-2 validation report (XML) of any PDF's signatures",
    openapi_extra=binary_body("The PDF to verify", "application/pdf"),
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "ETSI TS 119 102-2 ValidationReport"},
        413: ERRORS[413],
        422: error_response(
            "The file is not a readable signed PDF, cannot be validated (PDF_HYBRID_XREF), or declares far more "
            "than any real signed PDF holds (PDF_TOO_COSTLY)"
        ),
        429: error_response("Too many checks, or the client's checks used its seconds (RATE_LIMITED); see Retry-After"),
        503: error_response("Every verification process stayed busy (VERIFY_BUSY); try again later"),
    },
)
async def verify_any_etsi(request: Request) -> Response:
    """Same checks as ``/api/v1/verify`` (offline, the service's trust roots), as the standard XML report."""
    xml = await etsi_upload(request, await _public_upload(request))
    return Response(xml, media_type="application/xml")


@router.post("/dev/tsa", include_in_schema=False)
async def dev_tsa(request: Request) -> Response:
    """RFC 3161 time-stamping by the development TSA; absent when real keys are configured."""
    services = request.app.state.services
    if not services.uses_dev_pki:
        raise HTTPException(404)
    if request.headers.get("content-type") != "application/timestamp-query":
        raise HTTPException(415)
    body = await read_body(request, TSA_MAX_QUERY_BYTES)
    from signing.dev import DevTsaResponder

    reply = await run_in_threadpool(DevTsaResponder(timestamper=services.dev_timestamper).respond, body)
    return Response(reply, media_type="application/timestamp-reply")


def _dev_revocation(request: Request) -> DevRevocationResponder:
    """The development PKI's responder; 404 once production signing is configured (as /dev/tsa)."""
    services = request.app.state.services
    if not services.uses_dev_pki:
        raise HTTPException(404)
    return services.dev_revocation


@router.get("/dev/pki/{name}", include_in_schema=False)
async def dev_pki_crl(request: Request, name: str) -> Response:
    """The development CRLs: ``ca.crl`` (what the issuing CA issued) and ``root.crl`` (the issuing CA)."""
    from signing.dev import CRL_NAMES, CRL_TYPE

    responder = _dev_revocation(request)
    if name not in CRL_NAMES:
        raise HTTPException(404)
    crl = await run_in_threadpool(responder.crl, name)
    return Response(crl, media_type=CRL_TYPE)


@router.post("/dev/pki/ocsp", include_in_schema=False)
async def dev_pki_ocsp(request: Request) -> Response:
    """OCSP (RFC 6960) for the development PKI, signed by the certificate's issuer, nonce echoed."""
    from signing.dev import OCSP_REQUEST_TYPE, OCSP_RESPONSE_TYPE

    responder = _dev_revocation(request)
    if request.headers.get("content-type") != OCSP_REQUEST_TYPE:
        raise HTTPException(415)
    body = await read_body(request, OCSP_MAX_REQUEST_BYTES)
    reply = await run_in_threadpool(responder.ocsp, body)
    return Response(reply, media_type=OCSP_RESPONSE_TYPE)


@router.get("/dev/pki/ocsp/{encoded:path}", include_in_schema=False)
async def dev_pki_ocsp_get(request: Request, encoded: str) -> Response:
    """OCSP by GET (RFC 6960 Appendix A.1): the request in base64 as the last path segment."""
    from signing.dev import OCSP_RESPONSE_TYPE

    responder = _dev_revocation(request)
    if len(encoded) > OCSP_MAX_REQUEST_BYTES * 2:
        raise HTTPException(414)
    reply = await run_in_threadpool(responder.ocsp_get, encoded)
    return Response(reply, media_type=OCSP_RESPONSE_TYPE)
