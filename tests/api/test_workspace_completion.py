"""A partial dossier completed from the officers' workspace (``/can-bo/ho-so/{code}``): replacement scans for
its failed component, or a stored document instead; only by the officers of the dossier's centre, audited as
them. Real pipeline steps (OCR, signing, storage)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.catalogue.clients import create_client
from storage.catalogue.completion_models import ComponentResend, ComponentReuse
from storage.catalogue.models import ClientRole, OfficerRole
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.audit import verify
from testkit.scheduling import run_steps
from tests.api.conftest import Api
from tests.api.test_completion import (
    ALL_QUEUES,
    CARD_COMPS,
    CODE,
    CORRUPT,
    GOOD,
    NEW_SCAN,
    _documents,
    _partial,
    _push,
    _status,
    _stored_documents,
    _stored_elsewhere,
)
from tests.officer_accounts import make_officer, sign_in

HTML = {"Accept": "text/html"}
PAGE = f"/can-bo/ho-so/{CODE}"


def _audit(api: Api, action: str) -> list[AuditEntry]:
    with api.services.catalogue.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_partial_dossier_is_completed_from_its_page(api: Api) -> None:
    _partial(api)  # pushed by the development station: the default centre's dossier
    lan = make_officer(api.services, "lan.nt", centre="default")
    token = sign_in(api.client, lan)["X-CSRF-Token"]

    listing = api.client.get("/can-bo/ho-so", headers=HTML)
    assert f'href="{PAGE}"' in listing.text
    page = api.client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert 'id="gui-lai-anh"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert 'id="gui-lai-don"' not in page.text  # done: nothing to send
    assert "Lỗi" in page.text and "/can-bo/thanh-phan/" in page.text and "Chưa có kết quả nào." in page.text
    assert "Dùng lại giấy tờ đã lưu" in page.text

    forged = api.client.post(
        f"{PAGE}/thanh-phan/anh/gui-lai", data={"csrf": "sai"}, files=[("files", ("x.jpg", NEW_SCAN, "image/jpeg"))]
    )
    assert forged.status_code == 403
    files = [("files", ("trang-1.jpg", NEW_SCAN, "image/jpeg")), ("files", ("trang-2.jpg", GOOD, "image/jpeg"))]
    sent = api.client.post(
        f"{PAGE}/thanh-phan/anh/gui-lai", data={"csrf": token}, files=files, headers=HTML, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"{PAGE}?da=gui-lai"
    assert "Đã gửi lại thành phần" in api.client.get(sent.headers["location"], headers=HTML).text
    run_steps(api.services, ALL_QUEUES)

    status = _status(api)
    assert status["state"] == "done", status
    assert [c["state"] for c in status["components"]] == ["done", "done"]
    documents = _documents(api)
    assert len(documents) == 2 and len({cid for cid, _ in documents}) == 2  # each component stored once
    assert _stored_documents(api) == 2
    with api.services.catalogue.reading() as s:
        resends = list(s.scalars(select(ComponentResend)))
        assert [(r.pages, r.station_id is not None) for r in resends] == [(2, True)]  # charged to the station
    entries = _audit(api, "component_resend")
    assert [(e.actor, e.subject, e.detail["component"]) for e in entries] == [
        ("officer:lan.nt", f"dossier:{CODE}", "anh")
    ]
    done_page = api.client.get(PAGE, headers=HTML).text
    assert 'id="gui-lai-anh"' not in done_page and "Bản sao đã lưu số" in done_page
    again = api.client.post(f"{PAGE}/thanh-phan/anh/gui-lai", data={"csrf": token}, files=files, headers=HTML)
    assert again.status_code in (200, 409)  # the same scans: a repeat of the first send, or the component is done
    assert _stored_documents(api) == 2
    assert verify(api.services.catalogue).ok


def test_a_stored_document_is_attached_from_the_page(api: Api) -> None:
    doc = _stored_elsewhere(api)
    _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    run_steps(api.services, ALL_QUEUES)
    assert _status(api)["state"] == "partial"
    before = _documents(api)
    lan = make_officer(api.services, "lan.nt", centre="default")
    token = sign_in(api.client, lan)["X-CSRF-Token"]
    assert 'id="dung-lai-cccd"' in api.client.get(PAGE, headers=HTML).text

    wrong = api.client.post(f"{PAGE}/thanh-phan/cccd/dung-lai", data={"csrf": token, "giay_to": "abc"}, headers=HTML)
    assert wrong.status_code == 422 and "Nhập số giấy tờ" in wrong.text
    r = api.client.post(
        f"{PAGE}/thanh-phan/cccd/dung-lai", data={"csrf": token, "giay_to": str(doc)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    status = _status(api)
    assert status["state"] == "done" and status["components"][0]["reused_from"]["document_id"] == doc
    assert _documents(api) == before  # by reference: nothing stored again
    with api.services.catalogue.reading() as s:
        assert [(x.document_id, x.actor) for x in s.scalars(select(ComponentReuse))] == [(doc, "officer:lan.nt")]
    assert [(e.actor, e.outcome) for e in _audit(api, "reuse_document")] == [("officer:lan.nt", "ok")]
    assert f"Dùng lại giấy tờ đã lưu số {doc}" in api.client.get(PAGE, headers=HTML).text


def test_another_centres_officer_cannot_see_or_complete_the_dossier(api: Api) -> None:
    _partial(api)
    doc = _stored_elsewhere(api)
    other = make_officer(api.services, "binh.bd", centre="BD", role=OfficerRole.ADMIN)
    token = sign_in(api.client, other)["X-CSRF-Token"]
    assert api.client.get(PAGE, headers=HTML).status_code == 404
    files = [("files", ("x.jpg", NEW_SCAN, "image/jpeg"))]
    sent = api.client.post(f"{PAGE}/thanh-phan/anh/gui-lai", data={"csrf": token}, files=files, headers=HTML)
    assert sent.status_code == 404 and "Không tìm thấy hồ sơ" in sent.text
    reuse = api.client.post(f"{PAGE}/thanh-phan/anh/dung-lai", data={"csrf": token, "giay_to": str(doc)}, headers=HTML)
    assert reuse.status_code == 404
    # The JSON endpoint takes officer accounts too, scoped the same way.
    api_reuse = api.client.post(
        f"/api/v1/dossiers/{CODE}/components/anh/reuse",
        json={"document_id": doc},
        headers={"X-CSRF-Token": token},
    )
    assert api_reuse.status_code == 404, api_reuse.text
    with api.services.catalogue.reading() as s:
        assert s.scalar(select(func.count()).select_from(ComponentResend)) == 0
        assert s.scalar(select(func.count()).select_from(ComponentReuse)) == 0
    assert _status(api)["state"] == "partial"
    assert _audit(api, "component_resend") == []


def test_a_result_officer_may_not_complete_a_dossier(api: Api) -> None:
    _partial(api)
    result_officer = make_officer(api.services, "tra.kq", centre="default", role=OfficerRole.RESULT)
    token = sign_in(api.client, result_officer)["X-CSRF-Token"]
    page = api.client.get(PAGE, headers=HTML)
    assert page.status_code == 200 and 'id="gui-lai-anh"' not in page.text
    files = [("files", ("x.jpg", NEW_SCAN, "image/jpeg"))]
    assert api.client.post(f"{PAGE}/thanh-phan/anh/gui-lai", data={"csrf": token}, files=files).status_code == 403


def test_the_reuse_api_takes_an_officers_personal_key(api: Api) -> None:
    doc = _stored_elsewhere(api)
    _push(api, CARD_COMPS, {"c.jpg": CORRUPT, "a.jpg": GOOD})
    run_steps(api.services, ALL_QUEUES)
    lan = make_officer(api.services, "lan.nt", centre="default")
    key = {
        "Authorization": f"Bearer {create_client(api.services.catalogue, 'Lan', ClientRole.OFFICER, officer_id=lan.id)}"
    }
    r = api.client.post(f"/api/v1/dossiers/{CODE}/components/cccd/reuse", json={"document_id": doc}, headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["reused_from"]["document_id"] == doc
    assert [(e.actor, e.outcome) for e in _audit(api, "reuse_document")] == [("officer:lan.nt", "ok")]
