"""Migration 0011: the stations' day (pipeline work, reuse lookups) in the catalogue, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from storage.catalogue.db import alembic_config
from tests.storage.factories import model_drift

TABLES = ("station_usage", "reuse_lookups")


def test_models_and_migrations_agree_on_the_stations_day(db_url: str) -> None:
    assert [d for t in TABLES for d in model_drift(db_url, t)] == []


def test_migration_0011_downgrades_and_upgrades(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0010")
    engine = create_engine(db_url)
    assert not set(TABLES) & set(inspect(engine).get_table_names())
    engine.dispose()
    command.upgrade(cfg, "head")
    engine = create_engine(db_url)
    assert set(TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()
