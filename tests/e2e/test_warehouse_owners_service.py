"""The warehouse's owners (issue 21) against the running service, on SQLite and on PostgreSQL: a station pushes
a dossier; its giấy hẹn is fetched; officers search it; an agency is registered and granted with the CLI and
reuses the document by its own key; the audit trail shows who read it (CLI, and the centre admin's API);
the day's statistics count it (API and CLI agree); `audit verify` and `audit anchor` pass on the same catalogue.

Everything goes through `sohoa serve` over HTTP or the `sohoa` command on the same database: no call into
the service's Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from storage.accounts import totp
from testkit.batches import make_zip, manifest, small_page
from tests.e2e.service import running_service
from tests.e2e.test_service_http import follow

pytestmark = pytest.mark.integration

CODE = "000.00.12.H26-261206-0901"
APPLICANT = "001090012345"
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[dict]:
    env = {"SOHOA_DATABASE_URL": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    with running_service(tmp_path / "var", shared_pki_dir, **env) as svc:
        svc["env"] = env
        yield svc


def _sohoa(service: dict, *args: str) -> subprocess.CompletedProcess[str]:
    env = (
        os.environ
        | service["env"]
        | {
            "SOHOA_VAR_DIR": str(service["var"]),
            "SOHOA_SIGNING__PKI_DIR": str(service["pki"]),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"sohoa {' '.join(args)}: {done.stderr}"
    return done


def _admin_session(service: dict) -> httpx.Client:
    """The development centre admin, signed in by password and TOTP: a session cookie and its CSRF token."""
    account = service["officer_account"]
    client = httpx.Client(base_url=service["base"], timeout=60)
    code = totp.code_at(account["totp_secret"], totp.current_step())
    r = client.post(
        "/api/v1/officer/session",
        json={"username": account["username"], "password": account["password"], "totp": code},
    )
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def test_a_dossier_is_found_reused_audited_and_counted(service: dict) -> None:
    base = service["base"]
    station = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {service['station_key']}"}, timeout=60)

    # Intake: one component, digitised, signed and stored; the receipt links its giấy hẹn.
    comps = [{"id": "khai-sinh", "declared_type": "birth_certificate", "files": ["a.jpg"]}]
    pushed = station.post(
        "/api/v1/batches",
        content=make_zip(manifest(comps, code=CODE), {"a.jpg": small_page("GIẤY KHAI SINH Trần Thị Hoa")}),
    )
    assert pushed.status_code == 202, pushed.text
    assert follow(station, pushed.json()["events_url"])[-1]["state"] == "done"
    slip = station.get(pushed.json()["appointment_slip_url"])
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")

    # The centre's officers find it by the owner's number and by words typed without accents.
    admin = _admin_session(service)
    found = admin.get("/api/v1/search", params={"owner": APPLICANT})
    assert found.status_code == 200, found.text
    (hit,) = found.json()["results"]
    assert hit["dossier_code"] == CODE
    doc_type = hit["doc_type"]
    words = admin.get("/api/v1/search", params={"q": "tran thi hoa"}).json()["results"]
    assert [h["id"] for h in words] == [hit["id"]]

    # An agency, registered and granted with the CLI, reuses the document with its own key.
    _sohoa(service, "agencies", "add", AGENCY, "--name", "UBND phường Hoàn Kiếm")
    _sohoa(service, "grants", "add", AGENCY, "--types", doc_type, "--purpose", PURPOSE, "--days", "30")
    key = _sohoa(service, "keys", "create", "--name", "Hoàn Kiếm", "--role", "agency", "--agency-code", AGENCY)
    agency = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key.stdout.strip()}"}, timeout=60)
    reused = agency.get("/api/v1/agency/documents", params={"owner_id": APPLICANT, "purpose": PURPOSE})
    assert reused.status_code == 200, reused.text
    assert reused.json()["count"] == 1
    refused = agency.get("/api/v1/agency/documents", params={"owner_id": APPLICANT, "purpose": "mục đích khác"})
    assert refused.status_code == 403

    # Who read the citizen's documents: the operator's CLI and the centre admin's API both show the agency.
    shown = json.loads(_sohoa(service, "audit", "show", "--owner", APPLICANT, "--json").stdout)["entries"]
    assert any(e["actor"] == f"agency:{AGENCY}" and e["purpose"] == PURPOSE for e in shown), shown
    trail = admin.get("/api/v1/audit", params={"owner": APPLICANT})
    assert trail.status_code == 200, trail.text
    assert any(e["actor"] == f"agency:{AGENCY}" for e in trail.json()["entries"]), trail.json()

    # The day's figures: one component received and digitised at intake (API and CLI agree).
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    stats = admin.get("/api/v1/stats", params={"from": today, "to": today})
    assert stats.status_code == 200, stats.text
    total = stats.json()["total"]
    intake = total["intake_digitisation"]
    assert (intake["numerator"], intake["denominator"], intake["text"]) == (1, 1, "1/1 = 100,00 %"), total
    cli = json.loads(_sohoa(service, "stats", "--from", today, "--to", today, "--json").stdout)
    assert cli["total"] == total

    # The chain verifies, and its head is anchored with a time-stamp by the development TSA.
    _sohoa(service, "audit", "anchor")
    assert "nguyên vẹn" in _sohoa(service, "audit", "verify").stdout
