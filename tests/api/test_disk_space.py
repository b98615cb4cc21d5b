"""Low disk space in /readyz and the metrics, in-process (the really full disk: tests/e2e/test_disk_full.py)."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.app import create_app
from api.errors import sohoa_error_handler
from dossiers.errors import MemberUnreadable
from sohoa.settings import ApiSettings, Settings, StorageSettings


def app_with(settings: Settings, **storage: object) -> TestClient:
    changed = settings.model_copy(
        update={"storage": StorageSettings(**storage), "api": ApiSettings(metrics_token="scrape")}  # type: ignore[arg-type]
    )
    return TestClient(create_app(changed, start_workers=False), raise_server_exceptions=False)


def metric_lines(client: TestClient, name: str) -> list[str]:
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
    return [line for line in text.splitlines() if line.startswith(f"{name}{{") or line.startswith(f"{name} ")]


def test_low_space_is_degraded_not_unavailable_and_shows_in_the_gauges(settings: Settings) -> None:
    with app_with(settings, min_free_bytes=2**62) as low:  # more than any disk: every folder is low
        r = low.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "degraded"
        checks = r.json()["checks"]
        assert (checks["catalogue"], checks["object_store"]) == ("ok", "ok")
        assert checks["disk_space"].startswith("low: var_dir ") and "objects" in checks["disk_space"]
        assert str(settings.var_dir) not in checks["disk_space"]  # folder names, never paths, on a public probe
        assert metric_lines(low, "sohoa_disk_low") == [
            'sohoa_disk_low{folder="var_dir"} 1.0',
            'sohoa_disk_low{folder="objects"} 1.0',
            'sohoa_disk_low{folder="tmp"} 1.0',
        ]
        assert metric_lines(low, "sohoa_disk_min_free_bytes") == [f"sohoa_disk_min_free_bytes {float(2**62)}"]
        free = metric_lines(low, "sohoa_disk_free_bytes")
        assert [line.split(" ")[0] for line in free] == [
            'sohoa_disk_free_bytes{folder="var_dir"}',
            'sohoa_disk_free_bytes{folder="objects"}',
            'sohoa_disk_free_bytes{folder="tmp"}',
        ]
        assert 0 < float(free[0].split(" ")[1]) <= shutil.disk_usage(settings.var_dir).total

    with app_with(settings, min_free_bytes=0) as fine:
        assert fine.get("/readyz").json() == {
            "status": "ok",
            "checks": {"catalogue": "ok", "object_store": "ok", "disk_space": "ok"},
        }
        assert set(metric_lines(fine, "sohoa_disk_low")) == {
            'sohoa_disk_low{folder="var_dir"} 0.0',
            'sohoa_disk_low{folder="objects"} 0.0',
            'sohoa_disk_low{folder="tmp"} 0.0',
        }


def test_other_file_system_errors_are_not_taken_for_a_full_disk(settings: Settings) -> None:
    """Only a full disk is a 503: a folder that is a file (a fault of the set-up) still fails loudly, as a 500."""
    with app_with(settings) as c:
        key = json.loads((settings.var_dir / "dev-credentials.json").read_text())["station_key"]
        uploads = settings.work_dir / "uploads"
        shutil.rmtree(uploads, ignore_errors=True)
        uploads.write_bytes(b"not a folder")
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/zip"}
        r = c.post("/api/v1/batches", content=b"PK", headers=headers)
        assert r.status_code == 500 and "STORAGE_FULL" not in r.text


def test_a_coded_error_raised_from_a_full_disk_is_answered_as_storage_full(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever a step of the request made of the ENOSPC (here: an unreadable member), the station is told to retry."""
    app = create_app(
        settings.model_copy(update={"storage": StorageSettings(full_retry_after_s=42)}), start_workers=False
    )
    request = Request({"type": "http", "method": "POST", "path": "/api/v1/batches", "headers": [], "app": app})
    try:
        try:
            with open("/dev/full", "wb", buffering=0) as full:  # a real ENOSPC from the kernel
                full.write(b"scan")
        except OSError as exc:
            raise MemberUnreadable("p0.jpg") from exc
    except MemberUnreadable as coded:
        answer = asyncio.run(sohoa_error_handler(request, coded))
    body = json.loads(answer.body)["detail"]
    assert (answer.status_code, answer.headers["Retry-After"], body["code"]) == (503, "42", "STORAGE_FULL")
    assert "No space left on device" in caplog.text and "detail" not in body
