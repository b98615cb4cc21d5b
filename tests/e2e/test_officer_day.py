"""An officer's day in real headless Chromium against the running service (issue 20's acceptance path).

A centre that confirms every copy before signing receives a batch from its station: a birth certificate,
an announcement the classifier does not know, and a scan that arrives corrupt (the dossier is partial).

1. The receiving officer signs in with password and TOTP on the sign-in pages.
2. The review queue puts the announcement first, with its reason; she corrects its type and a field,
   confirms it, then confirms the birth certificate. Each copy is signed with HER certificate.
3. She uploads the corrupt component's scan again on the dossier's page and confirms the new copy;
   the dossier is done.
4. The result officer signs in, issues the result from the NĐ 30/2020 template on the results page;
   it is signed by the centre's own certificate, A4, and verifies.

Screenshots: ``test-artifacts/officer-day-*.png``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pikepdf
import pytest
from sqlalchemy import select

from bench.corpus import templates
from dossiers.services import Services
from signing.validation import verify_pdf
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole, Component, Document, OfficerRole
from storage.catalogue.officers import create_centre
from testkit.batches import make_zip, manifest
from tests.conftest import make_settings
from tests.e2e.service import APPLICANT_ID, running_service, wait_for, wait_for_notice
from tests.e2e.test_browser import announcement_jpeg, shot
from tests.officer_accounts import OfficerAccount, make_officer
from tests.review.conftest import jpeg

pytestmark = pytest.mark.integration

COUNTER = {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}
CODE = "000.00.12.H26-261206-0999"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("day") / "var", shared_pki_dir) as svc:
        services = Services(make_settings(svc["var"], svc["pki"]))
        centre = create_centre(
            services.catalogue, "HB", "UBND phường Hàng Bạc", parent_name="UBND quận Hoàn Kiếm", place="Hàng Bạc"
        )
        svc["station"] = create_client(services.catalogue, "Trạm Hàng Bạc", ClientRole.STATION, centre_id=centre)
        svc["receiving"] = make_officer(
            services, "mai.le", role=OfficerRole.RECEIVING, centre="HB", full_name="Lê Thị Mai"
        )
        svc["result"] = make_officer(services, "hoa.tt", role=OfficerRole.RESULT, centre="HB", full_name="Trần Thị Hoa")
        svc["services"] = services
        try:
            yield svc
        finally:
            services.close()


def _station(service: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['station']}"}


def _status(service: dict) -> dict:
    return httpx.get(f"{service['base']}/api/v1/dossiers/{CODE}", headers=_station(service), timeout=10).json()


def _states(service: dict) -> dict[str, str]:
    return {c["ref"]: c["state"] for c in _status(service)["components"]}


def _push(service: dict) -> None:
    good = jpeg(templates.birth_certificate())
    m = manifest(
        [
            {"id": "ks", "declared_type": "birth_certificate", "name": "Giấy khai sinh", "files": ["ks.jpg"]},
            {"id": "tb", "name": "Thông báo", "files": ["tb.jpg"]},
            {"id": "don", "name": "Tờ khai", "files": ["don.jpg"]},
        ],
        code=CODE,
    )
    m["applicant_id"] = APPLICANT_ID
    corrupt = announcement_jpeg()[:2000]  # a scan cut short in transfer
    body = make_zip(m, {"ks.jpg": good, "tb.jpg": announcement_jpeg(), "don.jpg": corrupt})
    r = httpx.post(
        f"{service['base']}/api/v1/batches",
        content=body,
        headers=_station(service) | {"Content-Type": "application/zip"},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    wait_for(lambda: _states(service) == {"ks": "awaiting", "tb": "awaiting", "don": "failed"}, 120, "digitised")


def _sign_in(browser, service: dict, account: OfficerAccount) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{service['base']}/can-bo/dang-nhap")
    browser.find_element(By.ID, "ten_dang_nhap").send_keys(account.username)
    browser.find_element(By.ID, "mat_khau").send_keys(account.password)
    browser.find_element(By.ID, "dang-nhap").click()
    wait_for(lambda: "/can-bo/dang-nhap/ma-xac-thuc" in browser.current_url, 10, "the TOTP step")
    assert account.totp_secret is not None
    browser.find_element(By.ID, "ma").send_keys(account.code())
    browser.find_element(By.ID, "xac-nhan").click()
    wait_for(lambda: "/can-bo/dang-nhap" not in browser.current_url, 10, "the signed-in page")


def _sign_out(browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "dang-xuat").click()
    wait_for(lambda: "/can-bo/dang-nhap" in browser.current_url, 10, "the sign-in page")


def _confirm(browser, base: str, component_id: int) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/can-bo/thanh-phan/{component_id}")
    browser.find_element(By.ID, "xac-nhan").click()
    wait_for_notice(browser, "Đã xác nhận bản sao khớp bản giấy.")


def _component_ids(service: dict) -> dict[str, int]:
    with service["services"].catalogue.reading() as s:
        return {ref: cid for ref, cid in s.execute(select(Component.ref, Component.id))}


def _signers(service: dict) -> dict[str, str]:
    with service["services"].catalogue.reading() as s:
        rows = s.execute(
            select(Component.ref, Document.signed_by).join(Document, Document.component_id == Component.id)
        )
        return {ref: signed_by for ref, signed_by in rows}


def test_an_officers_day(service: dict, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = service["base"]
    _push(service)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", COUNTER)

    # 1. The receiving officer signs in with her password and a TOTP code.
    _sign_in(browser, service, service["receiving"])
    assert "Lê Thị Mai" in browser.find_element(By.ID, "can-bo-ten").text
    shot(browser, "officer-day-1-queue")

    # 2. The queue: the announcement first, with why it needs review.
    browser.get(f"{base}/can-bo/hang-cho")
    items = browser.find_elements(By.CSS_SELECTOR, "#hang-cho > li")
    assert len(items) == 2 and "Thông báo" in items[0].text and "Cần kiểm tra" in items[0].text
    assert any("loại giấy tờ" in li.text for li in items[0].find_elements(By.CSS_SELECTOR, "ul.reasons li"))
    items[0].find_element(By.CSS_SELECTOR, "a.queue-link").click()
    Select(browser.find_element(By.ID, "loai")).select_by_value("residence_confirmation")
    browser.find_element(By.ID, "truong-moi-ten").send_keys("so_dinh_danh")
    browser.find_element(By.ID, "truong-moi-gia-tri").send_keys(APPLICANT_ID)
    browser.find_element(By.ID, "luu").click()
    wait_for_notice(browser, "Đã lưu sửa đổi.")
    shot(browser, "officer-day-2-corrected")
    browser.find_element(By.ID, "xac-nhan").click()
    wait_for_notice(browser, "Đã xác nhận bản sao khớp bản giấy.")
    ids = _component_ids(service)
    _confirm(browser, base, ids["ks"])
    shot(browser, "officer-day-3-confirmed")
    wait_for(lambda: _states(service)["ks"] == "done" and _states(service)["tb"] == "done", 60, "both copies signed")

    # 3. The partial dossier completed from its page: she uploads the scan again, then confirms the new copy.
    browser.get(f"{base}/can-bo/ho-so/{CODE}")
    assert "Gửi lại thành phần" in browser.find_element(By.ID, "tp-don").text
    scan = tmp_path / "don.jpg"
    scan.write_bytes(jpeg(templates.birth_certificate()))
    browser.find_element(By.ID, "tep-don").send_keys(str(scan))
    shot(browser, "officer-day-4-resend")
    browser.find_element(By.CSS_SELECTOR, "#gui-lai-don button[type=submit]").click()
    wait_for_notice(browser, "Đã gửi lại thành phần; hệ thống đang số hóa bản quét mới.")
    wait_for(lambda: _states(service)["don"] == "awaiting", 90, "the resent component digitised")
    _confirm(browser, base, ids["don"])
    wait_for(lambda: _status(service)["state"] == "done", 60, "the dossier done")
    signers = _signers(service)
    assert set(signers) == {"ks", "tb", "don"}
    assert all("Lê Thị Mai" in name for name in signers.values()), signers  # her own certificate
    with service["services"].catalogue.reading() as s:
        corrected = s.scalar(
            select(Document).join(Component, Component.id == Document.component_id).where(Component.ref == "tb")
        )
        assert corrected is not None and corrected.doc_type == "residence_confirmation"
    _sign_out(browser)

    # 4. The result officer issues the result from the template; the centre's own key signs it.
    _sign_in(browser, service, service["result"])
    browser.get(f"{base}/can-bo/ket-qua")
    browser.find_element(By.ID, "dossier_code").send_keys(CODE)
    browser.find_element(By.ID, "title").send_keys("Giấy xác nhận thông tin về cư trú")
    browser.find_element(By.ID, "number").send_keys("15")
    browser.find_element(By.ID, "symbol").send_keys("XN-UBND")
    browser.find_element(By.ID, "body").send_keys("Ông Nguyễn Văn An thường trú tại phường Hàng Bạc.")
    browser.find_element(By.ID, "signer_title").send_keys("CHỦ TỊCH")
    browser.find_element(By.ID, "signer_name").send_keys("Phạm Văn Đức")
    shot(browser, "officer-day-5-result-form")
    browser.find_element(By.ID, "ban-hanh").click()
    wait_for(lambda: "?da=" in browser.current_url, 20, "the issued result")
    code = browser.current_url.split("?da=")[1]
    assert code == f"{CODE}-KQ1" and code in browser.find_element(By.ID, "da-ban-hanh").text

    def signed() -> bool:
        browser.get(f"{base}/can-bo/ket-qua")
        return "Đã ký" in browser.find_element(By.ID, f"kq-{code}").text

    wait_for(signed, 60, "the result signed")
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, f"kq-{code}"))
    shot(browser, "officer-day-6-result-signed")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    pdf = httpx.get(f"{base}/can-bo/ket-qua/{code}.pdf", cookies=cookies, timeout=10).content
    report = verify_pdf(pdf, service["services"].trust_roots)
    assert report.valid
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        x1, y1, x2, y2 = (float(v) for v in doc.pages[0].mediabox)
        assert abs(x2 - x1 - 595.28) < 0.5 and abs(y2 - y1 - 841.89) < 0.5
    subject = report.signatures[-1].signer_subject or ""
    assert "UBND phường Hàng Bạc" in subject, subject  # the issuing centre's own certificate
