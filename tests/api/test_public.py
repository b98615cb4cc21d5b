"""Probes and metrics: readiness checks the catalogue, the object store and, in Celery mode, the broker."""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from sohoa.settings import Settings, WorkerSettings
from tests.api.conftest import Api


def test_readyz_reports_each_dependency(api: Api) -> None:
    body = api.client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"catalogue": "ok", "object_store": "ok"}}
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_broker_in_celery_mode(settings: Settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens here once closed
    down = settings.model_copy(
        update={"workers": WorkerSettings(mode="celery", broker_url=f"redis://127.0.0.1:{dead}/0")}
    )
    with TestClient(create_app(down, start_workers=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["broker"].startswith("error")
        assert r.json()["checks"]["catalogue"] == "ok"


@pytest.mark.integration
def test_readyz_with_a_live_broker(settings: Settings) -> None:
    up = settings.model_copy(update={"workers": WorkerSettings(mode="celery", broker_url="redis://127.0.0.1:6379/0")})
    with TestClient(create_app(up, start_workers=False)) as c:
        assert c.get("/readyz").json()["checks"]["broker"] == "ok"


def test_home_page_is_vietnamese_and_links_the_portal(api: Api) -> None:
    html = api.client.get("/").text
    assert 'lang="vi"' in html and "/tra-cuu" in html and "/kiem-tra" in html and "hồ sơ" in html
    assert "https://" not in html and "<script" not in html  # no external assets, no scripts


def test_a_server_side_fault_keeps_its_detail_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import json as jsonlib

    from starlette.requests import Request

    from api.errors import sohoa_error_handler
    from sohoa.errors import ObjectStoreUnavailable
    from workers.errors import FileMissing

    request = Request({"type": "http", "method": "GET", "path": "/api/v1/documents/1/pdf", "headers": []})
    outage = asyncio.run(sohoa_error_handler(request, ObjectStoreUnavailable("/srv/sohoa/var/objects/documents")))
    body = jsonlib.loads(outage.body)["detail"]
    assert outage.status_code == 503 and body["code"] == "OBJECT_STORE_UNAVAILABLE" and "detail" not in body
    assert "/srv/sohoa/var/objects/documents" in caplog.text
    station_fault = asyncio.run(sohoa_error_handler(request, FileMissing("p3.jpg")))
    assert station_fault.status_code == 422 and jsonlib.loads(station_fault.body)["detail"]["detail"] == "p3.jpg"
