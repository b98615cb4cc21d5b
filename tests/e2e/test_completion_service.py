"""End to end over HTTP: a partial dossier completed with the CLI against the running service (`sohoa serve`),
once by sending its failed component again (`sohoa resend`), once by a stored document (`sohoa reuse`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dossiers.services import Services
from storage.catalogue.completion_models import ComponentReuse
from storage.catalogue.models import Document
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest, small_page
from tests.conftest import make_settings
from tests.e2e.service import running_service
from tests.e2e.test_service_http import follow

pytestmark = pytest.mark.integration

GOOD = small_page("Đơn đề nghị cấp bản sao")
CORRUPT = GOOD[: len(GOOD) // 3]
CODE = "000.00.12.H26-261206-0601"
SECOND = "000.00.12.H26-261206-0602"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("svc") / "var", shared_pki_dir) as svc:
        yield svc


def _push(service: dict, code: str, components: list[dict], files: dict[str, bytes]) -> dict:
    station = {"Authorization": f"Bearer {service['station_key']}"}
    with httpx.Client(base_url=service["base"], headers=station, timeout=60) as client:
        r = client.post("/api/v1/batches", content=make_zip(manifest(components, code=code), files))
        assert r.status_code == 202, r.text
        seen = follow(client, r.json()["events_url"])
    return seen[-1]


def _cli(service: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args, "--url", service["base"]],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_partial_dossier_is_completed_with_the_cli(service: dict, tmp_path: Path) -> None:
    comps = [
        {"id": "don", "declared_type": "application_form", "files": ["a.jpg"]},
        {"id": "anh", "declared_type": "other", "files": ["b.jpg"]},
    ]
    status = _push(service, CODE, comps, {"a.jpg": GOOD, "b.jpg": CORRUPT})
    assert status["state"] == "partial" and status["components"][1]["error"]["code"] == "IMAGE_CORRUPT"

    scan = tmp_path / "anh-moi.jpg"
    scan.write_bytes(small_page("Ảnh chân dung bổ sung"))
    sent = _cli(service, "resend", CODE, "anh", str(scan), "--key", service["station_key"])
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert f"Hồ sơ {CODE}: done" in sent.stdout and "Đã gửi lại thành phần anh" in sent.stderr
    station = {"Authorization": f"Bearer {service['station_key']}"}
    final = httpx.get(f"{service['base']}/api/v1/dossiers/{CODE}", headers=station).json()
    documents = [c["document"]["id"] for c in final["components"]]
    assert final["state"] == "done" and len(set(documents)) == 2
    pdf = httpx.get(f"{service['base']}{final['components'][1]['document']['download_url']}", headers=station)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    again = _cli(service, "resend", CODE, "anh", str(scan), "--key", service["station_key"])  # same scans: a repeat
    assert again.returncode == 0, again.stdout + again.stderr
    other = tmp_path / "khac.jpg"
    other.write_bytes(GOOD)
    refused = _cli(service, "resend", CODE, "anh", str(other), "--key", service["station_key"])
    assert refused.returncode != 0 and "COMPONENT_DONE" in refused.stderr

    # The applicant's next dossier: its unreadable component is completed by the form stored above.
    second = _push(service, SECOND, [{"id": "don-cu", "files": ["x.jpg"]}], {"x.jpg": CORRUPT})
    assert second["state"] == "failed"
    attached = _cli(service, "reuse", SECOND, "don-cu", str(documents[0]), "--key", service["officer_key"])
    assert attached.returncode == 0, attached.stdout + attached.stderr
    assert f"dùng lại giấy tờ {documents[0]} của hồ sơ {CODE}" in attached.stdout
    view = httpx.get(f"{service['base']}/api/v1/dossiers/{SECOND}", headers=station).json()
    assert view["state"] == "done" and view["components"][0]["reused_from"]["document_id"] == documents[0]

    services = Services(make_settings(service["var"], service["pki"]))
    try:
        with services.catalogue.reading() as s:
            assert s.scalar(select(func.count()).select_from(Document)) == 2  # each component stored once
            assert s.scalar(select(func.count()).select_from(ComponentReuse)) == 1
            entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "reuse_document")).all()
            assert [(e.subject, e.outcome) for e in entries] == [(f"document:{documents[0]}", "ok")]
            assert entries[0].actor.startswith("officer:")
    finally:
        services.close()
