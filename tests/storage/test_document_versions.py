"""Migration 0010: documents and e-results name the version they were written as, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, text

from storage.catalogue.db import alembic_config
from storage.catalogue.models import Component, Document, Dossier, EResult
from storage.catalogue.warehouse_models import ObjectRecord
from tests.storage.factories import model_drift


@pytest.fixture
def at_0009(db_url: str) -> Iterator[str]:
    command.upgrade(alembic_config(db_url), "0009")
    yield db_url


def _rows(url: str) -> None:
    """A dossier with two documents and an e-result; the warehouse recorded versions of one document and the result.

    Core inserts name their columns (those with Python defaults added): none is ``object_version``, absent at 0009.
    """
    engine = create_engine(url)
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with engine.begin() as conn:
        code = "000.00.12.H26-261201-0001"
        conn.execute(
            insert(Dossier).values(
                id=1, code=code, procedure_code="1.001193", applicant_id="001090012345", batch_sha256="0" * 64
            )
        )
        for n in (1, 2):
            conn.execute(insert(Component).values(id=n, dossier_id=1, ref=f"c{n}", position=n))
            conn.execute(
                insert(Document).values(
                    id=n,
                    component_id=n,
                    owner_id="001090012345",
                    doc_type="other",
                    type_confidence=0.9,
                    page_count=1,
                    sha256=str(n) * 64,
                    size=1,
                    object_key=f"sha256/d{n}.pdf",
                    signed_by="s",
                    signed_at=at,
                    signature_level="B-T",
                )
            )
        conn.execute(
            insert(EResult).values(
                id=1,
                dossier_id=1,
                seq=1,
                code=f"{code}-KQ1",
                level="B-T",
                source_sha256="9" * 64,
                source_key="src",
                sha256="9" * 64,
                object_key="sha256/r1.pdf",
            )
        )
        recorded = [("documents", "sha256/d1.pdf", "vd1"), ("results", "sha256/r1.pdf", "vr1")]
        # Another bucket's object under a document's key names no version of that document.
        recorded.append(("raw", "sha256/d2.pdf", "vraw"))
        for bucket, key, version in recorded:
            conn.execute(
                insert(ObjectRecord).values(bucket=bucket, key=key, sha256="0" * 64, size=1, version_id=version)
            )
    engine.dispose()


def _versions(url: str) -> dict[str, list[tuple[int, str | None]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {
            table: [tuple(r) for r in conn.execute(text(f"SELECT id, object_version FROM {table} ORDER BY id"))]
            for table in ("documents", "eresults")
        }
    engine.dispose()
    return out


def test_rows_take_the_version_the_warehouse_recorded(at_0009: str) -> None:
    _rows(at_0009)
    command.upgrade(alembic_config(at_0009), "0010")
    assert _versions(at_0009) == {"documents": [(1, "vd1"), (2, None)], "eresults": [(1, "vr1")]}


def test_migration_0010_downgrades_and_upgrades(at_0009: str) -> None:
    _rows(at_0009)
    cfg = alembic_config(at_0009)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0009")
    engine = create_engine(at_0009)
    for table in ("documents", "eresults"):
        assert "object_version" not in {c["name"] for c in inspect(engine).get_columns(table)}
    engine.dispose()
    command.upgrade(cfg, "head")
    assert _versions(at_0009)["eresults"] == [(1, "vr1")]


def test_models_and_migrations_agree_on_object_versions(db_url: str) -> None:
    assert model_drift(db_url, "object_version") == []
