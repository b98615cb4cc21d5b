"""Telling the citizen through the API (issue 21, part 5): the giấy hẹn for the station and the dossier's
officers only, a result issued and signed by the real pipeline e-mailed to a real SMTP server, and the
officers' view of notices (API and dossier page), scoped to their centre. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from dossiers.notices import deliver_due
from sohoa.settings import NoticeSettings
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_steps
from tests.api.conftest import Api
from tests.conftest import make_settings
from tests.notice_servers import SmtpServer
from tests.officer_accounts import make_officer, sign_in

CODE = "000.00.12.H26-261206-0301"
APPLICANT_ID = "001090012345"
EMAIL = "hoa.tran@example.vn"


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path, smtp_server: SmtpServer) -> Iterator[Api]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    notices = NoticeSettings(
        email="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none", from_address="kq@x.vn"
    )
    settings = make_settings(tmp_path / "var", shared_pki_dir, database_url=url).model_copy(update={"notices": notices})
    with TestClient(create_app(settings, start_workers=False)) as client:
        creds = json.loads((settings.var_dir / "dev-credentials.json").read_text())
        yield Api(
            client,
            client.app.state.services,  # type: ignore[attr-defined]
            {"Authorization": f"Bearer {creds['station_key']}"},
            {"Authorization": f"Bearer {creds['officer_key']}"},
        )


def _push(api: Api) -> dict:
    m = manifest([{"id": "don", "name": "Tờ khai", "files": ["a.jpg"]}], code=CODE) | {
        "contact_email": EMAIL,
        "contact_phone": "0912345678",
    }
    r = api.client.post(
        "/api/v1/batches",
        content=make_zip(m, {"a.jpg": b"\xff\xd8 scan"}),
        headers=api.station | {"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text
    return r.json()


def _personal_key(api: Api, username: str, centre: str) -> dict[str, str]:
    account = make_officer(api.services, username, role=OfficerRole.RESULT, centre=centre)
    key = create_client(api.services.catalogue, username, ClientRole.OFFICER, officer_id=account.id)
    return {"Authorization": f"Bearer {key}"}


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_slip_is_the_station_and_the_centres_officers_only(api: Api, tmp_path: Path) -> None:
    receipt = _push(api)
    url = receipt["appointment_slip_url"]
    assert url == f"/api/v1/dossiers/{CODE}/giay-hen.pdf"

    r = api.client.get(url, headers=api.station)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = _text(r.content, tmp_path)
    assert CODE in text and "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and APPLICANT_ID not in text
    a4 = api.client.get(url, params={"size": "A4"}, headers=api.station)
    assert a4.status_code == 200 and b"/MediaBox [0 0 595.28 841.89]" in a4.content
    assert b"/MediaBox [0 0 419.53 595.28]" in r.content
    assert api.client.get(url, params={"size": "A3"}, headers=api.station).status_code == 422

    other_station = api.key("another station", ClientRole.STATION)
    assert api.client.get(url, headers=other_station).status_code == 404
    assert api.client.get(url).status_code == 401
    assert api.client.get(url, headers=api.officer).status_code == 200  # a deployment-wide officer key
    assert api.client.get(url, headers=_personal_key(api, "own", "default")).status_code == 200
    assert api.client.get(url, headers=_personal_key(api, "other", "BD")).status_code == 404
    unknown = f"/api/v1/dossiers/{CODE[:-1]}9/giay-hen.pdf"
    assert api.client.get(unknown, headers=api.station).status_code == 404
    # Each slip given out is audited (it shows the applicant's name): 4 above, none for a refusal.
    slips = _slip_entries(api)
    assert len(slips) == 4 and {(e.subject, e.owner_id) for e in slips} == {(f"dossier:{CODE}", APPLICANT_ID)}
    assert all(e.centre_id is not None for e in slips)


def _slip_entries(api: Api) -> list[AuditEntry]:
    with api.services.catalogue.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "slip_download").order_by(AuditEntry.seq)))


def test_a_signed_result_is_emailed_and_officers_see_the_notice(
    api: Api, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    _push(api)
    r = api.client.post(
        f"/api/v1/dossiers/{CODE}/results/from-template",
        json={"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn."], "level": "B-T"},
        headers=api.officer,
    )
    assert r.status_code == 202, r.text
    result = r.json()["code"]
    assert deliver_due(api.services)["sent"] == 0  # waits for the signature
    run_steps(api.services)
    assert deliver_due(api.services) == {"sent": 1, "retry": 0, "failed": 0}

    (message,) = smtp_server.mailbox.messages()
    body = message.get_content()
    assert f"{api.services.settings.api.base_url}/tra-cuu/ket-qua/{result}" in body
    assert APPLICANT_ID not in body and "Chưa đăng ký kết hôn" not in body

    listed = api.client.get("/api/v1/notices", params={"dossier": CODE}, headers=api.officer).json()["notices"]
    assert [(n["result_code"], n["channel"], n["state"], n["recipient"]) for n in listed] == [
        (result, "email", "sent", "h***@example.vn")
    ]
    own = _personal_key(api, "own", "default")
    assert len(api.client.get("/api/v1/notices", headers=own).json()["notices"]) == 1
    assert api.client.get("/api/v1/notices", params={"state": "sent"}, headers=own).json()["notices"]
    assert api.client.get("/api/v1/notices", params={"state": "failed"}, headers=own).json()["notices"] == []
    assert api.client.get("/api/v1/notices", headers=_personal_key(api, "other", "BD")).json()["notices"] == []
    assert api.client.get("/api/v1/notices", headers=api.station).status_code == 403

    account = make_officer(api.services, "lan.nt", centre="default")
    sign_in(api.client, account)
    page = api.client.get(f"/can-bo/ho-so/{CODE}")
    assert page.status_code == 200
    assert f'href="/can-bo/ho-so/{CODE}/giay-hen.pdf"' in page.text
    assert "Đã gửi" in page.text and "h***@example.vn" in page.text and EMAIL not in page.text
    slip = api.client.get(f"/can-bo/ho-so/{CODE}/giay-hen.pdf", params={"kho": "A4"})
    assert slip.status_code == 200 and b"/MediaBox [0 0 595.28 841.89]" in slip.content
    assert [(e.actor, e.owner_id) for e in _slip_entries(api)] == [("officer:lan.nt", APPLICANT_ID)]


def test_another_centres_officer_gets_no_slip_page(api: Api) -> None:
    _push(api)
    account = make_officer(api.services, "bea", centre="BD")
    sign_in(api.client, account)
    assert api.client.get(f"/can-bo/ho-so/{CODE}/giay-hen.pdf").status_code == 404
    assert api.client.get(f"/can-bo/ho-so/{CODE}").status_code == 404
    assert _slip_entries(api) == []
