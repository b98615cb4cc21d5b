"""The officers' review workspace API on SQLite and PostgreSQL: the queue's order and reasons, another
centre's officer seeing nothing (404), corrections recorded, applied and audited, confirmation."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from bench.corpus import templates
from bench.corpus.render import Line
from digitizer import review
from storage.catalogue.models import (
    Component,
    ComponentState,
    Correction,
    Document,
    DocumentParty,
    JobStep,
    ScanFile,
)
from storage.catalogue.warehouse_models import AuditEntry
from storage.objectstore import Bucket
from testkit.scheduling import run_steps
from tests.review.conftest import Workspace, jpeg, older, push_and_digitise, seed_component

UNSURE = {
    "type": "other",
    "confidence": 0.42,
    "needs_review": True,
    "warnings": ["UNFAMILIAR_TEXT"],
    "guess": {"type": "application_form", "confidence": 0.42},
    "text": "THÔNG BÁO\nVề kết quả giải quyết đăng ký thường trú",
}
SURE = {
    "type": "birth_certificate",
    "confidence": 0.97,
    "needs_review": False,
    "warnings": [],
    "guess": {"type": "birth_certificate", "confidence": 0.97},
    "text": "GIẤY KHAI SINH\nHọ, chữ đệm, tên: Nguyễn Thị Mai",
    "fields": {"full_name": {"value": "Nguyễn Thị Mai", "page": 1, "box": None, "confidence": 0.9}},
}


def _audit(ws: Workspace, action: str) -> list[AuditEntry]:
    with ws.services.catalogue.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_the_queue_puts_components_needing_review_first_then_the_oldest(ws: Workspace) -> None:
    old_sure = seed_component(ws.services, code="HS-1", centre_id=ws.centre_a, output=SURE, received=older(90))
    new_unsure = seed_component(ws.services, code="HS-2", centre_id=ws.centre_a, output=UNSURE, received=older(5))
    old_unsure = seed_component(ws.services, code="HS-3", centre_id=ws.centre_a, output=UNSURE, received=older(60))
    newest_sure = seed_component(ws.services, code="HS-4", centre_id=ws.centre_a, output=SURE, received=older(1))
    seed_component(ws.services, code="HS-5", centre_id=ws.centre_b, output=UNSURE, received=older(120))
    seed_component(ws.services, code="HS-6", centre_id=ws.centre_a, output=SURE, state=ComponentState.DONE)

    r = ws.get("/api/v1/workspace/components?state=awaiting")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["id"] for i in items] == [old_unsure, new_unsure, old_sure, newest_sure]
    first = items[0]
    assert first["needs_review"] is True and first["dossier_code"] == "HS-3"
    assert first["reasons"] == [{"code": "UNFAMILIAR_TEXT", "message": review.MESSAGES["UNFAMILIAR_TEXT"]}]
    assert items[2]["needs_review"] is False and items[2]["reasons"] == []

    only = ws.get("/api/v1/workspace/components?needs_review=true&state=awaiting").json()["items"]
    assert [i["id"] for i in only] == [old_unsure, new_unsure]
    # Centre B's officer sees only centre B's dossier.
    theirs = ws.get("/api/v1/workspace/components?state=all", ws.officer_b).json()["items"]
    assert [i["dossier_code"] for i in theirs] == ["HS-5"]

    dossiers = ws.get("/api/v1/workspace/dossiers").json()
    assert {d["code"]: d["state"] for d in dossiers["items"]} == {
        "HS-1": "awaiting",
        "HS-2": "awaiting",
        "HS-3": "awaiting",
        "HS-4": "awaiting",
        "HS-6": "done",
    }
    assert [d["code"] for d in ws.get("/api/v1/workspace/dossiers?state=done").json()["items"]] == ["HS-6"]
    assert [d["code"] for d in ws.get("/api/v1/workspace/dossiers?q=hs-3").json()["items"]] == ["HS-3"]


def test_another_centres_officer_gets_404_for_everything(ws: Workspace) -> None:
    cid = seed_component(ws.services, code="HS-A", centre_id=ws.centre_a, output=UNSURE)
    for path in (f"/api/v1/workspace/components/{cid}", f"/api/v1/workspace/components/{cid}/pages/1.png"):
        r = ws.get(path, ws.officer_b)
        assert r.status_code == 404, path
        assert r.json()["detail"]["code"] == "COMPONENT_NOT_FOUND"
    r = ws.client.patch(f"/api/v1/workspace/components/{cid}", json={"doc_type": "contract"}, headers=ws.officer_b)
    assert r.status_code == 404
    r = ws.client.post(f"/api/v1/workspace/components/{cid}/confirm", headers=ws.officer_b)
    assert r.status_code == 404
    assert ws.get(f"/api/v1/workspace/components/{cid + 999}").status_code == 404
    with ws.services.catalogue.reading() as s:
        assert s.scalars(select(Correction)).all() == []
        assert s.get_one(Component, cid).state == ComponentState.AWAITING
    assert ws.client.get(f"/api/v1/workspace/components/{cid}").status_code == 401  # no key at all
    assert ws.get(f"/api/v1/workspace/components/{cid}").status_code == 200


def test_corrections_are_validated_recorded_and_audited(ws: Workspace) -> None:
    cid = seed_component(ws.services, code="HS-C", centre_id=ws.centre_a, output=UNSURE)
    url = f"/api/v1/workspace/components/{cid}"
    bad = [
        {"doc_type": "passport"},
        {"fields": {"so_dinh_danh": "123"}},
        {"parties": [{"role": "wife", "so_dinh_danh": "999190012345"}]},
        {"parties": [{"role": "wife", "so_dinh_danh": "001190012345", "date_of_birth": "1991-01-01"}]},
    ]
    for body in bad:
        r = ws.client.patch(url, json=body, headers=ws.officer_a)
        assert r.status_code == 422, body
        assert r.json()["detail"]["code"] == "CORRECTION_INVALID"
        assert r.json()["detail"]["message"]
    r = ws.client.patch(
        url,
        json={
            "doc_type": "residence_confirmation",
            "fields": {"so_dinh_danh": "001090012345", "full_name": "Nguyễn Thị Mai"},
            "parties": [
                {"role": "head", "so_dinh_danh": "001190012346", "name": "Lê Thị Hằng", "date_of_birth": "1990-05-02"}
            ],
        },
        headers=ws.officer_a,
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert sorted(view["changed"]) == ["fields.full_name", "fields.so_dinh_danh", "parties", "type"]
    assert view["type"] == "residence_confirmation" and view["type_name"] == "Giấy xác nhận thông tin về cư trú"
    assert view["fields"]["so_dinh_danh"]["value"] == "001090012345"
    assert view["parties"][0]["so_dinh_danh"]["value"] == "001190012346"
    assert view["guess"] == {"type": "application_form", "confidence": 0.42}  # what the digitizer said stays
    # The same again changes nothing and records nothing.
    again = ws.client.patch(url, json={"doc_type": "residence_confirmation"}, headers=ws.officer_a)
    assert again.json()["changed"] == []
    with ws.services.catalogue.reading() as s:
        rows = s.scalars(select(Correction).order_by(Correction.id)).all()
        assert [(c.path, c.officer_id, c.document_id) for c in rows] == [
            ("type", ws.officer_a_id, None),
            ("fields.so_dinh_danh", ws.officer_a_id, None),
            ("fields.full_name", ws.officer_a_id, None),
            ("parties", ws.officer_a_id, None),
        ]
        assert rows[0].before == "other" and rows[0].after == "residence_confirmation"
    entries = _audit(ws, "correct_component")
    assert [e.actor for e in entries] == ["officer:an.nguyen", "officer:an.nguyen"]
    assert entries[0].outcome == "corrected" and entries[1].outcome == "unchanged"


def test_a_stored_document_is_corrected_at_once(ws: Workspace) -> None:
    from tests.storage.factories import add_document

    cid = seed_component(ws.services, code="HS-D", centre_id=ws.centre_a, output=UNSURE, state=ComponentState.DONE)
    doc_id, _ = add_document(ws.services.catalogue, owner_id="001090012345", doc_type="other", code="HS-D-doc")
    with ws.services.catalogue.session() as s:
        doc = s.get_one(Document, doc_id)
        doc.component_id, doc.needs_review = cid, True
    q = ws.get("/api/v1/workspace/components?state=done&needs_review=true").json()["items"]
    assert [i["id"] for i in q] == [cid]
    r = ws.client.patch(
        f"/api/v1/workspace/components/{cid}",
        json={
            "doc_type": "marriage_certificate",
            "fields": {"so_giay": "123/2024"},
            "parties": [{"role": "wife", "so_dinh_danh": "001190012346", "date_of_birth": "1990-05-02"}],
        },
        headers=ws.officer_a,
    )
    assert r.status_code == 200, r.text
    with ws.services.catalogue.reading() as s:
        doc = s.get_one(Document, doc_id)
        assert (doc.doc_type, doc.needs_review) == ("marriage_certificate", False)
        assert doc.fields["so_giay"]["value"] == "123/2024"
        parties = s.scalars(select(DocumentParty).where(DocumentParty.document_id == doc_id)).all()
        assert [(p.id_number, p.role, str(p.birth_date)) for p in parties] == [("001190012346", "wife", "1990-05-02")]
        assert {c.document_id for c in s.scalars(select(Correction))} == {doc_id}
    assert ws.get("/api/v1/workspace/components?state=done&needs_review=true").json()["items"] == []


def test_confirm_moves_an_awaiting_component_to_signing(ws: Workspace) -> None:
    cid = seed_component(ws.services, code="HS-E", centre_id=ws.centre_a, output=UNSURE)
    r = ws.client.post(f"/api/v1/workspace/components/{cid}/confirm", headers=ws.officer_a)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "processing" and r.json()["needs_review"] is False
    with ws.services.catalogue.reading() as s:
        comp = s.get_one(Component, cid)
        assert comp.confirmed_by == ws.officer_a_id and comp.confirmed_at is not None
        steps = s.scalars(select(JobStep.kind).where(JobStep.component_id == cid, JobStep.kind == "sign")).all()
        assert steps == ["sign"]
    again = ws.client.post(f"/api/v1/workspace/components/{cid}/confirm", headers=ws.officer_a)
    assert again.status_code == 200  # the same officer again (a double click): nothing more happens
    with ws.services.catalogue.reading() as s:
        steps = s.scalars(select(JobStep.kind).where(JobStep.component_id == cid, JobStep.kind == "sign")).all()
        assert steps == ["sign"]  # signed once
    assert [e.actor for e in _audit(ws, "confirm_copy")] == ["officer:an.nguyen"]


NOTICE = [
    Line("CÔNG AN PHƯỜNG HÀNG BẠC", bold=True),
    Line("THÔNG BÁO", "center", bold=True, scale=1.2),
    Line("Về kết quả giải quyết đăng ký thường trú", "center"),
    Line("Công an phường Hàng Bạc thông báo hồ sơ đăng ký thường trú của ông/bà đã được giải quyết."),
    Line("Thông tin đã được cập nhật vào Cơ sở dữ liệu về cư trú."),
]


def test_a_real_scan_corrected_then_confirmed_is_stored_as_corrected(ws: Workspace) -> None:
    ids = push_and_digitise(
        ws,
        "000.00.12.H26-261206-0901",
        {"tb.jpg": jpeg(NOTICE), "ks.jpg": jpeg(templates.birth_certificate())},
        [
            {"id": "tb", "name": "Thông báo cư trú", "files": ["tb.jpg"]},
            {"id": "ks", "declared_type": "birth_certificate", "name": "Giấy khai sinh", "files": ["ks.jpg"]},
        ],
    )
    queue = ws.get("/api/v1/workspace/components?state=awaiting").json()["items"]
    assert [i["id"] for i in queue] == [ids["tb"], ids["ks"]]
    assert queue[0]["needs_review"] and queue[0]["reasons"] and not queue[1]["needs_review"]

    view = ws.get(f"/api/v1/workspace/components/{ids['tb']}").json()
    assert view["type"] == "other" and "THÔNG BÁO" in view["pages"][0]["text"].upper()
    png = ws.get(view["pages"][0]["image_url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert png.headers["cache-control"].startswith("private") and png.headers["etag"]
    assert ws.get(view["pages"][0]["image_url"], headers={"If-None-Match": png.headers["etag"]}).status_code == 304
    assert ws.get(f"/api/v1/workspace/components/{ids['tb']}/pages/2.png").status_code == 404

    r = ws.client.patch(
        f"/api/v1/workspace/components/{ids['tb']}",
        json={"doc_type": "residence_confirmation", "fields": {"so_dinh_danh": "001090012345"}},
        headers=ws.officer_a,
    )
    assert r.status_code == 200, r.text
    for cid in ids.values():
        assert ws.client.post(f"/api/v1/workspace/components/{cid}/confirm", headers=ws.officer_a).status_code == 200
    run_steps(ws.services, ("sign", "store"))
    with ws.services.catalogue.reading() as s:
        docs = {d.component_id: d for d in s.scalars(select(Document))}
        corrected, birth = docs[ids["tb"]], docs[ids["ks"]]
        assert corrected.doc_type == "residence_confirmation" and corrected.needs_review is False
        assert corrected.fields["so_dinh_danh"]["value"] == "001090012345"
        assert birth.doc_type == "birth_certificate"
        assert s.get_one(Component, ids["tb"]).state == ComponentState.DONE


def test_a_page_image_falls_back_to_the_raw_scan_bounded_in_size(ws: Workspace) -> None:
    scan = jpeg(NOTICE)  # 200 dpi A4: about 1650 × 2340 pixels
    cid = seed_component(ws.services, code="HS-RAW", centre_id=ws.centre_a, output=UNSURE)
    obj = ws.services.warehouse.put_bytes(Bucket.RAW, scan, suffix=".jpg", content_type="application/octet-stream")
    with ws.services.catalogue.session() as s:
        s.add(
            ScanFile(
                component_id=cid, position=0, filename="tb.jpg", sha256=obj.sha256, size=obj.size, object_key=obj.key
            )
        )
    r = ws.get(f"/api/v1/workspace/components/{cid}/pages/1.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    width, height = Image.open(io.BytesIO(r.content)).size
    assert max(width, height) == 1600
    assert list((ws.services.settings.work_dir / "previews").glob(f"{obj.sha256}-1-*.png"))
