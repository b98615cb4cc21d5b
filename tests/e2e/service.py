"""Run ``sohoa serve`` as a real process on a free loopback port, for end-to-end and browser tests."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from signing.dev import existing_dev_pki
from testkit.batches import make_zip, manifest
from testkit.servers import free_port, start_owned, wait_ready


@contextmanager
def running_service(
    var: Path, pki: Path, *, keep_pki_url: bool = True, args: tuple[str, ...] = (), **env_extra: str
) -> Iterator[dict]:
    """Start the service, wait for /readyz, yield its base URL and development keys, stop it.

    ``keep_pki_url``: an existing (shared) PKI keeps naming the responders the test session serves;
    without it, the service re-issues the PKI's certificates for its own address, as it does in use.
    ``args``: more arguments of ``sohoa serve`` (``--processes 2``).
    """
    var.mkdir(parents=True, exist_ok=True)
    port = free_port()
    shared = existing_dev_pki(pki) if keep_pki_url else None
    keep_url = {"SOHOA_SIGNING__DEV_PKI_URL": shared.base_url} if shared and shared.base_url else {}
    env = (
        os.environ
        | keep_url
        | {
            "SOHOA_VAR_DIR": str(var),
            "SOHOA_SIGNING__PKI_DIR": str(pki),
            "SOHOA_API__PORT": str(port),
            "SOHOA_WORKERS__POLL_INTERVAL_S": "0.1",
            **env_extra,
        }
    )
    log_path = var.parent / "service.log"
    with open(log_path, "wb") as log:
        proc = start_owned([sys.executable, "-m", "cli.main", "serve", *args], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/readyz", proc, log_path, timeout=60)
            creds = json.loads((var / "dev-credentials.json").read_text())
            yield {"base": base, "port": port, "var": var, "pki": pki, "pid": proc.pid, **creds}
        finally:
            proc.terminate()
            proc.wait(20)


APPLICANT_ID, BIRTH = "001090012345", "1990-03-15"


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something true, and return that; a safety net, not a timing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def signed_result(service: dict, dossier_code: str = "000.00.12.H26-261121-0501") -> str:
    """A dossier pushed by the station (its one scan is broken, so no OCR runs) and a signed e-result."""
    m = manifest([{"id": "hong", "files": ["hong.jpg"]}], code=dossier_code) | {"applicant_birth_date": BIRTH}
    station = {"Authorization": f"Bearer {service['station_key']}", "Content-Type": "application/zip"}
    r = httpx.post(
        f"{service['base']}/api/v1/batches", content=make_zip(m, {"hong.jpg": b"\xff\xd8 broken"}), headers=station
    )
    assert r.status_code in (200, 202), r.text
    officer = httpx.Client(base_url=service["base"], headers={"Authorization": f"Bearer {service['officer_key']}"})
    spec = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn với ai."], "level": "B-T"}
    issued = officer.post(f"/api/v1/dossiers/{dossier_code}/results/from-template", json=spec)
    assert issued.status_code == 202, issued.text
    result = issued.json()["code"]
    wait_for(lambda: officer.get(f"/api/v1/results/{result}").json()["state"] == "done", 30, "the signed result")
    return result


def sign_in_officer(browser, service: dict) -> None:  # type: ignore[no-untyped-def]
    """Sign ``browser`` in as the development service's centre admin (password, then a TOTP code)."""
    from selenium.webdriver.common.by import By

    from storage.accounts import totp

    account = service["officer_account"]
    browser.get(f"{service['base']}/can-bo/dang-nhap")
    browser.find_element(By.ID, "ten_dang_nhap").send_keys(account["username"])
    browser.find_element(By.ID, "mat_khau").send_keys(account["password"])
    browser.find_element(By.ID, "dang-nhap").click()
    wait_for(lambda: "/can-bo/dang-nhap/ma-xac-thuc" in browser.current_url, 10, "the TOTP step")
    step = service.setdefault("_totp_step", totp.current_step() - 1) + 1  # each code is accepted once
    service["_totp_step"] = step = max(step, totp.current_step())
    browser.find_element(By.ID, "ma").send_keys(totp.code_at(account["totp_secret"], step))
    browser.find_element(By.ID, "xac-nhan").click()
    wait_for(lambda: "/can-bo/dang-nhap" not in browser.current_url, 10, "the signed-in page")


def wait_for_notice(browser, text: str, element_id: str = "thong-bao") -> None:  # type: ignore[no-untyped-def]
    """Wait for the page a form post leads to to show ``text`` in its notice: until it has loaded, the old
    page (which may show an earlier notice) is still there."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def shown() -> bool:
        try:
            return browser.find_element(By.ID, element_id).text == text
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    wait_for(shown, 20, f"the notice {text!r}")
