"""Citizen portal: look up with the applicant's check, download, verify; brute force limited; no IDOR."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import proof_of_work
from api.citizen import GRANT_COOKIE, client_tag, make_grant
from signing.validation import verify_pdf
from storage.catalogue.warehouse_models import AuditEntry
from tests.api.conftest import APPLICANT_ID, Api, issue_signed_result, push_dossier

CODE_A = "000.00.12.H26-261121-0101"
CODE_B = "000.00.12.H26-261121-0102"
OTHER_ID = "079200054321"


def lookup(api: Api, code: str, tail: str, birth: str):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/tra-cuu", data={"ma_ket_qua": code, "so_dinh_danh": tail, "ngay_sinh": birth}, follow_redirects=False
    )


def alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


@pytest.fixture
def results(api: Api) -> tuple[str, str]:
    push_dossier(api, CODE_A)
    push_dossier(api, CODE_B, applicant_id=OTHER_ID, birth="1985-12-01")
    return issue_signed_result(api, CODE_A), issue_signed_result(api, CODE_B)


def test_applicant_looks_up_downloads_and_sees_a_valid_report(api: Api, results: tuple[str, str]) -> None:
    code_a, _ = results
    assert code_a == f"{CODE_A}-KQ1"
    r = lookup(api, code_a.lower(), APPLICANT_ID[-6:], "15/03/1990")
    assert r.status_code == 303 and r.headers["location"] == f"/tra-cuu/ket-qua/{code_a}"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/tra-cuu" in cookie and "SameSite=lax" in cookie

    page = api.client.get(r.headers["location"])
    assert page.status_code == 200 and "Tải kết quả" in page.text
    assert "Tài liệu hợp lệ" in page.text and "Giấy xác nhận tình trạng hôn nhân" in page.text
    pdf = api.client.get(f"/tra-cuu/ket-qua/{code_a}/tai-ve")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert verify_pdf(pdf.content, api.services.trust_roots).valid

    with api.services.catalogue.session() as s:
        gets = s.scalars(select(AuditEntry).where(AuditEntry.action == "get").order_by(AuditEntry.seq)).all()
    # the result page read the PDF once to verify it (a pseudonymous client tag, not the address), then the download
    assert [e.actor.split(":")[0] for e in gets] == ["public", "citizen"]
    assert all(code_a in e.purpose for e in gets)
    assert gets[0].actor == f"public:{client_tag(api.client.app.state.portal_secret, 'testclient')}"


def test_iso_birth_date_is_accepted_too(api: Api, results: tuple[str, str]) -> None:
    assert lookup(api, results[0], APPLICANT_ID[-6:], "1990-03-15").status_code == 303


def test_every_failure_looks_the_same(api: Api, results: tuple[str, str]) -> None:
    code_a, code_b = results
    attempts = [
        (code_a, "999999", "15/03/1990"),  # wrong digits
        (code_a, APPLICANT_ID[-6:], "16/03/1990"),  # wrong birth date
        (code_a, APPLICANT_ID[-4:], "15/03/1990"),  # too few digits
        (code_b, APPLICANT_ID[-6:], "15/03/1990"),  # A's check on B's result
        (f"{CODE_A}-KQ9", APPLICANT_ID[-6:], "15/03/1990"),  # no such result
    ]
    answers = {(r.status_code, alert(r.text)) for r in (lookup(api, *a) for a in attempts)}
    assert len(answers) == 1
    status, message = answers.pop()
    assert status == 403 and message.startswith("Thông tin tra cứu không khớp")


def test_guesses_back_off_per_client_and_are_logged(make_api, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    api = make_api(lookup_free_failures=3, lookup_max_failures_per_ip=100, metrics_token="m")
    push_dossier(api, CODE_A)
    code = issue_signed_result(api, CODE_A)
    caplog.set_level(logging.INFO)
    for guess in ("000001", "000002", "000003"):
        assert lookup(api, code, guess, "15/03/1990").status_code == 403
    limited = lookup(api, code, APPLICANT_ID[-6:], "15/03/1990")  # this client waits now, even when right
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 30
    assert alert(limited.text) == "Bạn đã nhập sai nhiều lần. Vui lòng thử lại sau 30 giây."
    # No lock for everyone: from another address the applicant gets in at once.
    other = TestClient(api.client.app, client=("203.0.113.7", 5000))
    form = {"ma_ket_qua": code, "so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"}
    assert other.post("/tra-cuu", data=form, follow_redirects=False).status_code == 303
    failures = [r.getMessage() for r in caplog.records if "citizen lookup failed" in r.getMessage()]
    assert len(failures) == 3 and all(f"result={code}" in f for f in failures)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "000001" not in logged and "1990" not in logged and APPLICANT_ID not in logged
    with api.services.catalogue.session() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "lookup")).all()
    assert len(refused) == 3 and {e.outcome for e in refused} == {"refused"}
    metrics = api.client.get("/metrics", headers={"Authorization": "Bearer m"}).text
    assert metrics.count('sohoa_citizen_lookups_total{outcome="failed"} 3.0') == 1
    assert metrics.count('sohoa_citizen_lookups_total{outcome="limited"} 1.0') == 1
    assert 'sohoa_http_requests_total{method="POST",route="/tra-cuu",status="429"} 1.0' in metrics
    assert "sohoa_lookup_attack_alerts_total 0.0" in metrics  # one client is no attack


def test_a_result_under_attack_asks_every_browser_for_a_proof_of_work(  # type: ignore[no-untyped-def]
    make_api, caplog: pytest.LogCaptureFixture
) -> None:
    """Failures from three clients: an alert (audit, log, metric), then a proof per guess, which the applicant makes."""
    api = make_api(lookup_attack_clients=3, lookup_pow_min_bits=8, lookup_pow_max_bits=10, metrics_token="m")
    push_dossier(api, CODE_A)
    code = issue_signed_result(api, CODE_A)
    app = api.client.app
    caplog.set_level(logging.INFO)
    for n in range(3):
        stranger = TestClient(app, client=(f"198.51.100.{n + 1}", 5000))
        form = {"ma_ket_qua": code, "so_dinh_danh": "000000", "ngay_sinh": "01/01/2000"}
        assert stranger.post("/tra-cuu", data=form).status_code == 403
    alerts = [r.getMessage() for r in caplog.records if "under attack" in r.getMessage()]
    assert alerts == [f"citizen lookup under attack: result={code} failures=3 clients=3 proof_of_work_bits=8"]
    with api.services.catalogue.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "lookup-attack")).one()
    assert (entry.subject, entry.outcome, entry.detail) == (
        f"result:{code}",
        "alert",
        {"failures": 3, "clients": 3, "bits": 8},
    )

    # The applicant, from a fresh browser: without a proof, the page asks for one (and for JavaScript).
    unproven = lookup(api, code, APPLICANT_ID[-6:], "15/03/1990")
    assert unproven.status_code == 429 and "bật JavaScript" in alert(unproven.text)
    asked = api.client.get("/tra-cuu/thu-thach", params={"ma": code}).json()
    assert asked["required"] is True and asked["bits"] == 8
    challenge = asked["challenge"]
    proof = {"pow_challenge": challenge, "pow_nonce": proof_of_work.solve(challenge)}
    elsewhere = TestClient(app, client=("203.0.113.8", 5000))  # a challenge is bound to its client
    form = {"ma_ket_qua": code, "so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"} | proof
    assert elsewhere.post("/tra-cuu", data=form, follow_redirects=False).status_code == 429
    wrong = api.client.post("/tra-cuu", data=form | {"so_dinh_danh": "999999"}, follow_redirects=False)
    assert wrong.status_code == 403  # the proof bought one evaluated guess ...
    again = api.client.post("/tra-cuu", data=form, follow_redirects=False)
    assert again.status_code == 429 and "bật JavaScript" in alert(again.text)  # ... and only one
    fresh = api.client.get("/tra-cuu/thu-thach", params={"ma": code}).json()["challenge"]
    passed = api.client.post(
        "/tra-cuu",
        data=form | {"pow_challenge": fresh, "pow_nonce": proof_of_work.solve(fresh)},
        follow_redirects=False,
    )
    assert passed.status_code == 303
    # Now a trusted device: it needs no proof (its own window keeps it in check).
    assert api.client.get("/tra-cuu/thu-thach", params={"ma": code}).json() == {
        "required": False,
        "bits": 0,
        "challenge": None,
    }
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990").status_code == 303
    metrics = api.client.get("/metrics", headers={"Authorization": "Bearer m"}).text
    assert "sohoa_lookup_attack_alerts_total 1.0" in metrics
    assert 'sohoa_citizen_lookups_total{outcome="proof_required"} 3.0' in metrics


def test_brute_force_is_rate_limited_per_client(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(lookup_max_failures_per_ip=4, lookup_max_failures_per_code=100)
    for n in range(4):
        assert lookup(api, f"{CODE_A}-KQ{n}", "123456", "01/01/2000").status_code == 403
    assert lookup(api, f"{CODE_A}-KQ77", "123456", "01/01/2000").status_code == 429
    assert api.client.get(f"/tra-cuu/ket-qua/{CODE_A}-KQ1").status_code == 429  # enumeration through QR pages too


def test_a_passed_lookup_does_not_count_as_a_failure(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(lookup_max_failures_per_code=2, lookup_max_failures_per_ip=2)
    push_dossier(api, CODE_A)
    code = issue_signed_result(api, CODE_A)
    for _ in range(3):  # each from a browser that never passed before: counted in the shared windows
        api.client.cookies.clear()
        assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990").status_code == 303
    api.client.cookies.clear()
    assert lookup(api, code, "000001", "15/03/1990").status_code == 403
    assert api.client.get(f"/tra-cuu/ket-qua/{code}").status_code == 200  # a found result page is not a guess
    assert lookup(api, code, "000002", "15/03/1990").status_code == 403
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990").status_code == 429


def test_an_oversized_lookup_form_is_refused_before_it_is_parsed(api: Api) -> None:
    fields = {"ma_ket_qua": f"{CODE_A}-KQ1", "so_dinh_danh": "123456", "ngay_sinh": "01/01/2000"}
    big = {f"x{i}": "y" * 1000 for i in range(20)}
    assert api.client.post("/tra-cuu", data=fields | big, follow_redirects=False).status_code == 413


def test_citizen_a_cannot_reach_citizen_b(api: Api, results: tuple[str, str]) -> None:
    code_a, code_b = results
    assert lookup(api, code_a, APPLICANT_ID[-6:], "15/03/1990").status_code == 303
    grant_a = api.client.cookies.get(GRANT_COOKIE)
    assert grant_a
    # A's grant opens A's file only.
    assert api.client.get(f"/tra-cuu/ket-qua/{code_b}/tai-ve").status_code == 403
    page_b = api.client.get(f"/tra-cuu/ket-qua/{code_b}")
    assert page_b.status_code == 200 and "/tai-ve" not in page_b.text and CODE_B + "<" not in page_b.text
    # A grant rewritten for B, one for B under another secret, and garbage: all refused.
    _, expires, mac = grant_a.split("|")
    for forged in (f"{code_b}|{expires}|{mac}", make_grant(b"x" * 32, code_b, 600), "garbage", ""):
        api.client.cookies.set(GRANT_COOKIE, forged, path="/tra-cuu")
        assert api.client.get(f"/tra-cuu/ket-qua/{code_b}/tai-ve").status_code == 403, forged
        api.client.cookies.clear()
    # An expired grant for A is refused as well.
    api.client.cookies.set(GRANT_COOKIE, make_grant(api.client.app.state.portal_secret, code_a, -10), path="/tra-cuu")
    assert api.client.get(f"/tra-cuu/ket-qua/{code_a}/tai-ve").status_code == 403
    api.client.cookies.clear()
    # The API ids need keys; a station that did not push B's dossier sees nothing of it.
    assert api.client.get(f"/api/v1/results/{code_b}/pdf").status_code == 401
    from storage.catalogue.models import ClientRole

    other_station = api.key("Trạm khác", ClientRole.STATION)
    for path in (f"/api/v1/results/{code_b}", f"/api/v1/results/{code_b}/pdf", f"/api/v1/dossiers/{CODE_B}"):
        assert api.client.get(path, headers=other_station).status_code == 404, path
    for doc_id in range(1, 5):
        assert api.client.get(f"/api/v1/documents/{doc_id}/pdf", headers=other_station).status_code == 404


def test_qr_page_shows_verification_but_nothing_personal(api: Api, results: tuple[str, str]) -> None:
    code_a, _ = results
    page = api.client.get(f"/tra-cuu/ket-qua/{code_a}")
    assert page.status_code == 200
    assert "Tài liệu hợp lệ" in page.text and "Chữ ký 1" in page.text
    assert "/tai-ve" not in page.text and "Trần Thị Hoa" not in page.text and APPLICANT_ID not in page.text
    assert "Giấy xác nhận" not in page.text  # the title needs the check
    assert api.client.get(f"/tra-cuu/ket-qua/{code_a}/tai-ve").status_code == 403
    assert api.client.get(f"/tra-cuu/ket-qua/{CODE_A}-KQ9").status_code == 404


def test_without_a_recorded_birth_date_six_digits_pass(api: Api) -> None:
    push_dossier(api, CODE_A, birth=None)
    code = issue_signed_result(api, CODE_A)
    assert lookup(api, code, APPLICANT_ID[-6:], "").status_code == 303
    assert lookup(api, code, "000000", "").status_code == 403


def test_public_verify_page(api: Api, results: tuple[str, str]) -> None:
    code_a, _ = results
    assert lookup(api, code_a, APPLICANT_ID[-6:], "15/03/1990").status_code == 303
    pdf = api.client.get(f"/tra-cuu/ket-qua/{code_a}/tai-ve").content
    api.client.cookies.clear()

    ok = api.client.post("/kiem-tra", files={"tep": ("kq.pdf", pdf, "application/pdf")}, data={"ma_ket_qua": code_a})
    assert ok.status_code == 200 and "Tài liệu hợp lệ" in ok.text and "trùng khớp từng byte" in ok.text
    tampered = pdf.replace(b"/Producer", b"/Produces", 1) if b"/Producer" in pdf else pdf[:-200] + b"x" * 200
    bad = api.client.post("/kiem-tra", files={"tep": ("kq.pdf", tampered, "application/pdf")})
    assert bad.status_code == 200 and "KHÔNG hợp lệ" in bad.text
    junk = api.client.post("/kiem-tra", files={"tep": ("x.pdf", b"not a pdf", "application/pdf")})
    assert junk.status_code == 200 and "KHÔNG hợp lệ" in junk.text
    other = api.client.post("/kiem-tra", files={"tep": ("kq.pdf", pdf, "application/pdf")}, data={"ma_ket_qua": "X"})
    assert "KHÔNG trùng khớp" in other.text
    as_json = api.client.post("/api/v1/verify", content=pdf, headers={"Content-Type": "application/pdf"}).json()
    assert as_json["valid"] is True and as_json["signature_count"] == 1 and as_json["report_vi"]


def test_verify_upload_is_size_limited(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(verify_max_upload_bytes=4096)
    big = b"%PDF-1.7\n" + b"0" * 8192
    assert api.client.post("/kiem-tra", files={"tep": ("big.pdf", big, "application/pdf")}).status_code == 413
    as_page = api.client.post("/kiem-tra", files={"tep": ("big.pdf", big)}, headers={"Accept": "text/html"})
    assert as_page.status_code == 413 and "vượt quá dung lượng" in as_page.text and "<html" in as_page.text
    assert api.client.post("/api/v1/verify", content=big).status_code == 413


def test_public_verification_is_rate_limited_per_client(make_api) -> None:  # type: ignore[no-untyped-def]
    api = make_api(verify_burst_per_ip=2, verify_per_minute_per_ip=1, metrics_token="scrape")
    junk = {"tep": ("x.pdf", b"not a pdf", "application/pdf")}
    assert [api.client.post("/kiem-tra", files=junk).status_code for _ in range(2)] == [200, 200]
    page_429 = api.client.post("/kiem-tra", files=junk)
    assert page_429.status_code == 429 and "quá nhiều tệp" in page_429.text
    assert int(page_429.headers["retry-after"]) >= 1
    as_json = api.client.post("/api/v1/verify", content=b"not a pdf")
    assert as_json.status_code == 429 and as_json.json()["detail"]["code"] == "RATE_LIMITED"
    metrics = api.client.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
    assert 'sohoa_rate_limited_total{limit="verify"} 2.0' in metrics


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def hidden_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the form carries no csrf field"
    return found.group(1)


def test_portal_forms_refuse_posts_forged_by_another_site(api: Api, results: tuple[str, str]) -> None:
    code_a, _ = results
    form = {"ma_ket_qua": code_a, "so_dinh_danh": "000000", "ngay_sinh": "01/01/2000"}
    browser = {"User-Agent": BROWSER}
    forged = [
        browser | {"Origin": "https://ke-gian.example", "Sec-Fetch-Site": "cross-site"},
        browser | {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page too
        browser | {"Origin": "https://ke-gian.example"},  # a browser without fetch metadata
        browser | {"Origin": "null"},  # a sandboxed frame: proves nothing, and brings no token
        browser,  # an old browser that says nothing: no cookie, no token
    ]
    for headers in forged:
        r = api.client.post("/tra-cuu", data=form, headers=headers)
        assert r.status_code == 403 and "không được gửi từ trang của Cổng" in alert(r.text), headers
        v = api.client.post("/kiem-tra", files={"tep": ("x.pdf", b"%PDF-1.7", "application/pdf")}, headers=headers)
        assert v.status_code == 403 and "không được gửi từ trang của Cổng" in alert(v.text), headers
    with api.services.catalogue.session() as s:  # nothing was counted or checked
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "lookup")).all() == []

    # The portal's own page: its cookie and hidden field, sent back from the same origin, are accepted.
    api.client.cookies.clear()
    page = api.client.get("/tra-cuu", headers=browser)
    cookie = page.cookies.get("sohoa_csrf")
    assert cookie and "HttpOnly" in page.headers["set-cookie"] and "SameSite=lax" in page.headers["set-cookie"]
    token = hidden_token(page.text)
    same = browser | {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    ok = api.client.post("/tra-cuu", data=form | {"csrf": token}, headers=same)
    assert ok.status_code == 403 and alert(ok.text).startswith("Thông tin tra cứu không khớp")  # checked, wrong
    assert api.client.post("/tra-cuu", data=form | {"csrf": "0" * 32}, headers=same).status_code == 403
    assert "không được gửi" in alert(api.client.post("/tra-cuu", data=form | {"csrf": "0" * 32}, headers=same).text)
    verify_page = api.client.get("/kiem-tra", headers=browser)
    assert hidden_token(verify_page.text) == token  # one browser id for both forms
    v = api.client.post(
        "/kiem-tra", files={"tep": ("x.pdf", b"not a pdf", "application/pdf")}, data={"csrf": token}, headers=same
    )
    assert v.status_code == 200 and "KHÔNG hợp lệ" in v.text
    # A script (no browser's headers) is no CSRF victim: it needs no token, as the API's clients never did.
    api.client.cookies.clear()
    assert lookup(api, code_a, APPLICANT_ID[-6:], "15/03/1990").status_code == 303


def test_a_result_code_with_control_characters_is_refused(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    forged = "X-KQ1\n2026-12-01 09:00:00,000 INFO api.routes_portal citizen lookup passed: result=X-KQ1"
    r = lookup(api, forged, "123456", "01/01/2000")
    assert r.status_code == 422 and "ký tự không hợp lệ" in r.text
    for path in (
        "/tra-cuu/ket-qua/X%0AY",
        "/tra-cuu/ket-qua/X%0DY/tai-ve",
        "/tra-cuu?ma=X%E2%80%A8Y",
        "/kiem-tra?ma=X%1BY",
    ):
        page = api.client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 422 and "ký tự không hợp lệ" in page.text, path
    as_json = api.client.get("/tra-cuu/thu-thach", params={"ma": "X\tY"})
    assert as_json.status_code == 422 and as_json.json()["detail"]["code"] == "RESULT_CODE_INVALID"
    assert not any("passed" in r.getMessage() or "\n" in r.getMessage() for r in caplog.records)
    assert lookup(api, "  x-kq1\n", "123456", "01/01/2000").status_code == 403  # white space around is trimmed
