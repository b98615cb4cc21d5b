"""Real headless Chromium against the running service: the applicant, once their check passed, opens
"Ai đã xem giấy tờ của tôi" and sees who read their documents by agency or centre (never an officer); the
centre's administrator opens Quản trị → Nhật ký truy cập and finds the same reads by số định danh.
Screenshots go to ``test-artifacts/`` (``audit-citizen-phone.png``, ``audit-admin-1366x768.png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import APPLICANT_ID, running_service, sign_in_officer, signed_result, wait_for
from tests.e2e.test_browser import PHONE, shot

pytestmark = pytest.mark.integration
DESKTOP = {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("trail") / "var", shared_pki_dir) as svc:
        yield svc


def _read_by_officer(service: dict, code: str) -> None:
    officer = {"Authorization": f"Bearer {service['officer_key']}"}
    r = httpx.get(f"{service['base']}/api/v1/results/{code}/pdf", headers=officer, timeout=30)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_the_applicant_sees_who_read_their_documents(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    code = signed_result(service, "000.00.12.H26-261206-0701")
    _read_by_officer(service, code)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    browser.get(f"{service['base']}/tra-cuu/nhat-ky/{code}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Chưa xác minh người nộp hồ sơ"

    browser.get(f"{service['base']}/tra-cuu")
    browser.find_element(By.ID, "ma_ket_qua").send_keys(code)
    browser.find_element(By.ID, "so_dinh_danh").send_keys(APPLICANT_ID[-6:])
    browser.find_element(By.ID, "ngay_sinh").send_keys("15/03/1990")
    browser.find_element(By.ID, "tra-cuu").click()
    wait_for(lambda: "/tra-cuu/ket-qua/" in browser.current_url, 10, "the result page")
    browser.find_element(By.ID, "nhat-ky").click()
    wait_for(lambda: "/tra-cuu/nhat-ky/" in browser.current_url, 10, "the trail page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Ai đã xem giấy tờ của bạn"
    table = browser.find_element(By.ID, "luot-xem").text
    assert "tải kết quả điện tử" in table and "Người xác minh kết quả qua mã QR" in table
    assert "officer" not in table and "public:" not in table and service["officer_account"]["username"] not in table
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"
    table = browser.find_element(By.ID, "luot-xem")  # its rows stack: nothing to scroll sideways for
    assert browser.execute_script(
        "return arguments[0].parentElement.scrollWidth <= arguments[0].parentElement.clientWidth", table
    )
    shot(browser, "audit-citizen-phone")


def test_the_administrator_finds_the_reads_of_a_citizen(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    code = signed_result(service, "000.00.12.H26-261206-0702")
    _read_by_officer(service, code)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    sign_in_officer(browser, service)
    browser.find_element(By.LINK_TEXT, "Quản trị").click()
    wait_for(lambda: browser.current_url.endswith("/can-bo/quan-tri"), 10, "the admin page")
    browser.find_element(By.ID, "lien-ket-nhat-ky").click()
    wait_for(lambda: "/can-bo/quan-tri/nhat-ky" in browser.current_url, 10, "the trail page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Nhật ký truy cập"

    browser.find_element(By.ID, "owner").send_keys(APPLICANT_ID)
    Select(browser.find_element(By.ID, "action")).select_by_visible_text("Đọc giấy tờ")
    browser.find_element(By.ID, "xem-nhat-ky").click()
    wait_for(lambda: "owner=" in browser.current_url, 10, "the filtered trail")
    rows = browser.find_elements(By.CSS_SELECTOR, "#nhat-ky tbody tr")
    assert rows and all("Đọc giấy tờ" in r.text for r in rows)
    assert any("tải kết quả điện tử" in r.text for r in rows)
    shot(browser, "audit-admin-1366x768")

    browser.find_element(By.ID, "owner").clear()
    browser.find_element(By.ID, "owner").send_keys("123")
    browser.find_element(By.ID, "xem-nhat-ky").click()
    wait_for(lambda: browser.find_elements(By.ID, "loi"), 10, "the refusal")
    assert "12 chữ số" in browser.find_element(By.ID, "loi").text
