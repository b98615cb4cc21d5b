"""Real headless Chromium against the running service: an officer opens Thống kê from the workspace nav,
picks a period and a grouping, and reads their centre's figures in the table and the SVG charts; the CSV
and XLSX links download the same report.
Screenshots: ``test-artifacts/stats-1366x768.png``, ``stats-charts-1366x768.png``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from dossiers.services import Services
from storage.catalogue.models import Officer
from tests.conftest import make_settings
from tests.e2e.service import running_service, sign_in_officer, wait_for
from tests.e2e.test_browser import shot
from tests.stats_data import PERIOD, seed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("stats") / "var", shared_pki_dir) as svc:
        services = Services(make_settings(svc["var"], svc["pki"]))
        try:
            centres = seed(services.catalogue)
            with services.catalogue.session() as s:  # the development officer works at centre BD
                s.execute(
                    update(Officer)
                    .where(Officer.username == svc["officer_account"]["username"])
                    .values(centre_id=centres["BD"])
                )
        finally:
            services.close()
        yield svc


def test_an_officer_reads_the_figures_page(browser, service: dict) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False,
    })  # fmt: skip
    sign_in_officer(browser, service)
    browser.find_element(By.ID, "nav-thong-ke").click()
    wait_for(lambda: "/can-bo/thong-ke" in browser.current_url, 10, "the statistics page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Thống kê số hóa hồ sơ và kết quả giải quyết"

    for field, value in (("from", PERIOD[0]), ("to", PERIOD[1])):
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), value)
    Select(browser.find_element(By.ID, "by")).select_by_value("month")
    browser.find_element(By.ID, "xem-thong-ke").click()
    wait_for(lambda: "by=month" in browser.current_url, 10, "the report by month")

    table = browser.find_element(By.ID, "bang-thong-ke")
    rows = [
        [c.text for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert [r[0] for r in rows] == ["Tháng 01/2026", "Tháng 02/2026", "Tổng cộng"]
    assert rows[0][1:3] == ["4/5 = 80,00 %", "1/1 = 100,00 %"]
    assert rows[1][1:3] == ["1/3 = 33,33 %", "1/2 = 50,00 %"]
    assert rows[2][1:] == [
        "5/8 = 62,50 %", "2/3 = 66,67 %", "7/12 = 58,33 %", "1/8 = 12,50 %", "2/4 = 50,00 %", "2/4 = 50,00 %",
        "00:45:00",
    ]  # fmt: skip
    assert "Hoàn Kiếm" not in browser.page_source  # the other centre's figures are not shown

    chart = browser.find_element(By.ID, "bieu-do-tiep-nhan")
    svg = chart.find_element(By.TAG_NAME, "svg")
    assert svg.get_attribute("role") == "img"
    title = svg.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert title == "Tỷ lệ số hóa thành phần hồ sơ khi tiếp nhận"
    bars = svg.find_elements(By.CSS_SELECTOR, "g.bar")
    assert len(bars) == 2 and svg.size["width"] > 300
    widths = [float(b.find_elements(By.TAG_NAME, "rect")[1].get_attribute("width") or 0) for b in bars]
    assert widths == [272.0, 113.3]  # 80 % and 33,33 % of 340
    shot(browser, "stats-1366x768")
    refused = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []  # the charts are plain SVG: no inline style or script
    browser.execute_script("arguments[0].scrollIntoView()", chart)
    shot(browser, "stats-charts-1366x768")

    # The CSV link downloads the same report (read with the session's cookie).
    link = browser.find_element(By.ID, "tai-csv").get_attribute("href")
    assert link is not None
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    r = httpx.get(link, cookies=cookies, timeout=30)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows_csv = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows_csv[5][:3] == ["Tháng 01/2026", "5", "4"] and rows_csv[-1][:3] == ["Tổng cộng", "8", "5"]
    assert browser.find_element(By.ID, "tai-xlsx").get_attribute("href").endswith("format=xlsx")  # type: ignore[union-attr]
