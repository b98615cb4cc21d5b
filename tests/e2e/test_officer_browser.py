"""An officer signs in in real headless Chromium: password, then a TOTP code, and lands on the officer page.

The development service makes its centre admin on first start (var/dev-credentials.json: username,
password, TOTP secret); the test computes the code as the officer's phone would. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.accounts import totp
from tests.e2e.service import running_service, sign_in_officer, wait_for

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    with running_service(tmp_path_factory.mktemp("officer-browser") / "var", shared_pki_dir) as svc:
        yield svc


def shot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_officer_signs_in_with_password_and_totp(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    account = service["officer_account"]
    browser.get(f"{service['base']}/can-bo")  # signed out: sent to the sign-in page
    wait_for(lambda: "/can-bo/dang-nhap" in browser.current_url, 10, "the sign-in page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Đăng nhập cán bộ"

    browser.find_element(By.ID, "ten_dang_nhap").send_keys(account["username"])
    browser.find_element(By.ID, "mat_khau").send_keys("sai-mat-khau")
    browser.find_element(By.ID, "dang-nhap").click()
    assert "không đúng" in browser.find_element(By.ID, "loi").text
    shot(browser, "officer-1-wrong-password")

    browser.find_element(By.ID, "mat_khau").send_keys(account["password"])
    browser.find_element(By.ID, "dang-nhap").click()
    wait_for(lambda: "/can-bo/dang-nhap/ma-xac-thuc" in browser.current_url, 10, "the TOTP step")
    shot(browser, "officer-2-totp-step")
    service["_totp_step"] = step = totp.current_step()  # sign_in_officer below uses a later one
    browser.find_element(By.ID, "ma").send_keys(totp.code_at(account["totp_secret"], step))
    browser.find_element(By.ID, "xac-nhan").click()
    wait_for(lambda: browser.current_url.endswith("/can-bo/hang-cho"), 10, "the review queue")
    assert "Quản trị phát triển" in browser.find_element(By.ID, "can-bo-ten").text
    nav = browser.find_element(By.ID, "nav-can-bo").text
    assert "Hàng chờ kiểm tra" in nav and "Quản trị" in nav and "Đăng xuất" in nav
    cookies = {c["name"]: c for c in browser.get_cookies()}
    assert cookies["sohoa_officer"]["httpOnly"] and cookies["sohoa_officer"]["sameSite"] == "Lax"
    assert browser.execute_script("return document.cookie").find("sohoa_officer") == -1  # scripts cannot read it
    shot(browser, "officer-3-signed-in")

    browser.find_element(By.ID, "dang-xuat").click()
    wait_for(lambda: "da_dang_xuat" in browser.current_url, 10, "the signed-out page")
    assert "Bạn đã đăng xuất" in browser.find_element(By.ID, "thong-bao").text
    browser.get(f"{service['base']}/can-bo")
    wait_for(lambda: "/can-bo/dang-nhap" in browser.current_url, 10, "the sign-in page again")

    sign_in_officer(browser, service)  # the helper other browser tests use
    assert browser.current_url.endswith("/can-bo/hang-cho")
    assert "Quản trị phát triển" in browser.find_element(By.ID, "can-bo-ten").text
