"""The FastAPI application: API for stations and officers, public pages, embedded workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CollectorRegistry

from api import routes_batches, routes_public, routes_results
from api.errors import sohoa_error_handler
from sohoa import __version__
from sohoa.bootstrap import prepare
from sohoa.errors import SohoaError
from sohoa.settings import Settings, get_settings
from workers.metrics import register_queue_depth
from workers.services import Services

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, start_workers: bool = True, ingest_sample: bool = False) -> FastAPI:
    settings = settings or get_settings()
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare(services)
        pool = dispatcher = None
        if start_workers and settings.workers.mode == "embedded":
            from workers.embedded import EmbeddedPool

            pool = EmbeddedPool(services)
            pool.start()
            app.state.wake_workers = pool.wake
        elif start_workers:
            from workers.dispatcher import Dispatcher

            dispatcher = Dispatcher(services)
            dispatcher.start()
        if ingest_sample:
            from sohoa.demo import ingest_sample_batch

            await run_in_threadpool(ingest_sample_batch, services)
            app.state.wake_workers()
        try:
            yield
        finally:
            if pool:
                pool.stop()
            if dispatcher:
                dispatcher.stop()
            services.close()

    app = FastAPI(
        title="sohoa",
        version=__version__,
        description="Số hóa hồ sơ và kết quả điện tử — API for scanning stations, officers and agencies.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.metrics_registry = CollectorRegistry()
    register_queue_depth(services.catalogue, app.state.metrics_registry)
    app.state.wake_workers = lambda: None
    app.add_exception_handler(SohoaError, sohoa_error_handler)
    app.include_router(routes_public.router)
    app.include_router(routes_batches.router)
    app.include_router(routes_results.router)
    return app
