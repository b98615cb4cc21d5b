"""Public endpoints: the Vietnamese home page, health probes and the development TSA."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select, text

from storage.catalogue.models import Document, Dossier, EResult

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _counts(request: Request) -> dict[str, int]:
    with request.app.state.services.catalogue.session() as s:
        return {
            "dossiers": s.scalar(select(func.count(Dossier.id))) or 0,
            "documents": s.scalar(select(func.count(Document.id))) or 0,
            "results": s.scalar(select(func.count(EResult.id))) or 0,
        }


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    counts = await run_in_threadpool(_counts, request)
    return templates.TemplateResponse(request, "index.html", {"counts": counts})


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict:
    return {"status": "ok"}


def _ready(request: Request) -> dict[str, str]:
    services = request.app.state.services
    checks: dict[str, str] = {}
    try:
        with services.catalogue.session() as s:
            s.execute(text("SELECT 1"))
        checks["catalogue"] = "ok"
    except Exception as exc:
        checks["catalogue"] = f"error: {type(exc).__name__}"
    try:
        services.store.ping()
        checks["object_store"] = "ok"
    except Exception as exc:
        checks["object_store"] = f"error: {type(exc).__name__}"
    return checks


@router.get("/readyz", summary="Readiness: catalogue and object store reachable")
async def readyz(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(_ready, request)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: step durations and failures of this process, queue depth from the catalogue.

    Served to loopback scrapers, or to others presenting ``api.metrics_token``.
    """
    token = request.app.state.services.settings.api.metrics_token
    local = request.client is not None and request.client.host in ("127.0.0.1", "::1")
    presented = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not local and not (token and hmac.compare_digest(presented, token)):
        raise HTTPException(403)
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

    body = await run_in_threadpool(
        lambda: generate_latest(REGISTRY) + generate_latest(request.app.state.metrics_registry)
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.post("/dev/tsa", include_in_schema=False)
async def dev_tsa(request: Request) -> Response:
    """RFC 3161 time-stamping by the development TSA; absent when real keys are configured."""
    services = request.app.state.services
    if not services.uses_dev_pki:
        raise HTTPException(404)
    if request.headers.get("content-type") != "application/timestamp-query":
        raise HTTPException(415)
    body = await request.body()
    if len(body) > 64 * 1024:
        raise HTTPException(413)
    from signing.tsa_server import DevTsaResponder

    reply = await run_in_threadpool(DevTsaResponder(services.dev_pki).respond, body)
    return Response(reply, media_type="application/timestamp-reply")
