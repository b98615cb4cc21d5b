"""Migration 0013: every object the other tables name gets its row in ``stored_objects``.

On SQLite and PostgreSQL: a catalogue at 0012 as the pipeline left it (documents, e-results,
raw scans and archives written past the warehouse) is backfilled so that scrub, which now
walks ``stored_objects`` alone, checks everything it checked before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, text

from storage.catalogue.db import alembic_config
from storage.catalogue.models import Component, Document, Dossier, EResult, EResultVersion, ScanFile
from storage.catalogue.warehouse_models import ObjectRecord

OLD = datetime(2026, 11, 1, 8, tzinfo=UTC)
NEW = datetime(2026, 12, 1, 8, tzinfo=UTC)


@pytest.fixture
def at_0012(db_url: str) -> Iterator[str]:
    command.upgrade(alembic_config(db_url), "0012")
    yield db_url


def _rows(url: str) -> None:
    """Two dossiers sending the same scan; one kept as a zip with a scan not yet unpacked; a document
    the warehouse already recorded (its row must stay as it is); an e-result re-time-stamped once."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for n, at, archive in ((1, OLD, None), (2, NEW, ("sha256/zip.zip", "z" * 64))):
            conn.execute(
                insert(Dossier).values(
                    id=n,
                    code=f"000.00.12.H26-261201-000{n}",
                    procedure_code="1.001193",
                    applicant_id="001090012345",
                    batch_sha256=str(n) * 64,
                    archive_key=archive and archive[0],
                    archive_sha256=archive and archive[1],
                    created_at=at,
                )
            )
            conn.execute(insert(Component).values(id=n, dossier_id=n, ref="c1", position=0))
            conn.execute(
                insert(ScanFile).values(
                    component_id=n, position=0, filename="a.jpg", sha256="a" * 64, size=5, object_key="sha256/a"
                )
            )
        conn.execute(
            insert(ScanFile).values(
                component_id=2,
                position=1,
                filename="b.jpg",
                sha256="b" * 64,
                size=6,
                object_key="sha256/b",
                stored=False,
            )
        )
        for n, key in ((1, "sha256/d1.pdf"), (2, "sha256/d2.pdf")):
            conn.execute(
                insert(Document).values(
                    component_id=n,
                    owner_id="001090012345",
                    doc_type="diploma",
                    type_confidence=1.0,
                    page_count=1,
                    sha256=str(n + 2) * 64,
                    size=100 * n,
                    object_key=key,
                    object_version=f"dv{n}",
                    signed_by="X",
                    signed_at=OLD,
                    signature_level="B-T",
                    created_at=OLD,
                )
            )
        conn.execute(
            insert(ObjectRecord).values(
                bucket="documents", key="sha256/d2.pdf", sha256="4" * 64, size=200, version_id="mine", created_at=NEW
            )
        )
        conn.execute(
            insert(EResult).values(
                id=1,
                dossier_id=2,
                seq=1,
                code="000.00.12.H26-261201-0002-KQ1",
                level="B-LTA",
                state="done",
                source_sha256="s" * 64,
                source_key="sha256/src.pdf",
                sha256="r" * 64,
                size=300,
                object_key="sha256/r2.pdf",
                created_at=NEW,
            )
        )
        conn.execute(
            insert(EResult).values(
                id=2,
                dossier_id=2,
                seq=2,
                code="000.00.12.H26-261201-0002-KQ2",
                level="B-T",
                state="failed",  # never signed: nothing stored but its source
                source_sha256="s" * 64,
                source_key="sha256/src.pdf",
                created_at=NEW,
            )
        )
        conn.execute(insert(EResultVersion).values(eresult_id=1, object_key="sha256/r1.pdf", sha256="q" * 64, size=290))
    engine.dispose()


def _catalogued(url: str) -> dict[tuple[str, str], tuple[str, int, str | None, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT bucket, key, sha256, size, version_id, state FROM stored_objects")).all()
    engine.dispose()
    return {(b, k): (sha, size, version, state) for b, k, sha, size, version, state in rows}


def _aged(url: str, key: str) -> datetime:
    engine = create_engine(url)
    with engine.connect() as conn:
        at = conn.execute(text("SELECT updated_at FROM stored_objects WHERE key = :k"), {"k": key}).scalar_one()
    engine.dispose()
    if isinstance(at, str):  # SQLite hands back the stored text
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def test_every_object_named_elsewhere_gets_its_row(at_0012: str) -> None:
    _rows(at_0012)
    command.upgrade(alembic_config(at_0012), "0013")
    assert _catalogued(at_0012) == {
        ("documents", "sha256/d1.pdf"): ("3" * 64, 100, "dv1", "stored"),
        ("documents", "sha256/d2.pdf"): ("4" * 64, 200, "mine", "stored"),  # recorded before: untouched
        ("results", "sha256/r2.pdf"): ("r" * 64, 300, None, "stored"),
        ("results", "sha256/r1.pdf"): ("q" * 64, 290, None, "stored"),
        ("raw", "sha256/src.pdf"): ("s" * 64, 0, None, "stored"),
        ("raw", "sha256/a"): ("a" * 64, 5, None, "stored"),  # once, though two dossiers sent it
        ("raw", "sha256/zip.zip"): ("z" * 64, 0, None, "stored"),
        # sha256/b is still inside the archive: no object of its own to check
    }
    assert _aged(at_0012, "sha256/a") == NEW  # a scan's expiry runs from the newest dossier that sent it


def test_migration_0013_downgrades_and_upgrades(at_0012: str) -> None:
    _rows(at_0012)
    cfg = alembic_config(at_0012)
    command.upgrade(cfg, "head")
    after = _catalogued(at_0012)
    command.downgrade(cfg, "0012")
    assert _catalogued(at_0012) == after  # the rows stay
    command.upgrade(cfg, "head")
    assert _catalogued(at_0012) == after  # and are not written twice
