"""The FastAPI application: APIs for stations, officers and agencies, the citizen portal, embedded workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import (
    officer_oidc,
    routes_admin_pages,
    routes_agencies,
    routes_agency_admin,
    routes_agency_pages,
    routes_audit,
    routes_audit_pages,
    routes_batches,
    routes_centre_officers,
    routes_centres,
    routes_completion,
    routes_docs,
    routes_dossier_pages,
    routes_notices,
    routes_officer_auth,
    routes_officer_pages,
    routes_officer_results,
    routes_portal,
    routes_public,
    routes_results,
    routes_search,
    routes_stats,
    routes_workspace,
)
from api.errors import disk_full_handler, page_or_json_error, sohoa_error_handler
from api.http_metrics import ApiMetrics, MetricsMiddleware
from api.lookup_guard import LookupPolicy, make_lookup_guard
from api.ratelimit import make_limits
from api.security_headers import SecurityHeadersMiddleware
from api.slow_clients import BodyTimeoutMiddleware
from api.verification import Verifier
from api.verify_admission import make_admission
from dossiers.bootstrap import prepare
from dossiers.errors import SigningConfigError
from dossiers.services import Services
from signing.validation import VerifySandbox
from sohoa import __version__
from sohoa.errors import SohoaError
from sohoa.settings import Settings, get_settings
from storage.accounts.signin import Accounts, Policy
from storage.accounts.totp import TotpBox
from storage.objectstore.links import load_or_create_secret
from workers.job_metrics import register_disk_space, register_queue_depth

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"  # the pages' CSS and scripts, served locally (no CDN)

DESCRIPTION = """Số hóa hồ sơ và kết quả điện tử.

* **Stations** push batches (zip + manifest, or multipart) with an idempotency key and follow progress.
* **Officers** issue e-results (`<mã hồ sơ>-KQ<n>`) from an uploaded PDF or the centre's template.
* **Agencies** fetch a citizen's documents under their grants, for a stated purpose.
* **Citizens** use the Vietnamese portal at `/tra-cuu` and `/kiem-tra` (not part of this API).

Authentication: `Authorization: Bearer <API key>` (keys are stored hashed and can be revoked).
"""


def _state(app: FastAPI, settings: Settings, services: Services) -> None:
    api = settings.api
    app.state.services = services
    app.state.metrics_registry = CollectorRegistry()
    app.state.api_metrics = ApiMetrics(app.state.metrics_registry)
    app.state.limits = make_limits(
        station_per_minute=api.station_batches_per_minute,
        station_burst=api.station_burst,
        window_s=api.lookup_window_s,
        per_ip=api.lookup_max_failures_per_ip,
        per_code=api.lookup_max_failures_per_code,
        verify_per_minute=api.verify_per_minute_per_ip,
        verify_burst=api.verify_burst_per_ip,
        redis_url=api.rate_limit_redis_url,
        redis_prefix=api.rate_limit_prefix,
    )
    app.state.lookup_guard = make_lookup_guard(
        LookupPolicy.from_settings(api), api.rate_limit_redis_url, api.rate_limit_prefix
    )
    app.state.receipt_threads = anyio.CapacityLimiter(api.receipt_threads)
    sandbox = VerifySandbox(
        processes=api.verify_processes, timeout_s=api.verify_timeout_s, memory_mb=api.verify_memory_mb
    )
    app.state.verifier = Verifier(lambda: services.trust_roots, sandbox)
    app.state.verify_threads = anyio.CapacityLimiter(2 * api.verify_processes)
    app.state.verify_admission = make_admission(
        processes=api.verify_processes,
        reserved=api.verify_reserved_processes,
        seconds_per_minute=api.verify_seconds_per_minute,
        seconds_burst=api.verify_seconds_burst,
        wait_s=api.verify_timeout_s,
        redis_url=api.rate_limit_redis_url,
        redis_prefix=api.rate_limit_prefix,
    )
    app.state.warehouse = services.warehouse
    app.state.portal_secret = b""
    app.state.wake_workers = lambda: None
    register_queue_depth(services.catalogue, app.state.metrics_registry)
    register_disk_space(settings, app.state.metrics_registry)


def create_app(settings: Settings | None = None, *, start_workers: bool = True, ingest_sample: bool = False) -> FastAPI:
    settings = settings or get_settings()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Fail before anything starts: the embedded pool signs here, and the sample needs development keys.
        if start_workers and settings.workers.mode == "embedded":
            services.require_signing_keys()
        if ingest_sample and not services.uses_dev_pki:
            raise SigningConfigError("--sample ingests as the development station: not with production signing")
        await run_in_threadpool(prepare, services)
        app.state.portal_secret = load_or_create_secret(settings.portal_secret_file)
        app.state.accounts = Accounts(
            services.catalogue,
            TotpBox.from_file(settings.totp_key_file),
            Policy.from_settings(settings.officer_auth),
        )
        pool = dispatcher = maintenance = None
        if start_workers and settings.workers.mode == "embedded":
            from workers.embedded import EmbeddedPool

            pool = EmbeddedPool(services)
            pool.start()
            app.state.wake_workers = pool.wake
        elif start_workers:
            from workers.dispatcher import Dispatcher

            dispatcher = Dispatcher(services)
            dispatcher.start()
        if start_workers:
            from workers.maintenance import Maintenance

            maintenance = Maintenance(services)
            maintenance.start()
        if ingest_sample:
            from dossiers.sample import ingest_sample_batch

            await run_in_threadpool(ingest_sample_batch, services)
            app.state.wake_workers()
        try:
            yield
        finally:
            if pool:
                pool.stop()
            if dispatcher:
                dispatcher.stop()
            if maintenance:
                maintenance.stop()
            app.state.verifier.close()
            services.close()

    app = FastAPI(
        title="sohoa", version=__version__, description=DESCRIPTION, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    _state(app, settings, services)
    app.add_middleware(MetricsMiddleware, metrics=app.state.api_metrics)
    app.add_middleware(BodyTimeoutMiddleware, timeout_s=settings.api.body_timeout_s)  # a stalled upload: 408
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: error pages and 404s get the headers too
    app.add_exception_handler(SohoaError, sohoa_error_handler)
    for raw in (OSError, DBAPIError):  # a full disk met anywhere: 503 STORAGE_FULL
        app.add_exception_handler(raw, disk_full_handler)
    app.add_exception_handler(StarletteHTTPException, page_or_json_error)
    routers = (
        routes_public,
        routes_batches,
        routes_completion,
        routes_results,
        routes_notices,
        routes_agencies,
        routes_portal,
    )
    # The officers: sign-in (local accounts, OpenID Connect), then the workspace's API and pages.
    officers = (
        routes_officer_auth,
        officer_oidc,
        routes_centres,
        routes_centre_officers,
        routes_workspace,
        routes_officer_pages,
        routes_officer_results,
        routes_admin_pages,
        routes_agency_admin,
        routes_agency_pages,
        routes_audit,
        routes_audit_pages,
        routes_dossier_pages,
        routes_search,
        routes_stats,
    )
    for module in (*routers, *officers, routes_docs):
        app.include_router(module.router)
    app.mount("/static/swagger-ui", StaticFiles(directory=routes_docs.SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
