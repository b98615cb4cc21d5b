"""Telling the citizen against the running service (issue 21, part 5): a station pushes a batch with the
applicant's contact details and fetches the giấy hẹn; an officer issues a result, the service signs it and
its sender e-mails the applicant through a real SMTP server (aiosmtpd); in headless Chromium the officer's
dossier page links the slip and shows the notice as sent."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testkit.batches import make_zip, manifest
from tests.e2e.service import running_service, sign_in_officer, wait_for
from tests.notice_servers import SmtpServer

pytestmark = pytest.mark.integration

CODE = "000.00.12.H26-261206-0801"
APPLICANT_ID = "001090012345"
EMAIL = "hoa.tran@example.vn"


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path, mail: SmtpServer) -> Iterator[dict]:
    env = {
        "SOHOA_NOTICES__EMAIL": "smtp",
        "SOHOA_NOTICES__SMTP_HOST": "127.0.0.1",
        "SOHOA_NOTICES__SMTP_PORT": str(mail.port),
        "SOHOA_NOTICES__SMTP_SECURITY": "none",
        "SOHOA_NOTICES__FROM_ADDRESS": "khong-tra-loi@sohoa.example.vn",
        "SOHOA_NOTICES__POLL_INTERVAL_S": "0.2",
    }
    with running_service(tmp_path_factory.mktemp("notices") / "var", shared_pki_dir, **env) as svc:
        yield svc


def test_push_slip_result_and_the_email_arrives(service: dict, mail: SmtpServer, tmp_path: Path) -> None:
    base = service["base"]
    station = {"Authorization": f"Bearer {service['station_key']}"}
    officer = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {service['officer_key']}"})
    m = manifest([{"id": "don", "name": "Tờ khai đăng ký kết hôn", "files": ["a.jpg"]}], code=CODE)
    m |= {"contact_email": EMAIL, "applicant_birth_date": "1990-03-15"}
    r = httpx.post(
        f"{base}/api/v1/batches",
        content=make_zip(m, {"a.jpg": b"\xff\xd8 broken"}),
        headers=station | {"Content-Type": "application/zip"},
    )
    assert r.status_code == 202, r.text

    slip = httpx.get(f"{base}{r.json()['appointment_slip_url']}", headers=station)
    assert slip.status_code == 200 and slip.headers["content-type"] == "application/pdf"
    (tmp_path / "slip.pdf").write_bytes(slip.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "slip.pdf"), "-"], capture_output=True, text=True).stdout
    assert CODE in text and "Tờ khai đăng ký kết hôn" in text and APPLICANT_ID not in text

    spec = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn với ai."], "level": "B-T"}
    issued = officer.post(f"/api/v1/dossiers/{CODE}/results/from-template", json=spec)
    assert issued.status_code == 202, issued.text
    result = issued.json()["code"]
    wait_for(lambda: mail.mailbox.received, 60, "the notice e-mail")
    assert officer.get(f"/api/v1/results/{result}").json()["state"] == "done"  # sent only once signed
    (message,) = mail.mailbox.messages()
    assert message["To"] == EMAIL and str(message["Subject"]) == f"Hồ sơ {CODE} đã có kết quả"
    body = message.get_content()
    assert f"{base}/tra-cuu/ket-qua/{result}" in body and APPLICANT_ID not in body
    listed = officer.get("/api/v1/notices", params={"dossier": CODE}).json()["notices"]
    assert [(n["result_code"], n["state"], n["attempts"]) for n in listed] == [(result, "sent", 1)]


def test_the_dossier_page_links_the_slip_and_shows_the_notice(service: dict, mail: SmtpServer, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    wait_for(lambda: mail.mailbox.received, 60, "the notice of the first test")
    sign_in_officer(browser, service)
    browser.get(f"{service['base']}/can-bo/ho-so/{CODE}")
    link = browser.find_element(By.ID, "giay-hen")
    assert link.text == "In giấy hẹn (A5)"
    href = link.get_attribute("href")
    assert href == f"{service['base']}/can-bo/ho-so/{CODE}/giay-hen.pdf"
    row = browser.find_element(By.CSS_SELECTOR, "#thong-bao-ket-qua tbody tr")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:5] == ["Thư điện tử", "h***@example.vn", "Đã gửi", "1"]
    assert EMAIL not in browser.page_source and "h***@example.vn" in browser.find_element(By.ID, "lien-he").text

    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}  # the officer's session, as the link opens
    pdf = httpx.get(href, cookies=cookies)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"/MediaBox [0 0 419.53 595.28]" in pdf.content
