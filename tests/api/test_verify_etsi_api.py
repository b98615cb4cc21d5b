"""The ETSI TS 119 102-2 validation report is reachable by its users: the API and the /kiem-tra page."""

from __future__ import annotations

import pytest

from dossiers.result_render import render_result_pdf
from signing.signers import sign_pdf
from signing.validation import main_indications
from tests.api.conftest import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def signed_lta(api: Api) -> bytes:
    services = api.services
    return sign_pdf(
        render_result_pdf(["Kết quả thử nghiệm báo cáo ETSI"]),
        services.signing_key("agency"),
        level="B-LTA",
        timestamper=services.timestamper,
        revocation=services.revocation,
    )


def test_api_returns_the_etsi_report(api: Api, signed_lta: bytes) -> None:
    ok = api.client.post("/api/v1/verify/etsi", content=signed_lta, headers={"Content-Type": "application/pdf"})
    assert ok.status_code == 200, ok.text
    assert ok.headers["content-type"].startswith("application/xml")
    assert main_indications(ok.text) == ["total-passed"]

    tampered = bytearray(signed_lta)
    at = tampered.index(b"Length") - 8  # a byte of the original content, inside the signed range
    tampered[at] = tampered[at] ^ 0x01
    bad = api.client.post("/api/v1/verify/etsi", content=bytes(tampered), headers={"Content-Type": "application/pdf"})
    assert bad.status_code == 200 and main_indications(bad.text) and "total-passed" not in main_indications(bad.text)

    junk = api.client.post("/api/v1/verify/etsi", content=b"not a pdf", headers={"Content-Type": "application/pdf"})
    assert junk.status_code == 422 and junk.json()["detail"]["code"] == "PDF_INVALID"


def test_verify_page_offers_the_etsi_report_as_a_download(api: Api, signed_lta: bytes) -> None:
    form = api.client.get("/kiem-tra").text
    assert 'name="dang" value="etsi"' in form and "ETSI" in form
    download = api.client.post(
        "/kiem-tra", files={"tep": ("kết quả.pdf", signed_lta, "application/pdf")}, data={"dang": "etsi"}
    )
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-disposition"].endswith('-etsi-119102-2.xml"')
    assert main_indications(download.text) == ["total-passed"]

    junk_file = {"tep": ("x.pdf", b"not a pdf", "application/pdf")}
    junk = api.client.post("/kiem-tra", files=junk_file, data={"dang": "etsi"})
    assert junk.status_code == 422 and "không đọc được" in junk.text
