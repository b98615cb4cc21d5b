"""The audit trail over HTTP: ``GET /api/v1/audit`` and ``/can-bo/quan-tri/nhat-ky`` for a centre's
administrator (their centre only, each look audited), and the citizen's ``/tra-cuu/nhat-ky/{code}``
(agency or centre, purpose, time; never an officer; only with the applicant's check passed)."""

from __future__ import annotations

from sqlalchemy import select

from dossiers.audit_trail import ACTIONS_VI
from storage.catalogue.models import Centre, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse import audit
from tests.api.conftest import APPLICANT_ID, Api, issue_signed_result, push_dossier
from tests.officer_accounts import make_officer, sign_in

HTML = {"Accept": "text/html"}
OTHER = "079199001234"


def _centre_id(api: Api, code: str) -> int:
    with api.services.catalogue.reading() as s:
        found = s.scalar(select(Centre.id).where(Centre.code == code))
        assert found is not None
        return found


def _log(api: Api) -> tuple[int, int]:
    make_officer(api.services, "lan.nt", centre="BD")
    make_officer(api.services, "hoa.hk", centre="HK", full_name="Phạm Thị Hoa")
    bd, hk = _centre_id(api, "BD"), _centre_id(api, "HK")
    cat = api.services.catalogue
    audit.record(
        cat,
        actor="officer:lan.nt",
        action="get",
        subject="documents/a",
        purpose="tải bản số hóa",
        outcome="ok",
        owner=APPLICANT_ID,
        centre_id=bd,
    )
    audit.record(
        cat,
        actor="officer:hoa.hk",
        action="get",
        subject="documents/b",
        purpose="tải bản số hóa",
        outcome="ok",
        owner=APPLICANT_ID,
        centre_id=hk,
    )
    audit.record(
        cat,
        actor="officer:hoa.hk",
        action="search",
        subject=f"owner:{OTHER}",
        purpose="tra cứu hồ sơ",
        outcome="ok",
        centre_id=hk,
    )
    return bd, hk


def test_an_administrator_reads_their_centres_trail_and_no_other(api: Api) -> None:
    bd, _ = _log(api)
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    sign_in(api.client, admin)

    r = api.client.get("/api/v1/audit")
    assert r.status_code == 200, r.text
    seen = [(e["actor"], e["action"]) for e in r.json()["entries"]]
    assert ("officer:lan.nt", "get") in seen
    assert not any(actor == "officer:hoa.hk" for actor, _ in seen)  # HK's entries stay HK's
    mine = api.client.get("/api/v1/audit", params={"owner": APPLICANT_ID, "action": "get"}).json()
    assert [(e["actor"], e["action_vi"]) for e in mine["entries"]] == [("officer:lan.nt", "Đọc giấy tờ")]
    assert api.client.get("/api/v1/audit", params={"owner": OTHER}).json()["entries"] == []

    bad = api.client.get("/api/v1/audit", params={"owner": "123"})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "AUDIT_FILTER_INVALID"
    assert "12 chữ số" in bad.json()["detail"]["message"]
    wrong_way = api.client.get("/api/v1/audit", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert wrong_way.status_code == 422

    with api.services.catalogue.reading() as s:
        views = s.scalars(select(AuditEntry).where(AuditEntry.action == "audit_view").order_by(AuditEntry.seq)).all()
    assert [(v.actor, v.centre_id) for v in views] == [("officer:quan.tri", bd)] * 3
    assert views[1].owner_id == APPLICANT_ID and APPLICANT_ID not in str(views[1].detail)
    assert audit.verify(api.services.catalogue).ok


def test_only_an_administrator_reads_the_trail(api: Api) -> None:
    _log(api)
    officer = make_officer(api.services, "thu.bd", centre="BD")
    sign_in(api.client, officer)
    assert api.client.get("/api/v1/audit").status_code == 403
    page = api.client.get("/can-bo/quan-tri/nhat-ky", headers=HTML)
    assert page.status_code == 403 and "chỉ dành cho cán bộ quản trị" in page.text


def test_the_admin_page_shows_the_trail_in_vietnamese(api: Api) -> None:
    _log(api)
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    sign_in(api.client, admin)
    assert 'href="/can-bo/quan-tri/nhat-ky"' in api.client.get("/can-bo/quan-tri", headers=HTML).text
    page = api.client.get("/can-bo/quan-tri/nhat-ky", params={"owner": APPLICANT_ID}, headers=HTML)
    assert page.status_code == 200 and "Nhật ký truy cập" in page.text
    assert ACTIONS_VI["get"] in page.text and "officer:lan.nt" in page.text and "hoa.hk" not in page.text
    bad = api.client.get("/can-bo/quan-tri/nhat-ky", params={"from": "hôm qua"}, headers=HTML)
    assert bad.status_code == 422 and "năm-tháng-ngày" in bad.text


def test_the_citizen_sees_who_read_their_documents_by_agency_never_by_officer(api: Api) -> None:
    push_dossier(api, "000.00.12.H26-261121-0201")
    code = issue_signed_result(api, "000.00.12.H26-261121-0201")
    make_officer(api.services, "lan.nt", centre="BD")
    audit.record(
        api.services.catalogue,
        actor="officer:lan.nt",
        action="get",
        subject="results/x",
        purpose="tải kết quả điện tử",
        outcome="ok",
        owner=APPLICANT_ID,
        centre_id=_centre_id(api, "BD"),
    )

    assert api.client.get(f"/tra-cuu/nhat-ky/{code}", headers=HTML).status_code == 403  # no check passed yet
    assert api.client.get(f"/tra-cuu/nhat-ky/{code}/json").json()["detail"]["code"] == "NO_GRANT"
    r = api.client.post(
        "/tra-cuu",
        data={"ma_ket_qua": code, "so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    result_page = api.client.get(r.headers["location"])
    assert f'href="/tra-cuu/nhat-ky/{code}"' in result_page.text

    page = api.client.get(f"/tra-cuu/nhat-ky/{code}", headers=HTML)
    assert page.status_code == 200 and "Ai đã xem giấy tờ của bạn" in page.text
    assert "UBND phường Ba Đình" in page.text and "tải kết quả điện tử" in page.text
    assert "lan.nt" not in page.text and "Nguyễn Thị Lan" not in page.text
    reads = api.client.get(f"/tra-cuu/nhat-ky/{code}/json").json()["reads"]
    readers = [read["reader"] for read in reads]
    assert "UBND phường Ba Đình" in readers and "Người xác minh kết quả qua mã QR" in readers
    assert "lan.nt" not in str(reads) and all(
        set(read) == {"at", "reader", "action", "purpose", "outcome"} for read in reads
    )
    with api.services.catalogue.reading() as s:
        looked = s.scalars(select(AuditEntry).where(AuditEntry.action == "audit_view")).all()
    assert {(e.actor, e.owner_id) for e in looked} == {("citizen", APPLICANT_ID)}


def test_a_read_of_a_dossier_from_before_centres_records_its_effective_centre(api: Api) -> None:
    """A dossier and result with no centre (before 0015) belong to their station's centre: so does the
    audit entry of a download, and that centre's administrator sees it."""
    from sqlalchemy import update

    from storage.catalogue.models import ApiClient, ClientRole, Dossier, EResult
    from tests.officer_accounts import ensure_centre

    dossier_code = "000.00.12.H26-261121-0202"
    push_dossier(api, dossier_code)
    code = issue_signed_result(api, dossier_code)
    ensure_centre(api.services, "QN")
    qn = _centre_id(api, "QN")
    with api.services.catalogue.session() as s:
        s.execute(update(Dossier).where(Dossier.code == dossier_code).values(centre_id=None))
        s.execute(update(EResult).where(EResult.code == code).values(centre_id=None))
        s.execute(update(ApiClient).where(ApiClient.role == ClientRole.STATION).values(centre_id=qn))
    assert api.client.get(f"/api/v1/results/{code}/pdf", headers=api.officer).status_code == 200
    with api.services.catalogue.reading() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.subject.like("results/%")).order_by(AuditEntry.seq.desc())
        ).first()
    assert entry is not None and (entry.owner_id, entry.centre_id) == (APPLICANT_ID, qn)
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="QN")
    sign_in(api.client, admin)
    seen = api.client.get("/api/v1/audit", params={"owner": APPLICANT_ID}).json()["entries"]
    assert entry.seq in [e["seq"] for e in seen]
