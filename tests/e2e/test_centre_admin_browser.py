"""Real headless Chromium against the running service: the centre's administrator signs in (password, then
TOTP), opens Quản trị, changes the signing policy and adds an officer (the initial password shown once);
then opens a partial dossier and uploads a replacement scan for its failed component from the page.
Screenshots go to ``test-artifacts/`` (``admin-centre-1366x768.png``, ``dossier-resend-1366x768.png``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dossiers.services import Services
from storage.catalogue.models import Centre, Officer
from storage.catalogue.warehouse_models import AuditEntry
from testkit.batches import make_zip, manifest, small_page
from tests.conftest import make_settings
from tests.e2e.service import running_service, sign_in_officer, wait_for, wait_for_notice
from tests.e2e.test_browser import shot

pytestmark = pytest.mark.integration

SCREENS = {
    "1366x768": {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False},
    "768x1024": {"width": 768, "height": 1024, "deviceScaleFactor": 1, "mobile": True},
}
CODE = "000.00.12.H26-261206-0888"
GOOD = small_page("Đơn đề nghị cấp bản sao")
CORRUPT = GOOD[: len(GOOD) // 3]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("admin") / "var", shared_pki_dir) as svc:
        yield svc


def _status(service: dict) -> dict:
    station = {"Authorization": f"Bearer {service['station_key']}"}
    r = httpx.get(f"{service['base']}/api/v1/dossiers/{CODE}", headers=station, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _push_partial(service: dict) -> None:
    comps = [
        {"id": "don", "declared_type": "application_form", "name": "Đơn đề nghị", "files": ["a.jpg"]},
        {"id": "anh", "declared_type": "other", "name": "Ảnh chân dung", "files": ["b.jpg"]},
    ]
    station = {"Authorization": f"Bearer {service['station_key']}", "Content-Type": "application/zip"}
    body = make_zip(manifest(comps, code=CODE), {"a.jpg": GOOD, "b.jpg": CORRUPT})
    r = httpx.post(f"{service['base']}/api/v1/batches", content=body, headers=station, timeout=30)
    assert r.status_code == 202, r.text
    wait_for(lambda: _status(service)["state"] == "partial", 120, "the dossier partial")


def _fits(browser, width: int) -> None:  # type: ignore[no-untyped-def]
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_admin_changes_the_centre_adds_an_officer_and_resends_a_scan(  # type: ignore[no-untyped-def]
    service: dict, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _push_partial(service)
    base = service["base"]
    screen = SCREENS["1366x768"]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
    sign_in_officer(browser, service)

    browser.find_element(By.LINK_TEXT, "Quản trị").click()
    wait_for(lambda: "/can-bo/quan-tri" in browser.current_url, 10, "the admin page")
    policy = Select(browser.find_element(By.ID, "che-do-ky"))
    assert policy.first_selected_option.text == "Tự động ký tất cả (cấu hình hệ thống)"
    policy.select_by_value("auto_confident")
    browser.find_element(By.ID, "luu-trung-tam").click()
    wait_for_notice(browser, "Đã lưu thông tin trung tâm.")
    chosen = Select(browser.find_element(By.ID, "che-do-ky")).first_selected_option.text
    assert chosen == "Tự động ký bản chắc chắn, còn lại chờ xác nhận"

    browser.find_element(By.ID, "ten-dang-nhap").send_keys("hoa.pt")
    browser.find_element(By.ID, "ho-ten").send_keys("Phạm Thị Hoa")
    browser.find_element(By.ID, "chuc-vu").send_keys("Chuyên viên")
    Select(browser.find_element(By.ID, "vai-tro")).select_by_value("receiving_officer")
    browser.find_element(By.ID, "tao-can-bo").click()
    password = browser.find_element(By.ID, "mat-khau-moi").text
    assert len(password) >= 12
    row = browser.find_element(By.ID, "can-bo-hoa.pt").text
    assert "Phạm Thị Hoa" in row and "Cán bộ tiếp nhận" in row and "Chưa cài" in row
    # She forgets it before her first sign-in: the administrator gives her another, shown once.
    browser.find_element(By.CSS_SELECTOR, "#can-bo-hoa\\.pt form[action$='/dat-lai-mat-khau'] button").click()
    wait_for(lambda: browser.find_elements(By.ID, "mat-khau-dat-lai"), 10, "the reset password shown")
    again = browser.find_element(By.ID, "mat-khau-moi").text
    assert len(again) >= 12 and again != password
    _fits(browser, screen["width"])
    shot(browser, "admin-centre-1366x768")
    tablet = SCREENS["768x1024"]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", tablet)
    browser.get(f"{base}/can-bo/quan-tri")
    _fits(browser, tablet["width"])
    shot(browser, "admin-centre-768x1024")

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
    browser.get(f"{base}/can-bo/ho-so")
    browser.find_element(By.LINK_TEXT, CODE).click()
    wait_for(lambda: f"/can-bo/ho-so/{CODE}" in browser.current_url, 10, "the dossier page")
    assert "Lỗi" in browser.find_element(By.ID, "tp-anh").text
    scan = tmp_path / "anh-moi.jpg"
    scan.write_bytes(small_page("Ảnh chân dung bổ sung"))
    browser.find_element(By.ID, "tep-anh").send_keys(str(scan))
    form = browser.find_element(By.ID, "gui-lai-anh")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
    _fits(browser, screen["width"])
    shot(browser, "dossier-resend-1366x768")
    browser.find_element(By.CSS_SELECTOR, "#gui-lai-anh button[type=submit]").click()
    assert browser.find_element(By.ID, "thong-bao").text.startswith("Đã gửi lại thành phần")
    wait_for(lambda: _status(service)["components"][1]["state"] in ("awaiting", "done"), 120, "the new scan digitised")
    browser.refresh()
    assert not browser.find_elements(By.ID, "gui-lai-anh")  # no longer failed
    _fits(browser, screen["width"])
    shot(browser, "dossier-resent-1366x768")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", tablet)
    browser.refresh()
    _fits(browser, tablet["width"])

    services = Services(make_settings(service["var"], service["pki"]))
    try:
        with services.catalogue.reading() as s:
            actor = f"officer:{service['officer_account']['username']}"
            assert s.scalar(select(Centre.signing_policy).where(Centre.code == "default")) == "auto_confident"
            assert s.scalar(select(Officer.title).where(Officer.username == "hoa.pt")) == "Chuyên viên"
            actions = {(e.action, e.actor) for e in s.scalars(select(AuditEntry))}
            assert {("centre_update", actor), ("officer.create", actor), ("component_resend", actor)} <= actions
    finally:
        services.close()
