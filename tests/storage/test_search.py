"""Catalogue search on SQLite and the real PostgreSQL server, full text without diacritics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.catalogue.db import Catalogue
from storage.catalogue.folding import fold
from storage.warehouse.search import SearchQuery, search, search_documents
from tests.storage.factories import add_document

OWNER_A, OWNER_B = "001203004567", "079188001234"


def _seed(cat: Catalogue) -> dict[str, tuple[int, str]]:
    old = datetime.now(UTC) - timedelta(days=40)
    return {
        "birth": add_document(
            cat,
            owner_id=OWNER_A,
            doc_type="birth_certificate",
            text="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\fGIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An\nNơi sinh: Hà Nội",
        ),
        "land": add_document(
            cat,
            owner_id=OWNER_A,
            doc_type="land_use_certificate",
            text="Giấy chứng nhận quyền sử dụng đất tại phường Đống Đa",
            procedure_code="1.003003",
            created_at=old,
        ),
        "other": add_document(
            cat, owner_id=OWNER_B, doc_type="birth_certificate", text="Giấy khai sinh của Trần Thị Bình, Đà Nẵng"
        ),
    }


def test_fold_strips_diacritics_and_d_bar() -> None:
    assert fold("GIẤY KHAI SINH — Đống Đa, Hà Nội") == "giay khai sinh dong da ha noi"


def test_search_by_every_criterion(catalogue: Catalogue) -> None:
    docs = _seed(catalogue)
    ids = lambda q: {h.id for h in search_documents(catalogue, q)}  # noqa: E731
    assert ids(SearchQuery(owner_id=OWNER_A)) == {docs["birth"][0], docs["land"][0]}
    assert ids(SearchQuery(doc_types=("birth_certificate",))) == {docs["birth"][0], docs["other"][0]}
    assert ids(SearchQuery(dossier_code=docs["land"][1])) == {docs["land"][0]}
    assert ids(SearchQuery(procedure_code="1.003003")) == {docs["land"][0]}
    recent = SearchQuery(owner_id=OWNER_A, created_from=datetime.now(UTC) - timedelta(days=7))
    assert ids(recent) == {docs["birth"][0]}
    assert ids(SearchQuery(created_to=datetime.now(UTC) - timedelta(days=30))) == {docs["land"][0]}


def test_full_text_is_diacritic_insensitive(catalogue: Catalogue) -> None:
    docs = _seed(catalogue)
    ids = lambda text, **kw: {h.id for h in search_documents(catalogue, SearchQuery(text=text, **kw))}  # noqa: E731
    assert ids("giay khai sinh") == {docs["birth"][0], docs["other"][0]}
    assert ids("giấy khai sinh", owner_id=OWNER_A) == {docs["birth"][0]}
    assert ids("NGUYEN VAN AN") == {docs["birth"][0]}
    assert ids("dong da") == {docs["land"][0]}
    assert ids("đà nẵng") == {docs["other"][0]}
    assert ids("khai sinh hai phong") == set()
    assert ids("'; DROP TABLE documents; --") == set()


def test_search_is_audited(catalogue: Catalogue) -> None:
    from storage.catalogue.warehouse_models import AuditEntry

    _seed(catalogue)
    hits = search(catalogue, SearchQuery(owner_id=OWNER_A), actor="officer:7", purpose="giải quyết hồ sơ")
    assert len(hits) == 2
    with catalogue.session() as s:
        (entry,) = s.query(AuditEntry).all()
        assert (entry.actor, entry.action, entry.subject, entry.detail["hits"]) == (
            "officer:7",
            "search",
            f"owner:{OWNER_A}",
            2,
        )
