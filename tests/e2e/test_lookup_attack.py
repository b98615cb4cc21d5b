"""A result under attack, on the running service: strangers at many addresses, a hostile page, the applicant's browser.

Real sockets: each stranger connects from an address of its own (127.0.0.x: all of 127/8 reaches
loopback on Linux), so the service sees them as the different clients they would be. The
applicant looks up from yet another address, with no cookie of the portal, and gets in. The
browser tests drive Debian's Chromium: its script solves the proof of work in a Web Worker, and a
hostile page on another origin cannot spend the tries of the browser's address.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from api import proof_of_work
from tests.e2e.service import APPLICANT_ID, running_service, signed_result, wait_for

pytestmark = pytest.mark.integration

WRONG = "Thông tin tra cứu không khớp"
FORGED = "không được gửi từ trang của Cổng"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, shared_pki_dir: Path) -> Iterator[dict]:
    env = {
        "SOHOA_API__METRICS_TOKEN": "do-thu",
        "SOHOA_API__LOOKUP_POW_MIN_BITS": "12",  # a test's worth of work; the default asks seconds of a phone
        "SOHOA_API__LOOKUP_POW_MAX_BITS": "14",
    }
    with running_service(tmp_path_factory.mktemp("attack") / "var", shared_pki_dir, **env) as svc:
        yield svc


def client_at(service: dict, address: str) -> httpx.Client:
    """A client whose connections leave from ``address``: to the service, another client."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=service["base"], transport=transport, follow_redirects=True)


def guess(client: httpx.Client, code: str, tail: str) -> httpx.Response:
    """A lookup as a script sends it: with the proof of work the service asks for (when it does)."""
    form = {"ma_ket_qua": code, "so_dinh_danh": tail, "ngay_sinh": "15/03/1990"}
    asked = client.get("/tra-cuu/thu-thach", params={"ma": code})
    if asked.status_code == 200 and asked.json()["required"]:
        challenge = asked.json()["challenge"]
        form |= {"pow_challenge": challenge, "pow_nonce": proof_of_work.solve(challenge)}
    return client.post("/tra-cuu", data=form)


def metric(service: dict, line: str) -> float:
    text = httpx.get(f"{service['base']}/metrics", headers={"Authorization": "Bearer do-thu"}).text
    found = [row for row in text.splitlines() if row.startswith(line + " ")]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def test_strangers_at_many_addresses_cannot_lock_the_applicant_out(service: dict) -> None:
    code = signed_result(service, "000.00.12.H26-261121-0601")
    statuses: dict[str, list[int]] = {}
    for n in range(11, 17):  # six strangers, four guesses each: far past the old five per result
        with client_at(service, f"127.0.0.{n}") as stranger:
            statuses[f"127.0.0.{n}"] = [guess(stranger, code, f"{n}{k:04d}").status_code for k in range(4)]
    with client_at(service, "127.0.0.50") as applicant:  # a fresh browser, no cookie of the portal
        answer = guess(applicant, code, APPLICANT_ID[-6:])
    assert answer.status_code == 200 and f"/tra-cuu/ket-qua/{code}" in str(answer.url), answer.text[-600:]
    assert "Tải kết quả" in answer.text
    evaluated = sum(s.count(403) for s in statuses.values())
    assert evaluated >= 12, statuses  # each stranger had its own few tries ...
    assert all(s[-1] == 429 for s in statuses.values()), statuses  # ... and then had to wait, each for itself
    assert metric(service, "sohoa_lookup_attack_alerts_total") >= 1
    assert "citizen lookup under attack: result=" + code in (service["var"].parent / "service.log").read_text()


def test_the_applicant_s_browser_solves_the_proof_of_work(service: dict, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    code = signed_result(service, "000.00.12.H26-261121-0602")
    for n in range(21, 24):
        with client_at(service, f"127.0.0.{n}") as stranger:
            assert guess(stranger, code, "000000").status_code == 403
    with client_at(service, "127.0.0.60") as plain:  # a post without the proof is not checked now
        form = {"ma_ket_qua": code, "so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"}
        refused = plain.post("/tra-cuu", data=form)
        assert refused.status_code == 429 and "bật JavaScript" in refused.text
    asked_before = metric(service, 'sohoa_citizen_lookups_total{outcome="proof_required"}')

    browser.get(f"{service['base']}/tra-cuu")
    browser.find_element(By.ID, "ma_ket_qua").send_keys(code)
    browser.find_element(By.ID, "so_dinh_danh").send_keys(APPLICANT_ID[-6:])
    browser.find_element(By.ID, "ngay_sinh").send_keys("15/03/1990")
    browser.find_element(By.ID, "tra-cuu").click()
    wait_for(lambda: "/tra-cuu/ket-qua/" in browser.current_url, 60, "the result page")
    assert "Tài liệu hợp lệ" in browser.find_element(By.ID, "ket-luan").text
    assert browser.find_element(By.ID, "tai-ve")  # the download: the check passed
    assert metric(service, 'sohoa_citizen_lookups_total{outcome="proof_required"}') == asked_before  # proven at once
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in severe if "status of 404" not in m] == []  # no script or worker refused by the CSP


@pytest.fixture
def hostile_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Another origin (``localhost`` on a port of its own) serving whatever page a test writes there."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def test_a_hostile_page_cannot_spend_the_tries_of_its_visitors(service: dict, browser, hostile_site) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    code = signed_result(service, "000.00.12.H26-261121-0603")
    origin, folder = hostile_site
    fields = {"ma_ket_qua": code, "so_dinh_danh": "000001", "ngay_sinh": "01/01/2000"}
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    action = f"{service['base']}/tra-cuu"
    (folder / "trang.html").write_text(
        f'<form id="f" method="post" action="{action}">{inputs}</form>'
        '<script>document.getElementById("f").submit()</script>'
    )
    for _ in range(12):  # past the old limits: ten failures per address, five per result
        browser.get(f"{origin}/trang.html")
        text = wait_for(lambda: browser.find_elements(By.ID, "loi"), 15, "the portal's answer")[0].text
        assert FORGED in text, text
    # The visitor's own lookup, from the same browser and address, is checked as if nothing happened.
    browser.get(f"{service['base']}/tra-cuu")
    browser.find_element(By.ID, "ma_ket_qua").send_keys(code)
    browser.find_element(By.ID, "so_dinh_danh").send_keys(APPLICANT_ID[-6:])
    browser.find_element(By.ID, "ngay_sinh").send_keys("15/03/1990")
    browser.find_element(By.ID, "tra-cuu").click()
    wait_for(lambda: "/tra-cuu/ket-qua/" in browser.current_url, 30, "the result page")
    assert metric(service, 'sohoa_forged_posts_total{path="/tra-cuu"}') >= 12
