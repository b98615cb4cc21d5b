"""Catalogue transactions under threads: readers never wait for the writer, writers queue instead of failing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from dossiers.services import Services
from storage.catalogue import db
from storage.catalogue.clients import authenticate, create_client
from storage.catalogue.db import Catalogue, DriverSQL, make_engine
from storage.catalogue.models import ApiClient, ClientRole, utcnow
from testkit.scheduling import run_in_threads


def test_a_reader_does_not_wait_for_an_open_write_transaction(services: Services) -> None:
    cat = services.catalogue
    key = create_client(cat, "Trạm 1", ClientRole.STATION)
    writing, read_done, outcome = threading.Event(), threading.Event(), {}

    def writer() -> None:
        with cat.session() as s:
            s.add(ApiClient(name="Trạm 2", role=ClientRole.STATION, key_prefix="p2", key_hash="h"))
            s.flush()
            writing.set()
            outcome["reader_finished_first"] = read_done.wait(20)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(20)
    principal = authenticate(cat, key)  # a read-only session
    read_done.set()
    thread.join()
    assert principal is not None and principal.name == "Trạm 1"
    assert outcome["reader_finished_first"], "the reader waited for the writer's commit"
    with cat.reading() as s:
        assert s.scalar(select(func.count(ApiClient.id))) == 2


def test_a_read_only_session_refuses_writes(services: Services) -> None:
    with pytest.raises(OperationalError), services.catalogue.reading() as s:
        s.add(ApiClient(name="x", role=ClientRole.STATION, key_prefix="p", key_hash="h"))
        s.flush()


def test_concurrent_writers_all_commit(services: Services) -> None:

    def write(n: int) -> None:
        for i in range(15):
            create_client(services.catalogue, f"Trạm {n}-{i}", ClientRole.STATION)

    assert run_in_threads(write, 8) == []
    with services.catalogue.reading() as s:
        assert s.scalar(select(func.count(ApiClient.id))) == 8 * 15


def _backend_pid(cat: Catalogue) -> int:
    with cat.transaction(readonly=True) as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg_url: str, pid: int) -> None:
    admin = make_engine(pg_url, pooled=False)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
    admin.dispose()


def test_an_idle_pooled_connection_is_checked_and_replaced_when_dead(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = Catalogue(pg_url)
    try:
        first = _backend_pid(cat)
        assert _backend_pid(cat) == first  # the pool hands the same connection back
        _terminate(pg_url, first)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every connection counts as idle: pinged
        assert _backend_pid(cat) not in (first, 0)  # no error: the dead one was swapped at checkout
    finally:
        cat.dispose()


def test_a_recently_used_connection_is_not_pinged_and_a_dead_one_fails_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trade-off of skipping the ping: one statement meets the disconnect, then the pool is fresh."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)  # however slow this machine, the connection counts as fresh
    cat = Catalogue(pg_url)
    try:
        _terminate(pg_url, _backend_pid(cat))
        with pytest.raises(OperationalError):
            _backend_pid(cat)
        assert _backend_pid(cat) > 0
    finally:
        cat.dispose()


_PID = DriverSQL("SELECT pg_backend_pid()")


def test_a_driver_statement_that_meets_a_dead_server_fails_once_and_refreshes_the_pool(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)  # no ping finds the dead connections first
    cat = Catalogue(pg_url)
    try:
        with cat.autocommit() as a, cat.autocommit() as b:  # two connections in the pool
            pids = [_PID.run(c.connection).fetchone()[0] for c in (a, b)]
        for pid in pids:
            _terminate(pg_url, pid)
        with pytest.raises(OperationalError), cat.autocommit() as conn:  # as SQLAlchemy raises its own
            _PID.run(conn.connection)
        with cat.autocommit() as a, cat.autocommit() as b:  # both fresh: the second dead one was dropped too
            fresh = [_PID.run(c.connection).fetchone()[0] for c in (a, b)]
        assert not set(fresh) & set(pids)
    finally:
        cat.dispose()


def test_driver_statements_raise_sqlalchemy_integrity_errors(db_services: Services) -> None:
    insert = DriverSQL(
        "INSERT INTO api_clients (name, role, key_prefix, key_hash, created_at) VALUES (:n, 'station', 'dup', 'h', :at)"
    )
    cat = db_services.catalogue
    with cat.transaction() as conn:
        insert.run(conn, {"n": "Trạm 1", "at": utcnow()})
    with pytest.raises(IntegrityError, match=r"(?i)unique"), cat.transaction() as conn:
        insert.run(conn, {"n": "Trạm 2", "at": utcnow()})
