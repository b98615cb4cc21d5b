"""Migration 0012: an e-result's earlier versions move from its schedule row's output to their own table.

On SQLite and PostgreSQL: rows written at 0011 the way maintenance wrote them (versions in the
``retimestamp`` step's output) are backfilled, in order, and the downgrade puts them back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select, text

from dossiers.results import earlier_versions
from storage.catalogue.db import Catalogue, alembic_config
from storage.catalogue.models import Dossier, EResult, JobStep
from storage.catalogue.warehouse_models import ObjectRecord
from tests.storage.factories import model_drift

CODE = "000.00.12.H26-261201-0001"
V1 = {"key": "sha256/v1.pdf", "sha256": "1" * 64, "size": 11}
V2 = {"key": "sha256/v2.pdf", "sha256": "2" * 64, "size": 22}
EXPIRY = "2028-01-01T00:00:00+00:00"


@pytest.fixture
def at_0011(db_url: str) -> Iterator[str]:
    command.upgrade(alembic_config(db_url), "0011")
    yield db_url


def _rows(url: str) -> None:
    """Two B-LTA e-results: one re-time-stamped twice (versions in its step's output), one never (empty list).

    The warehouse recorded a version for the first original (as on a versioned store); not for the second.
    """
    engine = create_engine(url)
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Dossier).values(
                id=1, code=CODE, procedure_code="1.001193", applicant_id="001090012345", batch_sha256="0" * 64
            )
        )
        for n in (1, 2):
            conn.execute(
                insert(EResult).values(
                    id=n,
                    dossier_id=1,
                    seq=n,
                    code=f"{CODE}-KQ{n}",
                    level="B-LTA",
                    state="done",
                    source_sha256="9" * 64,
                    source_key="src",
                    sha256=str(n + 4) * 64,
                    object_key=f"sha256/r{n}.pdf",
                    created_at=at,
                )
            )
        outputs: dict[int, dict[str, Any]] = {
            1: {"timestamp_expiry": EXPIRY, "versions": [V1, V2]},
            2: {"timestamp_expiry": EXPIRY, "versions": []},
        }
        for n, output in outputs.items():
            conn.execute(
                insert(JobStep).values(
                    id=n,
                    kind="retimestamp",
                    queue="maintenance",
                    eresult_id=n,
                    state="done",
                    attempts=0,
                    output=output,
                    created_at=at,
                    updated_at=at,
                )
            )
        conn.execute(
            insert(ObjectRecord).values(bucket="results", key=V1["key"], sha256=V1["sha256"], size=11, version_id="x1")
        )
        # Another bucket's object under a version's key names no version of it.
        conn.execute(insert(ObjectRecord).values(bucket="raw", key=V2["key"], sha256="0" * 64, size=1, version_id="x"))
    engine.dispose()


def _outputs(url: str) -> dict[int, dict[str, Any]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {row.id: row.output for row in conn.execute(select(JobStep.id, JobStep.output).order_by(JobStep.id))}
    engine.dispose()
    return out


def test_versions_are_backfilled_from_the_schedule_rows(at_0011: str) -> None:
    _rows(at_0011)
    command.upgrade(alembic_config(at_0011), "0012")
    engine = create_engine(at_0011)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT eresult_id, object_key, sha256, size, object_version, replaced_at "
                "FROM eresult_versions ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, V1["key"], V1["sha256"], 11, "x1", None),
        (1, V2["key"], V2["sha256"], 22, None, None),
    ]
    assert _outputs(at_0011) == {1: {"timestamp_expiry": EXPIRY}, 2: {"timestamp_expiry": EXPIRY}}
    cat = Catalogue(at_0011)
    try:
        with cat.reading() as s:
            assert earlier_versions(s, 1) == [V1["sha256"], V2["sha256"]]
            assert earlier_versions(s, 2) == []
    finally:
        cat.dispose()


def test_migration_0012_downgrades_and_upgrades(at_0011: str) -> None:
    _rows(at_0011)
    before = _outputs(at_0011)
    cfg = alembic_config(at_0011)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0011")
    engine = create_engine(at_0011)
    assert "eresult_versions" not in inspect(engine).get_table_names()
    engine.dispose()
    assert _outputs(at_0011) == {1: before[1], 2: {"timestamp_expiry": EXPIRY}}  # an empty history is not written back
    command.upgrade(cfg, "head")
    cat = Catalogue(at_0011)
    try:
        with cat.reading() as s:
            assert earlier_versions(s, 1) == [V1["sha256"], V2["sha256"]]
    finally:
        cat.dispose()


def test_models_and_migrations_agree_on_eresult_versions(db_url: str) -> None:
    assert model_drift(db_url, "eresult_version") == []
