"""End to end over HTTP: the embedded service digitises, signs and stores a real batch.

The service runs as a real process (`sohoa serve`); the test acts as a scanning
station and an officer, then checks the signed outputs with poppler's pdfsig.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dossiers.result_render import render_result_pdf
from dossiers.services import Services
from signing.validation import verify_pdf
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole
from testkit.batches import make_zip
from testkit.poppler import pdfsig, pdftotext
from tests.conftest import make_settings
from tests.e2e.service import running_service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("svc") / "var", shared_pki_dir) as svc:
        yield svc


def sample_zip(sample_batch: Path) -> tuple[bytes, dict]:
    manifest = json.loads((sample_batch / "manifest.json").read_text())
    files = {name: (sample_batch / name).read_bytes() for c in manifest["components"] for name in c["files"]}
    good = files[manifest["components"][0]["files"][0]]
    files["hong.jpg"] = good[: len(good) // 3]  # a truncated JPEG: the hostile upload
    manifest["components"].append({"id": "bad", "declared_type": "other", "name": "Ảnh hỏng", "files": ["hong.jpg"]})
    return make_zip(manifest, files), manifest


def follow(client: httpx.Client, events_url: str, timeout: float = 600) -> list[dict]:
    seen = []
    with client.stream("GET", events_url, timeout=timeout) as response:
        assert response.status_code == 200
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "progress":
                seen.append(json.loads(line[6:]))
            elif line.startswith("data: ") and event == "done":
                break
    return seen


def test_station_pushes_batch_and_gets_signed_searchable_documents(
    service: dict, sample_batch: Path, nss_dir: str, tmp_path: Path
) -> None:
    body, manifest = sample_zip(sample_batch)
    station = httpx.Client(base_url=service["base"], headers={"Authorization": f"Bearer {service['station_key']}"})
    r = station.post("/api/v1/batches", content=body, headers={"Content-Type": "application/zip"})
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert receipt["dossier_code"] == manifest["dossier_code"] and len(receipt["components"]) == 4

    events = follow(station, receipt["events_url"])
    assert len(events) >= 2 and events[-1]["state"] == "partial"  # progress was reported, not just the end
    status = station.get(receipt["status_url"]).json()
    by_ref = {c["ref"]: c for c in status["components"]}
    assert by_ref["bad"]["state"] == "failed"
    assert by_ref["bad"]["error"]["code"] == "IMAGE_CORRUPT" and by_ref["bad"]["error"]["message"]
    truth = json.loads((sample_batch / "groundtruth.json").read_text())
    for comp in manifest["components"][:-1]:
        got = by_ref[comp["id"]]
        assert got["state"] == "done", got
        doc = got["document"]
        assert doc["type"] == comp["declared_type"]
        pdf_path = tmp_path / f"{comp['id']}.pdf"
        pdf_path.write_bytes(station.get(doc["download_url"]).content)
        report = pdfsig(pdf_path, nss_dir)
        assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
        layer = Counter(pdftotext(pdf_path).split())
        truth_words = Counter(w for f in comp["files"] for w in truth[f].split())
        recall = sum(min(n, layer[w]) for w, n in truth_words.items()) / sum(truth_words.values())
        assert recall >= 0.97, (comp["id"], recall, truth_words - layer)
        assert (
            subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout.count(
                f"Pages:           {len(comp['files'])}"
            )
            == 1
        )

    again = station.post("/api/v1/batches", content=body, headers={"Content-Type": "application/zip"})
    assert again.status_code == 200 and again.json()["dossier_code"] == receipt["dossier_code"]
    assert again.json()["created"] is False
    assert [c["id"] for c in again.json()["components"]] == [c["id"] for c in receipt["components"]]


def test_access_control_and_e_result(service: dict, sample_batch: Path, nss_dir: str, tmp_path: Path) -> None:
    code = json.loads((sample_batch / "manifest.json").read_text())["dossier_code"]
    base = service["base"]
    assert httpx.get(f"{base}/api/v1/dossiers/{code}").status_code == 401
    forged = {"Authorization": "Bearer sohoa_000000000000_forged"}
    assert httpx.get(f"{base}/api/v1/dossiers/{code}", headers=forged).status_code == 401

    services = Services(make_settings(service["var"], service["pki"]))
    other_key = create_client(services.catalogue, "Trạm khác", ClientRole.STATION)
    other = {"Authorization": f"Bearer {other_key}"}
    assert httpx.get(f"{base}/api/v1/dossiers/{code}", headers=other).status_code == 404
    assert httpx.get(f"{base}/api/v1/documents/1/pdf", headers=other).status_code == 404
    station = {"Authorization": f"Bearer {service['station_key']}"}
    pdf = render_result_pdf(["KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", f"Mã hồ sơ: {code}"])
    assert httpx.post(f"{base}/api/v1/dossiers/{code}/results", content=pdf, headers=station).status_code == 403

    officer = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {service['officer_key']}"})
    r = officer.post(f"/api/v1/dossiers/{code}/results", content=pdf, params={"level": "B-T"})
    assert r.status_code == 202, r.text
    result_code = r.json()["code"]
    assert result_code == f"{code}-KQ1"
    for _ in range(300):
        view = officer.get(f"/api/v1/results/{result_code}").json()
        if view["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert view["state"] == "done", view
    path = tmp_path / "kq.pdf"
    path.write_bytes(officer.get(view["download_url"]).content)
    report = pdfsig(path, nss_dir)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    verified = verify_pdf(path.read_bytes(), [services.dev_pki.root_cert])
    assert verified.valid and verified.signatures[0].level == "B-T"
    assert httpx.get(f"{base}{view['download_url']}", headers=other).status_code == 404
    services.close()
