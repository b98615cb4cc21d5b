"""Catalogue search over HTTP (SQLite and PostgreSQL): officers see their centre's documents only,
agencies only the types their valid grants cover, with a purpose; snippets mark the matched words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.app import create_app
from dossiers.services import Services
from storage.catalogue.models import ClientRole, Dossier
from storage.catalogue.warehouse_models import AuditEntry
from storage.warehouse.sharing import grant_access, register_agency
from tests.api.conftest import Api, api_settings
from tests.conftest import make_settings
from tests.officer_accounts import ensure_centre, make_officer, sign_in
from tests.storage.factories import add_document

AN, BINH = "001203004567", "079188001234"
BIRTH_TEXT = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\fGIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An\nNơi sinh: Hà Nội"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_api(request: pytest.FixtureRequest, tmp_path: Path, shared_pki_dir: Path) -> Iterator[Api]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    settings = api_settings(make_settings(tmp_path / "var", shared_pki_dir, database_url=url))
    with TestClient(create_app(settings, start_workers=False)) as client:
        yield Api(client, client.app.state.services, {}, {})  # type: ignore[attr-defined]


def _in_centre(services: Services, centre_code: str, doc: tuple[int, str]) -> int:
    centre_id = ensure_centre(services, centre_code, f"UBND {centre_code}")
    with services.catalogue.session() as s:
        s.execute(update(Dossier).where(Dossier.code == doc[1]).values(centre_id=centre_id))
    return doc[0]


def _seed(services: Services) -> dict[str, int]:
    cat = services.catalogue
    old = datetime.now(UTC) - timedelta(days=40)
    return {
        "birth": _in_centre(services, "BD", add_document(
            cat, owner_id=AN, doc_type="birth_certificate", text=BIRTH_TEXT,
        )),
        "land": _in_centre(services, "BD", add_document(
            cat, owner_id=AN, doc_type="land_use_certificate", created_at=old,
            text="Giấy chứng nhận quyền sử dụng đất của ông Nguyễn Văn An tại phường Đống Đa",
        )),
        "other_centre": _in_centre(services, "HK", add_document(
            cat, owner_id=BINH, doc_type="birth_certificate",
            text="GIẤY KHAI SINH Họ và tên: Nguyễn Văn An Nơi sinh: Đà Nẵng",
        )),
    }  # fmt: skip


def _officer_client(api: Api, username: str, centre: str) -> TestClient:
    client = TestClient(api.client.app)
    sign_in(client, make_officer(api.services, username, centre=centre))
    return client


def test_officer_search_is_diacritic_insensitive_ranked_marked_and_scoped(db_api: Api) -> None:
    docs = _seed(db_api.services)
    lan = _officer_client(db_api, "lan.nt", "BD")
    r = lan.get("/api/v1/search", params={"q": "nguyen van an"})
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [h["id"] for h in body["results"]]
    assert set(ids) == {docs["birth"], docs["land"]}  # not the other centre's
    first = body["results"][0]
    marked = [s["text"] for s in first["snippet"] if s["mark"]]
    assert marked == ["Nguyễn", "Văn", "An"], first["snippet"]
    assert "".join(s["text"] for s in first["snippet"]).strip("…").strip() in BIRTH_TEXT.replace("\f", " ").replace(
        "\n", " "
    )
    assert first["url"] == f"/can-bo/ho-so/{first['dossier_code']}"
    assert "object_key" not in first
    # Filters: type, owner, dates, dossier.
    by_type = lan.get("/api/v1/search", params={"q": "nguyen", "type": "land_use_certificate"}).json()
    assert [h["id"] for h in by_type["results"]] == [docs["land"]]
    recent = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    assert [h["id"] for h in lan.get("/api/v1/search", params={"owner": AN, "from": recent}).json()["results"]] == [
        docs["birth"]
    ]
    assert lan.get("/api/v1/search", params={"owner": BINH}).json()["results"] == []  # no IDOR
    assert lan.get("/api/v1/search", params={"q": "da nang"}).json()["results"] == []
    # Ranking: the phrase first, even when older.
    ranked = lan.get("/api/v1/search", params={"q": "dong da nguyen"}).json()["results"]
    assert [h["id"] for h in ranked] == [docs["land"]]
    phrase = lan.get("/api/v1/search", params={"q": "an nguyen"}).json()["results"]
    assert {h["id"] for h in phrase} == {docs["birth"], docs["land"]}


def test_other_centre_sees_only_its_own(db_api: Api) -> None:
    docs = _seed(db_api.services)
    hoa = _officer_client(db_api, "hoa.tt", "HK")
    r = hoa.get("/api/v1/search", params={"q": "Nguyễn Văn An"})
    assert [h["id"] for h in r.json()["results"]] == [docs["other_centre"]]
    assert hoa.get("/api/v1/search", params={"owner": AN}).json()["results"] == []


def test_search_needs_an_officer_and_a_criterion(db_api: Api) -> None:
    assert db_api.client.get("/api/v1/search", params={"q": "an"}).status_code == 401
    lan = _officer_client(db_api, "lan.nt", "BD")
    r = lan.get("/api/v1/search")
    assert r.status_code == 422 and r.json()["detail"]["code"] == "SEARCH_EMPTY", r.text
    assert lan.get("/api/v1/search", params={"owner": "12345"}).status_code == 422
    assert lan.get("/api/v1/search", params={"type": "spaceship"}).status_code == 422


def test_searches_are_audited_without_the_id_in_plain_logs(db_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    _seed(db_api.services)
    lan = _officer_client(db_api, "lan.nt", "BD")
    with caplog.at_level("INFO"):
        assert lan.get("/api/v1/search", params={"owner": AN, "q": "khai sinh"}).status_code == 200
    with db_api.services.catalogue.session() as s:
        entry = s.query(AuditEntry).filter(AuditEntry.action == "search").one()
        assert (entry.actor, entry.subject, entry.detail["hits"]) == ("officer:lan.nt", f"owner:{AN}", 1)
        assert entry.detail["query"]["text"] == "khai sinh"
    ours = " ".join(r.getMessage() for r in caplog.records if r.name != "httpx")  # httpx: the test's own client
    assert AN not in ours and AN[-3:] in ours


def test_agency_searches_only_within_its_grants(db_api: Api) -> None:
    docs = _seed(db_api.services)
    cat = db_api.services.catalogue
    register_agency(cat, "000.00.31.H26", "Sở Tư pháp Hà Nội")
    grant_access(cat, "000.00.31.H26", ["birth_certificate"], "xác minh hộ tịch")
    key = db_api.key("Sở Tư pháp", ClientRole.AGENCY, "000.00.31.H26")
    ok = db_api.client.get(
        "/api/v1/agency/search", params={"q": "nguyen van an", "purpose": "xác minh hộ tịch"}, headers=key
    )
    assert ok.status_code == 200, ok.text
    assert {h["id"] for h in ok.json()["results"]} == {docs["birth"], docs["other_centre"]}  # no land certificate
    refused = db_api.client.get(
        "/api/v1/agency/search",
        params={"q": "nguyen", "type": "land_use_certificate", "purpose": "xác minh hộ tịch"},
        headers=key,
    )
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "GRANT_REQUIRED", refused.text
    wrong_purpose = db_api.client.get("/api/v1/agency/search", params={"q": "an", "purpose": "tò mò"}, headers=key)
    assert wrong_purpose.status_code == 403
    assert db_api.client.get("/api/v1/agency/search", params={"q": "an"}, headers=key).status_code == 422  # no purpose
    officer_key = _officer_client(db_api, "lan.nt", "BD")
    assert officer_key.get("/api/v1/agency/search", params={"q": "an", "purpose": "xác minh hộ tịch"}).status_code in (
        401,
        403,
    )
    with cat.session() as s:
        outcomes = [
            e.outcome for e in s.query(AuditEntry).filter(AuditEntry.action == "search").order_by(AuditEntry.id)
        ]
    assert outcomes == ["ok", "refused", "refused"]
    assert docs["land"]


def test_search_page_shows_marked_snippets_and_links(db_api: Api) -> None:
    docs = _seed(db_api.services)
    lan = _officer_client(db_api, "lan.nt", "BD")
    empty = lan.get("/can-bo/tim-kiem")
    assert empty.status_code == 200 and 'id="form-tim-kiem"' in empty.text and "Tìm kiếm" in empty.text
    r = lan.get("/can-bo/tim-kiem", params={"q": "nguyen van an", "type": "birth_certificate"})
    assert r.status_code == 200, r.text
    assert "<mark>Nguyễn</mark> <mark>Văn</mark> <mark>An</mark>" in r.text
    with db_api.services.catalogue.reading() as s:
        code = s.scalar(Dossier.__table__.select().with_only_columns(Dossier.code).where(Dossier.centre_id.isnot(None)))
    assert "/can-bo/ho-so/" in r.text and code
    assert "Đà Nẵng" not in r.text  # the other centre's document
    bad = lan.get("/can-bo/tim-kiem", params={"owner": "12"})
    assert bad.status_code == 422 and 'id="loi"' in bad.text
    assert docs
