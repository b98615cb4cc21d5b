"""Catalogue schema and credentials on SQLite and the real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from dossiers.services import Services
from storage.catalogue.clients import StationLimits, authenticate, create_client, revoke_client
from storage.catalogue.db import migrate
from storage.catalogue.models import ClientRole


def test_migrations_create_every_table_and_are_repeatable(db_services: Services) -> None:
    migrate(db_services.settings.db_url)  # second run is a no-op
    tables = set(inspect(db_services.catalogue.engine).get_table_names())
    assert {"dossiers", "components", "scan_files", "documents", "eresults", "job_steps", "api_clients"} <= tables


def test_api_keys_are_hashed_forgeries_and_revoked_keys_refused(db_services: Services) -> None:
    cat = db_services.catalogue
    key = create_client(cat, "Trạm 1", ClientRole.STATION)
    principal = authenticate(cat, key)
    assert principal is not None and principal.role == ClientRole.STATION and principal.name == "Trạm 1"
    prefix, secret = key.split("_")[1], key.split("_", 2)[2]
    assert authenticate(cat, f"sohoa_{prefix}_{secret[:-1]}x") is None
    assert authenticate(cat, "sohoa_000000000000_" + secret) is None
    assert authenticate(cat, "garbage") is None
    with cat.session() as s:
        stored = s.execute(text("SELECT key_hash, key_prefix FROM api_clients"))
        assert secret not in str(stored.all())
    assert revoke_client(cat, prefix)
    assert authenticate(cat, key) is None


def test_a_station_key_carries_its_own_limits(db_services: Services) -> None:
    cat = db_services.catalogue
    limits = StationLimits(batches_per_minute=1.5, batch_burst=3, max_batch_bytes=50_000_000)
    principal = authenticate(cat, create_client(cat, "Trạm 2", ClientRole.STATION, limits=limits))
    assert principal is not None and principal.limits == limits
    officer = authenticate(cat, create_client(cat, "Cán bộ", ClientRole.OFFICER, agency_code="000.00.12.H26"))
    assert officer is not None and officer.limits == StationLimits() and officer.agency_code == "000.00.12.H26"


def test_durable_transactions_fsync_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Audit entries commit with synchronous=FULL; other transactions keep NORMAL (WAL)."""
    from storage.catalogue.db import Catalogue

    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    migrate(url)
    cat = Catalogue(url)
    try:
        levels = []
        for durable in (False, True, False):
            with cat.transaction(durable=durable) as conn:
                levels.append(conn.exec_driver_sql("PRAGMA synchronous").scalar())
            with cat.session(durable=durable) as s:
                levels.append(s.connection().exec_driver_sql("PRAGMA synchronous").scalar())
        assert levels == [1, 1, 2, 2, 1, 1]  # NORMAL, FULL
    finally:
        cat.dispose()


def test_durable_transactions_wait_for_the_wal_on_postgresql(pg_url: str) -> None:
    """The same split on PostgreSQL: synchronous_commit on for durable work only (its own pool)."""
    from storage.catalogue.db import Catalogue

    cat = Catalogue(pg_url)
    show = "SHOW synchronous_commit"
    try:
        levels = []
        for durable in (False, True, False):
            with cat.transaction(durable=durable) as conn:
                levels.append(conn.exec_driver_sql(show).scalar())
            with cat.session(durable=durable) as s:
                levels.append(s.connection().exec_driver_sql(show).scalar())
        for durable in (False, True):
            with cat.autocommit(durable=durable) as db:
                levels.append(db.connection.exec_driver_sql(show).scalar())
        assert levels == ["off", "off", "on", "on", "off", "off", "off", "on"]
        with pytest.raises(RuntimeError), cat.transaction(durable=True) as conn:
            conn.exec_driver_sql("SET synchronous_commit = off")
            raise RuntimeError("rolled back")  # a SET in a transaction that fails is undone with it
        with cat.transaction(durable=True) as conn:
            assert conn.exec_driver_sql(show).scalar() == "on"
    finally:
        cat.dispose()
