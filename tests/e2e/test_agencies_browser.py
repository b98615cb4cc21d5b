"""Real headless Chromium against the running service: the centre's administrator opens Quản trị, then
"Cơ quan khai thác dữ liệu", registers an agency, grants it two document types for a purpose, and revokes
the grant. Screenshot: ``test-artifacts/admin-agencies-1366x768.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.service import running_service, sign_in_officer, wait_for, wait_for_notice
from tests.e2e.test_browser import shot

pytestmark = pytest.mark.integration

SCREEN = {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("agencies") / "var", shared_pki_dir) as svc:
        yield svc


def test_admin_registers_an_agency_grants_and_revokes(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    sign_in_officer(browser, service)
    browser.find_element(By.LINK_TEXT, "Quản trị").click()
    wait_for(lambda: "/can-bo/quan-tri" in browser.current_url, 10, "the admin page")
    browser.find_element(By.ID, "lien-ket-co-quan").click()
    wait_for(lambda: "/can-bo/quan-tri/co-quan" in browser.current_url, 10, "the agencies page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Cơ quan khai thác dữ liệu"

    browser.find_element(By.ID, "ma-co-quan").send_keys(AGENCY)
    browser.find_element(By.ID, "ten-co-quan").send_keys("UBND phường Hoàn Kiếm")
    browser.find_element(By.ID, "luu-co-quan").click()
    wait_for(lambda: "da=co-quan" in browser.current_url, 10, "the agency saved")
    wait_for_notice(browser, "Đã lưu cơ quan khai thác dữ liệu.")

    purpose = browser.find_element(By.ID, "muc-dich")
    purpose.send_keys(PURPOSE)
    days = browser.find_element(By.ID, "so-ngay")
    days.clear()
    days.send_keys("90")
    for doc_type in ("birth_certificate", "marriage_certificate"):
        box = browser.find_element(By.ID, f"loai-{doc_type}")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
    browser.find_element(By.ID, "luu-quyen").click()
    wait_for(lambda: "da=cap-quyen" in browser.current_url, 10, "the grant saved")
    wait_for_notice(browser, "Đã cấp quyền khai thác.")
    row = browser.find_element(By.ID, f"co-quan-{AGENCY}").text
    assert "Giấy khai sinh" in row and PURPOSE in row and "Còn hiệu lực" in row
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= SCREEN["width"], f"page is {scroll}px wide on a {SCREEN['width']}px screen"
    shot(browser, "admin-agencies-1366x768")

    row_element = browser.find_element(By.ID, f"co-quan-{AGENCY}")
    revoke = row_element.find_element(By.CSS_SELECTOR, "button[id^=thu-hoi-]")
    revoke.click()
    wait_for(lambda: "da=thu-hoi" in browser.current_url, 10, "the grant revoked")
    wait_for_notice(browser, "Đã thu hồi quyền khai thác.")
    assert "Đã thu hồi" in browser.find_element(By.ID, f"co-quan-{AGENCY}").text
