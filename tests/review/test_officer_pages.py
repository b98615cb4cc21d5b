"""The officers' pages in-process: the queue and dossiers pages, the workspace with its forms (CSRF-protected),
and the redirect to the sign-in page without an officer."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.catalogue.models import Component, ComponentState, Correction
from tests.officer_accounts import make_officer, sign_in
from tests.review.conftest import Workspace, older, seed_component

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "Accept": "text/html"}
UNSURE = {
    "type": "other",
    "confidence": 0.42,
    "needs_review": True,
    "warnings": ["TYPE_UNCERTAIN"],
    "guess": {"type": "application_form", "confidence": 0.42},
    "text": "THÔNG BÁO\nVề kết quả giải quyết đăng ký thường trú",
    "fields": {"so_dinh_danh": {"value": "001090012345", "page": 1, "box": None, "confidence": 0.8}},
}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without its csrf field"
    return found.group(1)


def test_pages_without_an_officer_redirect_to_sign_in(ws_sqlite: Workspace) -> None:
    for path in ("/can-bo/hang-cho", "/can-bo/ho-so", "/can-bo/thanh-phan/1"):
        r = ws_sqlite.client.get(path, headers=BROWSER, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/can-bo/dang-nhap?tiep=/can-bo/")


def test_queue_dossiers_and_workspace_pages(ws_sqlite: Workspace) -> None:
    ws = ws_sqlite
    sure = seed_component(ws.services, code="HS-OK", centre_id=ws.centre_a, output=UNSURE | {"needs_review": False})
    cid = seed_component(
        ws.services, code="HS-REVIEW", centre_id=ws.centre_a, output=UNSURE, received=older(3), name="Thông báo"
    )
    # A browser signed in as an officer of centre A (session cookie; its forms carry the session's CSRF token).
    sign_in(ws.client, make_officer(ws.services, "thu.pt", centre="HK", full_name="Phạm Thị Thu"))
    queue = ws.client.get("/can-bo/hang-cho", headers=BROWSER)
    assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
    html = queue.text
    assert html.index(f'id="tp-{cid}"') < html.index(f'id="tp-{sure}"')
    assert "Chưa chắc chắn về loại giấy tờ" in html and "Cần kiểm tra" in html
    dossiers = ws.client.get("/can-bo/ho-so?trang-thai=awaiting", headers=BROWSER)
    assert dossiers.status_code == 200 and "HS-REVIEW" in dossiers.text and "Chờ cán bộ xác nhận" in dossiers.text
    assert "HS-REVIEW" not in ws.client.get("/can-bo/hang-cho", headers=ws.officer_b | BROWSER).text

    page = ws.client.get(f"/can-bo/thanh-phan/{cid}", headers=BROWSER)
    assert page.status_code == 200
    assert f'src="/api/v1/workspace/components/{cid}/pages/1.png"' in page.text
    assert "Giấy xác nhận thông tin về cư trú" in page.text and "Xác nhận bản sao khớp bản giấy" in page.text
    assert ws.client.get(f"/can-bo/thanh-phan/{cid}", headers=ws.officer_b | BROWSER).status_code == 404
    token = _csrf(page.text)

    form = {"doc_type": "residence_confirmation", "field.so_dinh_danh": "001090012346", "party_count": "1"}
    forged = ws.client.post(f"/can-bo/thanh-phan/{cid}/sua", data=form, headers=BROWSER)
    assert forged.status_code == 403  # no csrf field
    wrong = ws.client.post(f"/can-bo/thanh-phan/{cid}/sua", data=form | {"csrf": "0" * 32}, headers=BROWSER)
    assert wrong.status_code == 403  # another session's token
    bad = ws.client.post(
        f"/can-bo/thanh-phan/{cid}/sua",
        data=form | {"csrf": token, "field.so_dinh_danh": "12"},
        headers=BROWSER,
    )
    assert bad.status_code == 422 and "không hợp lệ" in bad.text
    saved = ws.client.post(
        f"/can-bo/thanh-phan/{cid}/sua",
        data=form | {"csrf": token},
        headers=BROWSER,
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/can-bo/thanh-phan/{cid}?da=sua"
    with ws.services.catalogue.reading() as s:
        assert [c.path for c in s.scalars(select(Correction))] == ["type", "fields.so_dinh_danh"]

    confirmed = ws.client.post(f"/can-bo/thanh-phan/{cid}/xac-nhan", data={"csrf": token}, headers=BROWSER)
    assert confirmed.status_code == 200 and "Đã xác nhận bản sao khớp bản giấy." in confirmed.text
    with ws.services.catalogue.reading() as s:
        assert s.get_one(Component, cid).state == ComponentState.PROCESSING
