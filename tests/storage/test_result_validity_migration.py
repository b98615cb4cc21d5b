"""Migration 0019: a result's validity and scope of use, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from storage.catalogue.db import alembic_config
from tests.storage.factories import model_drift


def test_models_and_migrations_agree_on_validity_and_scope(db_url: str) -> None:
    assert model_drift(db_url, "eresults") == []


def test_migration_0019_downgrades_and_upgrades(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0018")
    engine = create_engine(db_url)
    assert not {"validity", "scope"} & {c["name"] for c in inspect(engine).get_columns("eresults")}
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = create_engine(db_url)
    assert {"validity", "scope"} <= {c["name"] for c in inspect(engine).get_columns("eresults")}
    engine.dispose()


def test_migration_0020_agencies_can_be_disabled(db_url: str) -> None:
    assert model_drift(db_url, "agencies") == []
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0019")
    engine = create_engine(db_url)
    assert "disabled_at" not in {c["name"] for c in inspect(engine).get_columns("agencies")}
    engine.dispose()
    command.upgrade(cfg, "head")
