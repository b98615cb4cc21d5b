"""Migration 0024: the statistics' indexes on ``created_at``, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from storage.catalogue.db import alembic_config
from tests.storage.factories import model_drift

INDEXES = {"dossiers": "ix_dossiers_created_at", "eresults": "ix_eresults_created_at"}


def _indexed(db_url: str) -> dict[str, bool]:
    engine = create_engine(db_url)
    try:
        found = inspect(engine)
        return {table: name in {i["name"] for i in found.get_indexes(table)} for table, name in INDEXES.items()}
    finally:
        engine.dispose()


def test_migration_0024_models_agree_and_it_downgrades(db_url: str) -> None:
    assert model_drift(db_url, "created_at") == []
    assert _indexed(db_url) == {"dossiers": True, "eresults": True}
    cfg = alembic_config(db_url)
    command.downgrade(cfg, str(ScriptDirectory.from_config(cfg).get_revision("0024").down_revision))
    assert _indexed(db_url) == {"dossiers": False, "eresults": False}
    command.upgrade(cfg, "head")
    assert _indexed(db_url) == {"dossiers": True, "eresults": True}
