"""The page ``/can-bo/quan-tri/co-quan`` (issue 21): an administrator registers an agency, grants it types
for a purpose, revokes the grant and disables the agency, each form with its CSRF token; another role 403."""

from __future__ import annotations

import re

from sqlalchemy import select

from digitizer.review import TYPE_NAMES
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from tests.api.conftest import Api
from tests.officer_accounts import make_officer, sign_in

HTML = {"Accept": "text/html"}
PAGE = "/can-bo/quan-tri/co-quan"
AGENCY = "000.00.13.H26"
PURPOSE = "giải quyết thủ tục đăng ký kết hôn"


def test_an_administrator_manages_agencies_on_the_page(api: Api) -> None:
    admin = make_officer(api.services, "quan.tri", role=OfficerRole.ADMIN, centre="BD")
    token = sign_in(api.client, admin)["X-CSRF-Token"]
    assert f'href="{PAGE}"' in api.client.get("/can-bo/quan-tri", headers=HTML).text

    empty = api.client.get(PAGE, headers=HTML)
    assert empty.status_code == 200 and "Cơ quan khai thác dữ liệu" in empty.text
    assert "Chưa có cơ quan nào được đăng ký." in empty.text and 'id="cap-quyen"' not in empty.text
    forged = api.client.post(PAGE, data={"code": AGENCY, "name": "UBND phường Hoàn Kiếm"}, headers=HTML)
    assert forged.status_code == 403  # no CSRF token
    bad = api.client.post(PAGE, data={"csrf": token, "code": "HK", "name": "x"}, headers=HTML)
    assert bad.status_code == 422 and "đúng định dạng" in bad.text

    added = api.client.post(
        PAGE,
        data={"csrf": token, "code": AGENCY, "name": "UBND phường Hoàn Kiếm"},
        headers=HTML,
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == f"{PAGE}?da=co-quan"
    api.key("UBND phường Hoàn Kiếm", ClientRole.AGENCY, AGENCY)
    page = api.client.get(f"{PAGE}?da=co-quan", headers=HTML).text
    assert "Đã lưu cơ quan khai thác dữ liệu." in page and f'id="co-quan-{AGENCY}"' in page
    assert all(f"> {name}</label>" in page for name in TYPE_NAMES.values())  # the types' checkboxes, named

    none_checked = api.client.post(
        f"{PAGE}/quyen", data={"csrf": token, "agency_code": AGENCY, "purpose": PURPOSE, "days": "30"}, headers=HTML
    )
    assert none_checked.status_code == 422 and "Quyền khai thác không hợp lệ" in none_checked.text
    form = {
        "csrf": token,
        "agency_code": AGENCY,
        "purpose": PURPOSE,
        "days": "30",
        "doc_types": ["birth_certificate", "marriage_certificate"],
    }
    granted = api.client.post(f"{PAGE}/quyen", data=form, headers=HTML, follow_redirects=False)
    assert granted.status_code == 303, granted.text
    page = api.client.get(PAGE, headers=HTML).text
    grant_id = int(re.search(r'id="quyen-(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert PURPOSE in page and TYPE_NAMES["marriage_certificate"] in page and "Còn hiệu lực" in page

    revoked = api.client.post(f"{PAGE}/quyen/{grant_id}/thu-hoi", data={"csrf": token}, headers=HTML)
    assert revoked.status_code == 200 and "Đã thu hồi quyền khai thác." in revoked.text
    again = api.client.post(f"{PAGE}/quyen/{grant_id}/thu-hoi", data={"csrf": token}, headers=HTML)
    assert again.status_code == 404 and "Không tìm thấy quyền khai thác" in again.text

    disabled = api.client.post(f"{PAGE}/{AGENCY}/vo-hieu", data={"csrf": token}, headers=HTML)
    assert disabled.status_code == 200 and "Đã vô hiệu" in disabled.text and 'id="cap-quyen"' not in disabled.text
    with api.services.catalogue.reading() as s:
        actions = s.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert [a for a in actions if a[1] in {"agency_register", "grant", "revoke", "agency_disable"}] == [
        ("officer:quan.tri", "agency_register"),
        ("officer:quan.tri", "grant"),
        ("officer:quan.tri", "revoke"),
        ("officer:quan.tri", "agency_disable"),
    ]


def test_another_role_is_refused_the_page(api: Api) -> None:
    clerk = make_officer(api.services, "lan.nt", role=OfficerRole.RECEIVING, centre="BD")
    token = sign_in(api.client, clerk)["X-CSRF-Token"]
    page = api.client.get(PAGE, headers=HTML)
    assert page.status_code == 403 and "chỉ dành cho cán bộ quản trị" in page.text
    posted = api.client.post(PAGE, data={"csrf": token, "code": AGENCY, "name": "x"}, headers=HTML)
    assert posted.status_code == 403
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "agency_register")) is None
