"""Real headless Chromium against the running service: an officer works the review queue on a 1366×768
counter screen and a 768×1024 tablet. The needs-review component comes first with its reason; the officer
opens it (page image beside the OCR text), corrects its type and a field, and confirms the copy.

The officer's personal API key is sent by the browser as a header (DevTools): scripts at the counter
use it too (the sign-in itself is tested in test_officer_browser.py and test_officer_day.py).
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.corpus import templates
from dossiers.services import Services
from storage.catalogue.clients import create_client
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.officers import create_centre, create_officer
from testkit.batches import make_zip, manifest
from tests.conftest import make_settings
from tests.e2e.service import APPLICANT_ID, running_service, wait_for, wait_for_notice
from tests.e2e.test_browser import announcement_jpeg, shot
from tests.review.conftest import jpeg

pytestmark = pytest.mark.integration

SCREENS = {
    "1366x768": {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False},
    "768x1024": {"width": 768, "height": 1024, "deviceScaleFactor": 1, "mobile": True},
}
CODE = "000.00.12.H26-261206-0777"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("officer") / "var", shared_pki_dir) as svc:
        services = Services(make_settings(svc["var"], svc["pki"]))
        # A centre that confirms every copy before it is signed, its scanning station and receiving officer.
        centre = create_centre(services.catalogue, "HB", "UBND phường Hàng Bạc", place="Hàng Bạc")
        officer = create_officer(services.catalogue, "mai.le", "Lê Thị Mai", OfficerRole.RECEIVING, centre)
        svc["officer_key"] = create_client(services.catalogue, "Lê Thị Mai", ClientRole.OFFICER, officer_id=officer)
        svc["hb_station_key"] = create_client(services.catalogue, "Trạm Hàng Bạc", ClientRole.STATION, centre_id=centre)
        services.close()
        yield svc


def _push(service: dict) -> None:
    m = manifest(
        [
            {"id": "ks", "declared_type": "birth_certificate", "name": "Giấy khai sinh", "files": ["ks.jpg"]},
            {"id": "tb", "name": "Thông báo", "files": ["tb.jpg"]},
        ],
        code=CODE,
    )
    m["applicant_id"] = APPLICANT_ID
    station = {"Authorization": f"Bearer {service['hb_station_key']}", "Content-Type": "application/zip"}
    body = make_zip(m, {"ks.jpg": jpeg(templates.birth_certificate()), "tb.jpg": announcement_jpeg()})
    r = httpx.post(f"{service['base']}/api/v1/batches", content=body, headers=station, timeout=30)
    assert r.status_code == 202, r.text

    def digitised() -> bool:
        status = httpx.get(f"{service['base']}/api/v1/dossiers/{CODE}", headers=station).json()
        return all(c["state"] == "awaiting" for c in status["components"])  # the centre confirms every copy

    wait_for(digitised, 90, "both components digitised")


def _fits(browser, width: int) -> None:  # type: ignore[no-untyped-def]
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px screen"


def test_officer_reviews_corrects_and_confirms(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _push(service)
    base = service["base"]
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {service['officer_key']}"}}
    )
    screen = SCREENS["1366x768"]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", screen)
    browser.get(f"{base}/can-bo/hang-cho?trang-thai=all")
    items = browser.find_elements(By.CSS_SELECTOR, "#hang-cho > li")
    assert len(items) == 2
    first = items[0]
    assert "Thông báo" in first.text and "Cần kiểm tra" in first.text
    reasons = [li.text for li in first.find_elements(By.CSS_SELECTOR, "ul.reasons li")]
    assert any("loại giấy tờ" in r for r in reasons), reasons
    assert "Cần kiểm tra" not in items[1].text
    _fits(browser, screen["width"])
    shot(browser, "officer-queue-1366x768")

    first.find_element(By.CSS_SELECTOR, "a.queue-link").click()
    image = browser.find_element(By.ID, "anh-trang-1")
    wait_for(
        lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image),
        30,
        "the page image",
    )
    assert browser.find_element(By.ID, "ocr-trang-1").text.strip()
    # Page image and OCR text side by side on the counter screen.
    pages = browser.find_element(By.CSS_SELECTOR, "section.pages").rect
    read = browser.find_element(By.CSS_SELECTOR, "section.read").rect
    assert read["x"] >= pages["x"] + pages["width"] - 1
    _fits(browser, screen["width"])
    shot(browser, "officer-workspace-1366x768")

    Select(browser.find_element(By.ID, "loai")).select_by_value("residence_confirmation")
    browser.find_element(By.ID, "truong-moi-ten").send_keys("so_dinh_danh")
    browser.find_element(By.ID, "truong-moi-gia-tri").send_keys("001090012345")
    browser.find_element(By.ID, "luu").click()
    wait_for_notice(browser, "Đã lưu sửa đổi.")
    assert Select(browser.find_element(By.ID, "loai")).first_selected_option.get_attribute("value") == (
        "residence_confirmation"
    )
    assert browser.find_element(By.ID, "truong-so_dinh_danh").get_attribute("value") == "001090012345"
    shot(browser, "officer-corrected-1366x768")
    component_url = browser.current_url.split("?")[0]

    browser.find_element(By.ID, "xac-nhan").click()
    wait_for_notice(browser, "Đã xác nhận bản sao khớp bản giấy.")
    shot(browser, "officer-confirmed-1366x768")

    tablet = SCREENS["768x1024"]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", tablet)
    browser.get(f"{base}/can-bo/hang-cho?trang-thai=all")
    assert "Cần kiểm tra" not in browser.find_element(By.ID, "hang-cho").text  # nothing left to review
    _fits(browser, tablet["width"])
    shot(browser, "officer-queue-768x1024")
    browser.get(component_url)
    image = browser.find_element(By.ID, "anh-trang-1")
    wait_for(
        lambda: browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image),
        30,
        "the page image",
    )
    _fits(browser, tablet["width"])
    shot(browser, "officer-workspace-768x1024")
    browser.get(f"{base}/can-bo/ho-so")
    assert CODE in browser.find_element(By.ID, "ho-so").text
    _fits(browser, tablet["width"])
    shot(browser, "officer-dossiers-768x1024")

    officer = {"Authorization": f"Bearer {service['officer_key']}"}
    component_id = component_url.rsplit("/", 1)[1]
    view = httpx.get(f"{base}/api/v1/workspace/components/{component_id}", headers=officer).json()
    assert view["type"] == "residence_confirmation" and view["needs_review"] is False
    assert view["confirmed_at"] is not None
    assert [c["path"] for c in view["corrections"]] == ["type", "fields.so_dinh_danh"]
