"""Migration 0014: ``document_parties``, the other people a document names, by số định danh.

On SQLite and PostgreSQL: a catalogue at 0013 with documents gains the table without touching them;
one number per document, rows go with their document, and the downgrade drops the table alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, delete, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.catalogue.db import alembic_config
from storage.catalogue.models import Component, Document, DocumentParty, Dossier

AT = datetime(2026, 12, 1, 8, tzinfo=UTC)
WIFE = "001192004567"


@pytest.fixture
def at_0013(db_url: str) -> Iterator[str]:
    command.upgrade(alembic_config(db_url), "0013")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            insert(Dossier).values(
                id=1,
                code="000.00.12.H26-261201-0001",
                procedure_code="1.001193",
                applicant_id="001090012345",
                batch_sha256="1" * 64,
                created_at=AT,
            )
        )
        conn.execute(insert(Component).values(id=1, dossier_id=1, ref="kh", position=0))
        conn.execute(
            insert(Document).values(
                id=1,
                component_id=1,
                owner_id="001090012345",
                doc_type="marriage_certificate",
                type_confidence=0.9,
                needs_review=False,
                fields={},
                text="GIẤY CHỨNG NHẬN KẾT HÔN",
                page_count=1,
                sha256="d" * 64,
                size=10,
                object_key="sha256/d",
                signed_by="Operator",
                signed_at=AT,
                signature_level="B-T",
                created_at=AT,
                dossier_code="000.00.12.H26-261201-0001",
                procedure_code="1.001193",
                folded_text="giay chung nhan ket hon",
            )
        )
    engine.dispose()
    yield db_url


def _foreign_keys(conn) -> None:  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA foreign_keys = ON"))


def test_the_table_indexes_a_documents_parties_one_number_each(at_0013: str) -> None:
    command.upgrade(alembic_config(at_0013), "0014")
    engine = create_engine(at_0013)
    assert "ix_document_parties_lookup" in {i["name"] for i in inspect(engine).get_indexes("document_parties")}
    with engine.begin() as conn:
        conn.execute(
            insert(DocumentParty).values(document_id=1, id_number=WIFE, role="wife", birth_date=date(1992, 11, 2))
        )
        rows = conn.execute(select(DocumentParty.id_number, DocumentParty.role, DocumentParty.birth_date)).all()
        assert [tuple(r) for r in rows] == [(WIFE, "wife", date(1992, 11, 2))]
        assert conn.execute(select(Document.owner_id)).scalar_one() == "001090012345"  # the document untouched
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(DocumentParty).values(document_id=1, id_number=WIFE, role="party_b"))
    with engine.begin() as conn:
        _foreign_keys(conn)
        conn.execute(delete(Document.__table__).where(Document.id == 1))
        assert conn.execute(select(DocumentParty.id)).all() == []  # the rows go with their document
    engine.dispose()


def test_migration_0014_downgrades_and_upgrades(at_0013: str) -> None:
    cfg = alembic_config(at_0013)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0013")
    engine = create_engine(at_0013)
    assert "document_parties" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(select(Document.id)).scalars().all() == [1]
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = create_engine(at_0013)
    assert "document_parties" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_model_and_the_migration_agree(db_url: str) -> None:
    from tests.storage.factories import model_drift

    assert model_drift(db_url, "document_parties") == []


def test_a_lookup_by_number_reads_both_indexes(sqlite_catalogue) -> None:  # type: ignore[no-untyped-def]
    """The owner's documents from the covering owner index, a party's through the party index: no scan."""
    from storage.warehouse.search import SearchQuery, build_query

    stmt, params = build_query(SearchQuery(owner_id=WIFE), "sqlite")
    with sqlite_catalogue.transaction() as conn:
        compiled = stmt.compile(conn)
        values = compiled.construct_params(params)
        positional = tuple(values[name] for name in compiled.positiontup or ())
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, positional)]
    assert any("COVERING INDEX ix_documents_owner_lookup" in step for step in plan), plan
    assert any("INDEX ix_document_parties_lookup (id_number=?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN documents") or step.startswith("SCAN document_parties") for step in plan)
