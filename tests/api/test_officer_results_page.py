"""The result officers' page in-process: a signed-in result officer issues an NĐ 30/2020 result from the
template form and from an uploaded PDF, for their own centre's dossiers only, once per form; receiving
officers cannot; the signed PDF is downloaded from the page (and the read audited)."""

from __future__ import annotations

import io
import re

import pikepdf
from sqlalchemy import select

from dossiers.result_render import render_result_pdf
from signing.validation import verify_pdf
from storage.catalogue.models import EResult, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from testkit.scheduling import run_steps
from tests.api.conftest import Api, push_dossier
from tests.officer_accounts import make_officer, sign_in

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "Accept": "text/html"}
CODE = "000.00.12.H26-261206-0801"


def _fields(html: str, form: int = 0) -> dict[str, str]:
    """The hidden fields of the page's ``form``-th issuing form (0: template, 1: upload)."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    keys = re.findall(r'name="form_key" value="([^"]+)"', html)
    assert csrf and len(set(keys)) == 2, "each form needs the csrf token and an idempotency key of its own"
    return {"csrf": csrf.group(1), "form_key": keys[form]}


def test_result_officer_issues_from_the_template_and_an_upload(api: Api) -> None:
    push_dossier(api, CODE)
    account = make_officer(api.services, "hoa.tt", role=OfficerRole.RESULT, centre="default", full_name="Trần Thị Hoa")
    sign_in(api.client, account)
    page = api.client.get("/can-bo/ket-qua", headers=BROWSER)
    assert page.status_code == 200 and "Ban hành từ mẫu" in page.text
    hidden = _fields(page.text)
    form = hidden | {
        "dossier_code": CODE,
        "title": "Giấy xác nhận tình trạng hôn nhân",
        "number": "12",
        "symbol": "XN-UBND",
        "body": "Ông Nguyễn Văn An chưa đăng ký kết hôn.\n\nGiấy này có giá trị 6 tháng.",
        "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
        "signer_name": "Lê Văn Cường",
        "recipients": "Ông Nguyễn Văn An;\nLưu: VT.",
        "level": "B-T",
    }
    first = api.client.post("/can-bo/ket-qua/mau", data=form, headers=BROWSER, follow_redirects=False)
    assert first.status_code == 303, first.text
    again = api.client.post("/can-bo/ket-qua/mau", data=form, headers=BROWSER, follow_redirects=False)
    assert again.headers["location"] == first.headers["location"]  # the same form sent twice: one result
    code = first.headers["location"].split("da=")[1]
    with api.services.catalogue.reading() as s:
        rows = s.scalars(select(EResult)).all()
        assert [r.code for r in rows] == [code]
        assert rows[0].officer_id == account.id and rows[0].centre_id is not None
    forged = api.client.post("/can-bo/ket-qua/mau", data=form | {"csrf": "x" * 20}, headers=BROWSER)
    assert forged.status_code == 403

    upload = {"dossier_code": CODE, "title": "Quyết định", "level": "B-T", "validity": "Không thời hạn"}
    upload |= _fields(page.text, 1)
    pdf_file = {"pdf": ("kq.pdf", render_result_pdf(["QUYẾT ĐỊNH", "Về việc cấp giấy phép"]), "application/pdf")}
    uploaded = api.client.post(
        "/can-bo/ket-qua/tai-len", data=upload, files=pdf_file, headers=BROWSER, follow_redirects=False
    )
    assert uploaded.status_code == 303, uploaded.text
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(EResult.validity).where(EResult.title == "Quyết định")) == "Không thời hạn"
    run_steps(api.services)
    listing = api.client.get("/can-bo/ket-qua", headers=BROWSER).text
    assert listing.count("Đã ký") >= 2 and code in listing
    signed = api.client.get(f"/can-bo/ket-qua/{code}.pdf", headers=BROWSER)
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    assert verify_pdf(signed.content, api.services.trust_roots).valid
    with pikepdf.open(io.BytesIO(signed.content)) as doc:
        x1, y1, x2, y2 = (float(v) for v in doc.pages[0].mediabox)
        assert abs(x2 - x1 - 595.28) < 0.5 and abs(y2 - y1 - 841.89) < 0.5
    with api.services.catalogue.reading() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.actor == "officer:hoa.tt")).all()
        assert any(e.purpose == "tải kết quả điện tử" for e in entries)  # the download
        issued = sorted(e.subject for e in entries if e.action == "issue_result")
        assert len(issued) == 2 and f"result:{code}" in issued  # each result issued once, by her


def test_other_centres_and_receiving_officers_cannot_issue(api: Api) -> None:
    push_dossier(api, CODE)
    other = make_officer(api.services, "binh.tv", role=OfficerRole.RESULT, centre="HK", full_name="Trần Văn Bình")
    sign_in(api.client, other)
    page = api.client.get("/can-bo/ket-qua", headers=BROWSER)
    form = _fields(page.text) | {"dossier_code": CODE, "title": "Giấy xác nhận"}
    refused = api.client.post("/can-bo/ket-qua/mau", data=form, headers=BROWSER)
    assert refused.status_code == 404 and "Không tìm thấy hồ sơ" in refused.text
    api_refused = api.client.post(
        f"/api/v1/dossiers/{CODE}/results/from-template",
        json={"title": "Giấy xác nhận"},
        headers=sign_in(api.client, other),
    )
    assert api_refused.status_code == 404
    with api.services.catalogue.reading() as s:
        assert s.scalars(select(EResult)).all() == []

    receiving = make_officer(api.services, "lan.nt", role=OfficerRole.RECEIVING, centre="default")
    sign_in(api.client, receiving)
    assert api.client.get("/can-bo/ket-qua", headers=BROWSER).status_code == 403
