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


def test_full_text_follows_inserts_and_updates(catalogue: Catalogue) -> None:
    """The folded text, and SQLite's FTS table (triggers) or PostgreSQL's index, follow every write."""
    from storage.catalogue.models import Document

    doc_id, _ = add_document(catalogue, owner_id=OWNER_A, doc_type="contract", text="HỢP ĐỒNG mua bán nhà ở")
    ids = lambda text: {h.id for h in search_documents(catalogue, SearchQuery(text=text))}  # noqa: E731
    assert ids("hop dong mua ban") == {doc_id}
    with catalogue.session() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None and doc.folded_text == "hop dong mua ban nha o"
        doc.text = "Giấy ủy quyền"
    assert ids("hop dong") == set()
    assert ids("giay uy quyen") == {doc_id}


def test_filters_combine_and_lists_of_types_vary(catalogue: Catalogue) -> None:
    docs = _seed(catalogue)
    ids = lambda q: {h.id for h in search_documents(catalogue, q)}  # noqa: E731
    both = ("birth_certificate", "land_use_certificate")
    assert ids(SearchQuery(owner_id=OWNER_A, doc_types=both)) == {docs["birth"][0], docs["land"][0]}
    assert ids(SearchQuery(owner_id=OWNER_A, doc_types=both[1:])) == {docs["land"][0]}
    assert ids(SearchQuery(owner_id=OWNER_A, doc_types=both, text="dong da")) == {docs["land"][0]}
    assert ids(SearchQuery(doc_types=both, text="khai sinh", limit=1)) == {docs["other"][0]}  # the newest


def test_owner_lookup_reads_only_the_covering_index(sqlite_catalogue: Catalogue) -> None:
    from storage.warehouse.search import build_query

    _seed(sqlite_catalogue)
    stmt, params = build_query(SearchQuery(owner_id=OWNER_A), "sqlite")
    with sqlite_catalogue.transaction() as conn:
        compiled = stmt.compile(conn)
        values = compiled.construct_params(params)
        positional = tuple(values[name] for name in compiled.positiontup or ())
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, positional).all()
    assert any("COVERING INDEX ix_documents_owner_lookup" in row[-1] for row in plan), plan


def test_searches_on_sqlite_read_a_snapshot_without_the_write_lock(sqlite_catalogue: Catalogue) -> None:
    """A lookup never queues behind the pipeline's writers (WAL readers do not need the lock)."""
    from sqlalchemy import event

    _seed(sqlite_catalogue)
    statements: list[str] = []
    listener = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(sqlite_catalogue.engine, "before_cursor_execute", listener)
    try:
        assert len(search_documents(sqlite_catalogue, SearchQuery(owner_id=OWNER_A))) == 2
        assert len(search_documents(sqlite_catalogue, SearchQuery(text="khai sinh"))) == 2
    finally:
        event.remove(sqlite_catalogue.engine, "before_cursor_execute", listener)
    assert "BEGIN IMMEDIATE" not in statements and "BEGIN" in statements, statements


def test_motto_words_are_not_required_when_other_words_are_given(catalogue: Catalogue) -> None:
    """Every official document carries the national motto: its words alone still match, with others they are
    left out of the match (they would filter nothing), so a citizen named Việt or Hoa is found the same."""
    from storage.warehouse.search import match_words

    docs = _seed(catalogue)
    ids = lambda text: {h.id for h in search_documents(catalogue, SearchQuery(text=text))}  # noqa: E731
    assert match_words("Nguyễn Việt Hoa") == ["nguyen"] and match_words("Việt Nam") == ["viet", "nam"]
    assert ids("cong hoa viet nam") == {docs["birth"][0]}
    assert ids("nguyen van an viet nam") == {docs["birth"][0]}
