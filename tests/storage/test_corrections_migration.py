"""Migration 0017: officers' corrections of digitised components, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from storage.catalogue.db import alembic_config
from tests.storage.factories import model_drift


def test_models_and_migrations_agree_on_corrections(db_url: str) -> None:
    assert model_drift(db_url, "corrections") == []


def test_migration_0017_downgrades_and_upgrades(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0016")
    engine = create_engine(db_url)
    assert "corrections" not in inspect(engine).get_table_names()
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = create_engine(db_url)
    assert "corrections" in inspect(engine).get_table_names()
    engine.dispose()
