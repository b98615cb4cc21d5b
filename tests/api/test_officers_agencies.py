"""Officers issue e-results from the template; agencies reuse documents only under a grant, audited."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from signing.validation import verify_pdf
from storage.catalogue.models import ClientRole
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.sharing import grant_access, register_agency
from testkit.poppler import pdftotext
from testkit.scheduling import run_steps
from tests.api.conftest import APPLICANT_ID, Api, add_signed_document, push_dossier

CODE = "000.00.12.H26-261121-0301"
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


def test_officer_renders_result_from_template_and_numbers_follow(api: Api, tmp_path: Path) -> None:
    push_dossier(api, CODE)
    spec = {"title": "Giấy xác nhận tình trạng hôn nhân", "body": ["Chưa đăng ký kết hôn."], "level": "B-B"}
    first = api.client.post(f"/api/v1/dossiers/{CODE}/results/from-template", json=spec, headers=api.officer)
    second = api.client.post(f"/api/v1/dossiers/{CODE}/results/from-template", json=spec, headers=api.officer)
    assert [first.json()["code"], second.json()["code"]] == [f"{CODE}-KQ1", f"{CODE}-KQ2"]
    assert first.json()["public_url"] == f"/tra-cuu/ket-qua/{CODE}-KQ1"
    run_steps(api.services)
    view = api.client.get(f"/api/v1/results/{CODE}-KQ1", headers=api.officer).json()
    assert view["state"] == "done" and view["level"] == "B-B"
    pdf = api.client.get(view["download_url"], headers=api.officer).content
    report = verify_pdf(pdf, api.services.trust_roots)
    assert report.valid and report.signatures[0].level == "B-B"
    (tmp_path / "kq.pdf").write_bytes(pdf)
    text = " ".join(pdftotext(tmp_path / "kq.pdf").split())
    assert "GIẤY XÁC NHẬN TÌNH TRẠNG HÔN NHÂN" in text and f"Mã hồ sơ: {CODE}" in text and "Trần Thị Hoa" in text


def test_template_and_upload_refusals(api: Api) -> None:
    push_dossier(api, CODE)
    url = f"/api/v1/dossiers/{CODE}/results/from-template"
    assert api.client.post(url, json={"title": ""}, headers=api.officer).status_code == 422
    assert api.client.post(url, json={"title": "x", "level": "B-X"}, headers=api.officer).status_code == 422
    assert api.client.post(url, json={"title": "x"}, headers=api.station).status_code == 403
    missing = api.client.post(
        "/api/v1/dossiers/000.00.12.H26-261121-9999/results/from-template", json={"title": "x"}, headers=api.officer
    )
    assert missing.status_code == 404
    not_pdf = api.client.post(f"/api/v1/dossiers/{CODE}/results", content=b"hello", headers=api.officer)
    assert not_pdf.status_code == 422 and not_pdf.json()["detail"]["code"] == "RESULT_PDF_INVALID"


def test_agency_without_grant_is_refused_and_audited(api: Api) -> None:
    add_signed_document(api.services, owner_id=APPLICANT_ID, doc_type="birth_certificate", code=CODE)
    register_agency(api.services.catalogue, AGENCY, "UBND phường Hoàn Kiếm")
    agency = api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)
    params = {"owner_id": APPLICANT_ID, "purpose": PURPOSE, "doc_type": "birth_certificate"}
    r = api.client.get("/api/v1/agency/documents", params=params, headers=agency)
    assert r.status_code == 403 and r.json()["detail"]["code"] == "GRANT_REQUIRED"
    unregistered = api.key("Cơ quan lạ", ClientRole.AGENCY, "000.00.99.H26")
    assert api.client.get("/api/v1/agency/documents", params=params, headers=unregistered).status_code == 403
    no_code = api.key("Không mã", ClientRole.AGENCY)
    assert api.client.get("/api/v1/agency/documents", params=params, headers=no_code).status_code == 403
    assert api.client.get("/api/v1/agency/documents", params=params, headers=api.station).status_code == 403
    assert api.client.get("/api/v1/agency/documents", params=params).status_code == 401
    with api.services.catalogue.session() as s:
        refused = s.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused")).all()
    assert {e.actor for e in refused} == {f"agency:{AGENCY}", "agency:000.00.99.H26"}
    assert all(e.purpose == PURPOSE and e.subject == f"owner:{APPLICANT_ID}" for e in refused)


def test_agency_with_grant_gets_verified_documents_and_a_working_link(api: Api) -> None:
    doc_id = add_signed_document(api.services, owner_id=APPLICANT_ID, doc_type="birth_certificate", code=CODE)
    add_signed_document(
        api.services, owner_id=APPLICANT_ID, doc_type="land_use_certificate", code="000.00.12.H26-261121-0302"
    )
    register_agency(api.services.catalogue, AGENCY, "UBND phường Hoàn Kiếm")
    grant_access(api.services.catalogue, AGENCY, ["birth_certificate"], PURPOSE)
    agency = api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)
    r = api.client.get(
        "/api/v1/agency/documents", params={"owner_id": APPLICANT_ID, "purpose": PURPOSE}, headers=agency
    )
    assert r.status_code == 200, r.text
    docs = r.json()["documents"]
    assert [d["id"] for d in docs] == [doc_id] and "object_key" not in docs[0]
    assert docs[0]["verification"]["valid"] is True and docs[0]["verification"]["levels"] == ["B-B"]
    with api.services.catalogue.session() as s:  # the bytes read to verify it: an audited read for the agency
        reads = s.scalars(select(AuditEntry).where(AuditEntry.action == "get")).all()
    read_for_agency = (f"agency:{AGENCY}", f"{PURPOSE} (kiểm tra chữ ký)", "ok")
    assert [(e.actor, e.purpose, e.outcome) for e in reads] == [read_for_agency]
    link = httpx.URL(docs[0]["url"])
    fetched = api.client.get(link.raw_path.decode())
    assert fetched.status_code == 200 and verify_pdf(fetched.content, api.services.trust_roots).valid
    forged = link.raw_path.decode().replace("sig=", "sig=0")
    assert api.client.get(forged).status_code == 403
    ungranted = {"owner_id": APPLICANT_ID, "purpose": PURPOSE, "doc_type": "land_use_certificate"}
    assert api.client.get("/api/v1/agency/documents", params=ungranted, headers=agency).status_code == 403
    wrong_purpose = {"owner_id": APPLICANT_ID, "purpose": "mục đích khác"}
    assert api.client.get("/api/v1/agency/documents", params=wrong_purpose, headers=agency).status_code == 403
    bad_type = {"owner_id": APPLICANT_ID, "purpose": PURPOSE, "doc_type": "../../etc"}
    assert api.client.get("/api/v1/agency/documents", params=bad_type, headers=agency).status_code == 422
