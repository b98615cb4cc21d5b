"""The search's scoping column and its plans: documents carry their centre; every plan answers the same."""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from dossiers.signer_keys import DEFAULT_CENTRE_CODE
from storage.catalogue.clients import create_client
from storage.catalogue.db import Catalogue
from storage.catalogue.models import ClientRole, Document, Dossier
from storage.catalogue.officers import create_centre
from storage.warehouse.search import DocumentHit, SearchQuery, WordStats, build_query, search_documents
from tests.storage.factories import add_document, model_drift

search_module = importlib.import_module("storage.warehouse.search")  # the package's ``search`` is its function
FORM = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM GIẤY KHAI SINH Họ, chữ đệm, tên: {} Nơi cư trú: {}"


def _centre_of(cat: Catalogue, doc_id: int) -> int | None:
    with cat.transaction(readonly=True) as conn:
        return conn.execute(select(Document.centre_id).where(Document.id == doc_id)).scalar()


def _set_dossier(cat: Catalogue, code: str, **values: object) -> None:
    with cat.transaction() as conn:
        conn.execute(update(Dossier).where(Dossier.code == code).values(**values))


def _load_30_documents(db_url: str) -> None:
    """30 documents in ten dossiers, bulk-loaded as the bench loads them (no centre yet)."""
    from bench.store import lookups

    if db_url.startswith("sqlite"):
        lookups.load_sqlite(db_url.removeprefix("sqlite:///"), 0, 30, 10)
    else:
        base, schema = db_url.split("?options=-csearch_path%3D")  # the pg_url fixture: a schema per test
        lookups.load_postgres(base.replace("postgresql+psycopg://", "postgresql://"), schema, 0, 30, 10)


def test_a_document_carries_its_dossiers_centre_else_its_stations_else_the_default(catalogue: Catalogue) -> None:
    doc, code = add_document(catalogue, owner_id="001203004567", doc_type="birth_certificate", text="Nguyễn Văn An")
    assert _centre_of(catalogue, doc) is None  # no centre anywhere yet
    default = create_centre(catalogue, DEFAULT_CENTRE_CODE, "UBND mặc định")  # the code the triggers know
    assert _centre_of(catalogue, doc) == default  # dossiers older than centres are the default centre's

    north, south = create_centre(catalogue, "N01", "Trung tâm Bắc"), create_centre(catalogue, "S01", "Trung tâm Nam")
    create_client(catalogue, "trạm 1", ClientRole.STATION, centre_id=north)
    with catalogue.transaction(readonly=True) as conn:
        station = conn.execute(text("SELECT id FROM api_clients WHERE name = 'trạm 1'")).scalar_one()
    _set_dossier(catalogue, code, centre_id=None, station_id=station)
    assert _centre_of(catalogue, doc) == north  # the station's centre
    with catalogue.transaction() as conn:
        conn.execute(text("UPDATE api_clients SET centre_id = :c WHERE id = :i"), {"c": south, "i": station})
    assert _centre_of(catalogue, doc) == south  # the station moved
    _set_dossier(catalogue, code, centre_id=north)
    assert _centre_of(catalogue, doc) == north  # the dossier's own centre first

    later, _ = add_document(catalogue, owner_id="001203004568", doc_type="diploma", text="Trần Thị Bình")
    assert _centre_of(catalogue, later) == default  # stored after the default centre was made
    found = lambda centre: [h.id for h in search_documents(catalogue, SearchQuery(centre_id=centre, text="an"))]  # noqa: E731
    assert found(north) == [doc] and found(south) == [] and found(default) == []


def _hits(cat: Catalogue, q: SearchQuery, stats: WordStats | None) -> list[DocumentHit]:
    stmt, params = build_query(q, cat.dialect_name, stats)
    with cat.transaction(readonly=True) as conn:
        return [DocumentHit(*row) for row in conn.execute(stmt, params)]


def test_every_plan_gives_the_same_answer(catalogue: Catalogue) -> None:
    """Words looked up in the full-text index, common words tested on the rows it gives, every word tested on a
    walk of the centre's newest rows (PostgreSQL): the same documents, newest first, for any mix of filters."""
    centre = create_centre(catalogue, "C01", "Trung tâm 1")
    other = create_centre(catalogue, "C02", "Trung tâm 2")
    now = datetime.now(UTC)
    names = ["Hồ Văn An", "Hồ Thị Bình", "Nguyễn Văn An", "Hồ Văn Ánh", "Lê Hồ An", "Hồ Văn An"]
    for n, name in enumerate(names * 2):
        _, code = add_document(
            catalogue,
            owner_id=f"0012030045{n:02d}",
            doc_type="birth_certificate" if n % 3 else "diploma",
            text=FORM.format(name, "Hà Nội" if n % 2 else "Huế"),
            created_at=now - timedelta(days=20 - n),  # stored as made: oldest first
        )
        _set_dossier(catalogue, code, centre_id=centre if n < len(names) else other)
    common = WordStats(1e6, {"ho": 0.95, "van": 0.9, "an": 0.9, "hue": 0.9}, 0.01)  # all common: walked
    one_common = WordStats(1e6, {"ho": 0.95}, 0.001)  # "ho" tested on the rows the index gives
    rare = WordStats(1e6, {}, 1e-5)  # SQLite: a few matches over all centres, the centre tested on their rows only
    queries = [
        SearchQuery(text="ho van an", centre_id=centre),
        SearchQuery(text="Hồ Văn An", centre_id=centre, doc_types=("birth_certificate",)),
        SearchQuery(text="ho an hue", centre_id=centre, created_from=now - timedelta(days=17)),
        SearchQuery(text="ho", centre_id=other, limit=3),
        SearchQuery(text="ho van an"),
        SearchQuery(text="ho van an", owner_id="001203004502"),
    ]
    for q in queries:
        expected = _hits(catalogue, q, None)
        assert expected, q
        assert [h.created_at for h in expected] == sorted((h.created_at for h in expected), reverse=True)
        for stats in (common, one_common, rare):
            assert _hits(catalogue, q, stats) == expected, (q, stats)
    walked = build_query(queries[0], catalogue.dialect_name, common)[1]
    if catalogue.dialect_name == "postgresql":  # every word tested on a walk of the centre's newest rows
        assert "window" in walked and "fts" not in walked
    else:  # FTS5 reads its matches newest first: the rarest word stays in the match
        assert walked["fts"] == f'centre : "zzcentre{centre}" AND folded_text : ("van")'
        assert {walked["w0"], walked["w1"]} == {"% an %", "% ho %"}
        assert build_query(queries[0], "sqlite", rare)[1]["fts"] == 'folded_text : ("ho" "van" "an")'


def test_a_walk_that_finds_too_few_asks_the_index(catalogue: Catalogue) -> None:
    """PostgreSQL walks a bounded window of the centre's newest rows for common words; when the window holds
    fewer than the page asks for, the search asks the index, so no older match is missed. (Documents are
    stored as they are made: on SQLite "newest" is the latest stored, the order FTS5 reads them in.)"""
    centre = create_centre(catalogue, "C01", "Trung tâm 1")
    now = datetime.now(UTC)
    ids = []
    for n in range(6):
        doc, code = add_document(
            catalogue,
            owner_id=f"0012030045{n:02d}",
            doc_type="birth_certificate",
            text=FORM.format("Hồ Văn An" if n < 2 else "Trần Thị Bình", "Huế"),
            created_at=now - timedelta(days=6 - n),
        )
        _set_dossier(catalogue, code, centre_id=centre)
        ids.append(doc)
    key = str(catalogue.engine.url)
    search_module._pg_stats[key] = (time.monotonic(), WordStats(1e6, {"ho": 1.0, "van": 1.0, "an": 1.0}, 0.01))
    try:
        q = SearchQuery(text="ho van an", centre_id=centre, limit=1)
        if catalogue.dialect_name == "postgresql":
            assert build_query(q, "postgresql", search_module._pg_stats[key][1])[1]["window"] == 3  # 3 newest only
        assert [h.id for h in search_documents(catalogue, q)] == [ids[1]]
    finally:
        search_module._pg_stats.pop(key, None)


def test_the_model_and_the_migration_agree_on_the_centre(db_url: str) -> None:
    assert model_drift(db_url, "centre") == []


def test_migration_0023_fills_the_centre_of_documents_already_stored(db_url: str) -> None:
    """Documents stored before 0023 get their dossier's centre (else the station's, else the default centre's)
    and are found by a centre's search at once; the migration goes down and up again."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, inspect

    from storage.catalogue.db import alembic_config

    cfg = alembic_config(db_url)
    before = str(ScriptDirectory.from_config(cfg).get_revision("0023").down_revision)
    command.upgrade(cfg, before)
    _load_30_documents(db_url)
    cat = Catalogue(db_url)
    try:
        north = create_centre(cat, "N01", "Trung tâm Bắc")
        create_client(cat, "trạm 1", ClientRole.STATION, centre_id=north)
        with cat.transaction() as conn:
            station = conn.execute(text("SELECT id FROM api_clients WHERE name = 'trạm 1'")).scalar_one()
            conn.execute(text("UPDATE dossiers SET centre_id = :c WHERE id < 10"), {"c": north})
            conn.execute(text("UPDATE dossiers SET station_id = :s WHERE id >= 10 AND id < 20"), {"s": station})
        default = create_centre(cat, DEFAULT_CENTRE_CODE, "UBND mặc định")
        command.upgrade(cfg, "head")
        with cat.transaction(readonly=True) as conn:
            rows = {i: c for i, c in conn.execute(text("SELECT id, centre_id FROM documents"))}
        assert rows == {i: north if i < 20 else default for i in range(30)}
        q = SearchQuery(centre_id=north, text="cong hoa viet nam", limit=100)  # every document has the motto
        assert sorted(h.id for h in search_documents(cat, q)) == list(range(20))
        command.downgrade(cfg, before)
        engine = create_engine(db_url)
        assert "centre_id" not in {c["name"] for c in inspect(engine).get_columns("documents")}
        engine.dispose()
        command.upgrade(cfg, "head")
        assert sorted(h.id for h in search_documents(cat, q)) == list(range(20))
    finally:
        cat.dispose()


def _fts_holds(cat: Catalogue) -> None:
    """SQLite: FTS5's own check that the index holds every document's text and centre as they are now."""
    with cat.transaction() as conn:
        conn.execute(text("INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)"))


def _in_fts(cat: Catalogue, match: str) -> list[int]:
    with cat.transaction(readonly=True) as conn:
        rows = conn.execute(text("SELECT rowid FROM documents_fts WHERE documents_fts MATCH :m"), {"m": match})
        return [r[0] for r in rows]


def test_sqlite_full_text_index_follows_each_documents_centre(catalogue: Catalogue) -> None:
    """SQLite (0025): the FTS5 index holds each document's centre (``zzcentre<id>``, its ``centre`` column), kept
    by triggers through every way a document gets or changes its centre, and its text only matches text."""
    if catalogue.dialect_name != "sqlite":
        pytest.skip("PostgreSQL's index has held the centre since 0023 (tested through the searches above)")
    doc, code = add_document(catalogue, owner_id="001203004567", doc_type="birth_certificate", text="Nguyễn Văn An")
    _fts_holds(catalogue)  # stored with no centre anywhere: indexed with none
    default = create_centre(catalogue, DEFAULT_CENTRE_CODE, "UBND mặc định")
    later, _ = add_document(catalogue, owner_id="001203004568", doc_type="diploma", text="Trần Văn Bình")
    _fts_holds(catalogue)  # the default centre taken by the stored one, the new one filled in on insert
    assert sorted(_in_fts(catalogue, f'centre : "zzcentre{default}"')) == [doc, later]
    north = create_centre(catalogue, "N01", "Trung tâm Bắc")
    create_client(catalogue, "trạm 1", ClientRole.STATION, centre_id=north)
    with catalogue.transaction(readonly=True) as conn:
        station = conn.execute(text("SELECT id FROM api_clients WHERE name = 'trạm 1'")).scalar_one()
    _set_dossier(catalogue, code, centre_id=None, station_id=station)
    _fts_holds(catalogue)
    assert _in_fts(catalogue, f'centre : "zzcentre{north}" AND folded_text : ("van")') == [doc]
    with catalogue.transaction() as conn:  # the text changes (a correction), the centre stays
        conn.execute(text("UPDATE documents SET folded_text = 'le thi cuc' WHERE id = :i"), {"i": doc})
    _fts_holds(catalogue)
    assert _in_fts(catalogue, f'centre : "zzcentre{north}" AND folded_text : ("cuc")') == [doc]
    assert _in_fts(catalogue, f'folded_text : "zzcentre{default}"') == []  # a centre is no word of the text
    found = lambda centre, words: [h.id for h in search_documents(catalogue, SearchQuery(centre_id=centre, text=words))]  # noqa: E731
    assert found(north, "cuc") == [doc] and found(default, "van") == [later] and found(north, "van") == []
    with catalogue.transaction() as conn:
        conn.execute(text("DELETE FROM document_parties"))
        conn.execute(text("DELETE FROM documents WHERE id = :i"), {"i": later})
    _fts_holds(catalogue)
    assert _in_fts(catalogue, f'centre : "zzcentre{default}"') == []


def test_migration_0025_indexes_the_centre_of_documents_already_stored(db_url: str) -> None:
    """SQLite's FTS5 index is rebuilt with each stored document's centre; the migration goes down (0002's index,
    text only) and up again. PostgreSQL: nothing changes."""
    from alembic import command

    from storage.catalogue.db import alembic_config

    cfg = alembic_config(db_url)
    command.upgrade(cfg, "0024")
    _load_30_documents(db_url)
    cat = Catalogue(db_url)
    try:
        north = create_centre(cat, "N01", "Trung tâm Bắc")
        with cat.transaction() as conn:
            conn.execute(text("UPDATE dossiers SET centre_id = :c WHERE id < 10"), {"c": north})
        q = SearchQuery(centre_id=north, text="cong hoa viet nam", limit=100)  # every document has the motto
        command.upgrade(cfg, "0025")
        if cat.dialect_name == "sqlite":
            _fts_holds(cat)
            assert sorted(_in_fts(cat, f'centre : "zzcentre{north}"')) == list(range(10))
        assert sorted(h.id for h in search_documents(cat, q)) == list(range(10))
        command.downgrade(cfg, "0024")
        if cat.dialect_name == "sqlite":
            _fts_holds(cat)
            with cat.transaction(readonly=True) as conn:
                columns = [r[1] for r in conn.execute(text("PRAGMA table_info(documents_fts)"))]
            assert columns == ["folded_text"]
        command.upgrade(cfg, "head")
        assert sorted(h.id for h in search_documents(cat, q)) == list(range(10))
    finally:
        cat.dispose()
