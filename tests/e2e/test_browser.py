"""Real headless Chromium (Debian's, driven by Selenium + chromedriver) against the running service.

A citizen looks up a result on a phone-sized screen, downloads the signed PDF and verifies it;
a station pushes a batch in the station console and watches its progress. Screenshots go to
``test-artifacts/`` (gitignored). No browser is ever downloaded: the Debian binaries are used.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.corpus.render import Line, render_page
from digitizer import review
from testkit.batches import make_zip, manifest
from tests.e2e.service import APPLICANT_ID, running_service, signed_result, wait_for

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("browser") / "var", shared_pki_dir) as svc:
        yield svc


def announcement_jpeg() -> bytes:
    """A plain announcement page: a counter receives these too, and none is a known document type."""
    lines = [
        Line("BAN QUẢN LÝ CHỢ ĐỒNG XUÂN", bold=True),
        Line("THÔNG BÁO", "center", bold=True, scale=1.2),
        Line("Về việc sắp xếp lại các quầy hàng khu vực tầng một", "center"),
        Line("Từ thứ Hai tuần sau, các hộ kinh doanh quần áo chuyển sang dãy phía đông"),
        Line("để thi công sửa chữa mái che. Đề nghị các hộ thu dọn hàng hóa trước 18 giờ"),
        Line("Chủ nhật và giữ gìn trật tự trong thời gian thi công. Trân trọng thông báo."),
    ]
    buf = io.BytesIO()
    render_page(lines, dpi=200).image.save(buf, "JPEG", quality=85, dpi=(200, 200))
    return buf.getvalue()


def shot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_citizen_looks_up_downloads_and_verifies_on_a_phone(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    code = signed_result(service)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    browser.get(f"{service['base']}/tra-cuu")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Tra cứu kết quả")
    browser.find_element(By.ID, "ma_ket_qua").send_keys(code)
    browser.find_element(By.ID, "so_dinh_danh").send_keys("999999")
    browser.find_element(By.ID, "ngay_sinh").send_keys("15/03/1990")
    browser.find_element(By.ID, "tra-cuu").click()
    assert "không khớp" in browser.find_element(By.ID, "loi").text
    shot(browser, "citizen-1-wrong-check-phone")

    browser.find_element(By.ID, "ma_ket_qua").clear()
    browser.find_element(By.ID, "ma_ket_qua").send_keys(code)
    browser.find_element(By.ID, "so_dinh_danh").send_keys(APPLICANT_ID[-6:])
    browser.find_element(By.ID, "ngay_sinh").send_keys("15/03/1990")
    browser.find_element(By.ID, "tra-cuu").click()
    wait_for(lambda: "/tra-cuu/ket-qua/" in browser.current_url, 10, "the result page")
    assert "Tài liệu hợp lệ" in browser.find_element(By.ID, "ket-luan").text
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"
    shot(browser, "citizen-2-result-phone")

    browser.find_element(By.ID, "tai-ve").click()
    pdf = wait_for(
        lambda: next((p for p in browser.downloads.glob("*.pdf") if p.stat().st_size > 0), None), 15, "the download"
    )
    time.sleep(0.3)  # let Chromium finish renaming the .crdownload
    assert pdf.name == f"{code}.pdf" and pdf.read_bytes().startswith(b"%PDF")

    browser.get(f"{service['base']}/kiem-tra?ma={code}")
    browser.find_element(By.ID, "tep").send_keys(str(pdf))
    browser.find_element(By.ID, "kiem-tra").click()
    assert "Tài liệu hợp lệ" in wait_for(lambda: browser.find_elements(By.ID, "ket-luan"), 15, "the report")[0].text
    assert "trùng khớp từng byte" in browser.find_element(By.ID, "doi-chieu").text
    shot(browser, "citizen-3-verified-phone")

    # The QR code's target, opened by someone else: verification only, no download.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(f"{service['base']}/tra-cuu/ket-qua/{code}")
    assert "Tài liệu hợp lệ" in browser.find_element(By.ID, "ket-luan").text
    browser.implicitly_wait(0)
    assert not browser.find_elements(By.ID, "tai-ve")
    shot(browser, "citizen-4-qr-page-phone")


def test_station_pushes_a_batch_and_watches_progress(  # type: ignore[no-untyped-def]
    service: dict, browser, sample_batch: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    scan = (sample_batch / "c2_back.jpg").read_bytes()
    m = manifest(
        [
            {"id": "cccd", "declared_type": "citizen_id_card", "name": "Căn cước (mặt sau)", "files": ["mat-sau.jpg"]},
            {"id": "hong", "declared_type": "other", "name": "Ảnh hỏng", "files": ["hong.jpg"]},
            {"id": "tb", "name": "Thông báo", "files": ["tb.jpg"]},
        ],
        code="000.00.12.H26-261121-0502",
    )
    batch = tmp_path / "lo-ho-so.zip"
    batch.write_bytes(make_zip(m, {"mat-sau.jpg": scan, "hong.jpg": scan[:2000], "tb.jpg": announcement_jpeg()}))

    browser.get(f"{service['base']}/tram-quet")
    browser.find_element(By.ID, "khoa").send_keys(service["station_key"])
    browser.find_element(By.ID, "lo").send_keys(str(batch))
    browser.find_element(By.ID, "gui").click()
    code = wait_for(lambda: browser.find_element(By.ID, "ma-ho-so").text, 10, "the receipt")
    assert code == m["dossier_code"]
    shot(browser, "station-1-receipt")
    box = browser.find_element(By.ID, "bien-nhan")
    wait_for(lambda: box.get_attribute("data-done") == "1", 45, "the batch to finish")
    states = {li.get_attribute("data-ref"): li for li in browser.find_elements(By.CSS_SELECTOR, "#thanh-phan li")}
    assert states["cccd"].get_attribute("data-state") == "done"
    assert states["hong"].get_attribute("data-state") == "failed" and "IMAGE_CORRUPT" in states["hong"].text
    # The announcement is none of the known types: the console says it needs an officer, and why, in Vietnamese.
    assert states["tb"].get_attribute("data-state") == "done" and states["tb"].get_attribute("data-needs-review")
    assert "Cần cán bộ kiểm tra" in states["tb"].text
    reasons = states["tb"].find_elements(By.CSS_SELECTOR, "ul.ly-do li")
    assert {r.get_attribute("data-code") for r in reasons} & {"UNFAMILIAR_TEXT", "TYPE_UNCERTAIN"}
    assert all(review.message(r.get_attribute("data-code")) == r.text for r in reasons)
    assert not states["cccd"].get_attribute("data-needs-review")
    assert browser.find_element(By.ID, "trang-thai").text == "Hoàn thành một phần"
    shot(browser, "station-2-progress-done")
    status = httpx.get(
        f"{service['base']}/api/v1/dossiers/{code}", headers={"Authorization": f"Bearer {service['station_key']}"}
    ).json()
    assert status["progress"] == {"done": 2, "failed": 1, "total": 3}
    (ARTIFACTS / "station-status.json").write_text(json.dumps(status, ensure_ascii=False, indent=2))
