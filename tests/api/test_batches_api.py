"""The batch endpoint in-process: multipart and raw uploads, size limits, authentication, dev TSA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import tsp
from fastapi.testclient import TestClient

from api.app import create_app
from sohoa.settings import ApiSettings, Settings
from testkit.batches import make_zip, manifest


@pytest.fixture
def client(settings: Settings) -> Iterator[tuple[TestClient, dict]]:
    small = settings.model_copy(update={"api": ApiSettings(max_upload_bytes=64 * 1024)})
    with TestClient(create_app(small, start_workers=False)) as c:
        creds = json.loads((small.var_dir / "dev-credentials.json").read_text())
        yield c, {"Authorization": f"Bearer {creds['station_key']}"}


def batch(code: str = "000.00.12.H26-261121-0077") -> bytes:
    return make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=code), {"a.jpg": b"\xff\xd8 not really"})


def test_multipart_and_raw_uploads_give_the_same_receipt(client: tuple[TestClient, dict]) -> None:
    c, auth = client
    first = c.post("/api/v1/batches", files={"file": ("b.zip", batch(), "application/zip")}, headers=auth)
    assert first.status_code == 202, first.text
    again = c.post("/api/v1/batches", content=batch(), headers=auth | {"Content-Type": "application/zip"})
    assert again.status_code == 200 and again.json()["dossier_id"] == first.json()["dossier_id"]
    assert not list((Path(c.app.state.services.settings.work_dir) / "uploads").iterdir())  # temp files removed


def test_oversized_uploads_are_refused_with_413(client: tuple[TestClient, dict]) -> None:
    c, auth = client
    big = b"x" * (65 * 1024)
    raw = c.post("/api/v1/batches", content=big, headers=auth | {"Content-Type": "application/zip"})
    assert raw.status_code == 413 and raw.json()["detail"]["code"] == "UPLOAD_TOO_LARGE"
    multi = c.post("/api/v1/batches", files={"file": ("b.zip", big, "application/zip")}, headers=auth)
    assert multi.status_code == 413


def test_conflicting_batch_and_bad_manifest_are_clear_errors(client: tuple[TestClient, dict]) -> None:
    c, auth = client
    headers = auth | {"Content-Type": "application/zip"}
    assert c.post("/api/v1/batches", content=batch(), headers=headers).status_code == 202
    other = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code="000.00.12.H26-261121-0077"), {"a.jpg": b"x"})
    conflict = c.post("/api/v1/batches", content=other, headers=headers)
    assert conflict.status_code == 409 and conflict.json()["detail"]["code"] == "DOSSIER_EXISTS"
    bad = c.post("/api/v1/batches", content=b"PK not a zip", headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "BATCH_INVALID"


def test_every_api_route_needs_a_key(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    assert c.post("/api/v1/batches", content=batch()).status_code == 401
    for path in ("/api/v1/dossiers/x", "/api/v1/dossiers/x/events", "/api/v1/documents/1/pdf", "/api/v1/results/x"):
        assert c.get(path).status_code == 401, path
    assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200
    assert "hồ sơ" in c.get("/").text


def test_dev_tsa_answers_rfc3161_queries(client: tuple[TestClient, dict]) -> None:
    c, _ = client
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"\x11" * 32},
            "cert_req": True,
        }
    )
    reply = c.post("/dev/tsa", content=query.dump(), headers={"Content-Type": "application/timestamp-query"})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/timestamp-reply"
    parsed = tsp.TimeStampResp.load(reply.content)
    assert parsed["status"]["status"].native == "granted"
    info = parsed["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == b"\x11" * 32


def test_metrics_need_the_token(settings: Settings) -> None:
    app_settings = settings.model_copy(update={"api": ApiSettings(metrics_token="s3cret-metrics")})
    with TestClient(create_app(app_settings, start_workers=False)) as c:
        assert c.get("/metrics").status_code == 403
        body = c.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"}).text
        assert "sohoa_step_duration_seconds" in body and "sohoa_queue_depth" in body
