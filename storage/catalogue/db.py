"""Engine, sessions and schema migrations of the catalogue.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit survives a crash of the
process (the WAL is in the OS cache), but a power loss or OS crash may roll back the last
commits, leaving the database consistent. That is acceptable for job steps and object rows
(a lost row is redone by its step, or its orphan object is adopted by a retry), but not
for the access audit log, whose entry must outlive the read it records: transactions
opened with ``durable=True`` switch their connection to ``synchronous=FULL`` (the WAL is
fsynced at commit). PostgreSQL sessions likewise run with ``synchronous_commit=off``, and
durable work runs on connections of a second pool whose sessions run with ``on`` (see
``_postgres_durability``).
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, CursorResult, Dialect, Engine, Result, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from storage.catalogue import chain

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


SQLITE_LOCK_TIMEOUT_S = 30.0
_HOLDS_WRITER = "sohoa_holds_writer"


def rows_changed(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE run through a Session changed. SQLAlchemy types what Session.execute
    answers as a plain Result; for these statements it is a CursorResult, which counts them."""
    return cast("CursorResult[*tuple[Any, ...]]", result).rowcount


def _sqlite_path(url: str) -> Path | None:
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if not url.startswith("sqlite:///") or path in ("", ":memory:") else Path(path)


PRIVATE_FILE_MODE = 0o600


def _make_private(db_path: Path | None) -> None:
    """Create the SQLite catalogue readable by the service's user alone, and tighten an existing one.

    It holds names, số định danh, birth dates and key hashes. SQLite creates a new database
    with the process's umask (0644 by default) and gives its ``-wal`` and ``-shm`` files the
    database file's own mode, so creating the file 0600 first covers all three; files made
    by an older release are narrowed here.
    """
    if db_path is None:
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    # Never open (and close) an existing database file: closing any descriptor of a file drops
    # every POSIX lock this process holds on it, SQLite's among them. O_EXCL creates it only when
    # it is not there yet, so no connection of ours can have it open.
    with suppress(FileExistsError):
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for path in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(path, PRIVATE_FILE_MODE)


class _WriterLock:
    """One SQLite writer at a time: a thread lock, then an flock shared by every process."""

    def __init__(self, db_path: Path | None):
        self._thread = threading.Lock()
        self._lock_path = db_path.with_name(db_path.name + ".writer-lock") if db_path else None
        self._fd: int | None = None

    def acquire(self) -> None:
        if not self._thread.acquire(timeout=SQLITE_LOCK_TIMEOUT_S):
            raise TimeoutError(f"the catalogue's write lock was not free within {SQLITE_LOCK_TIMEOUT_S:.0f} s")
        try:
            if self._lock_path is not None:
                if self._fd is None:
                    self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread.release()


def make_engine(url: str, *, pooled: bool = True, durable: bool = False) -> Engine:
    """``durable`` (PostgreSQL only): the engine of durable work, whose commits wait for the WAL flush."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if pooled else {"poolclass": NullPool}),
        )

        @event.listens_for(engine, "do_connect")
        def _sqlite_private(
            _dialect: Dialect, _record: ConnectionPoolEntry, _cargs: list[Any], _cparams: dict[str, Any]
        ) -> None:
            _make_private(_sqlite_path(url))  # before SQLite creates the file with the umask's mode

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            dbapi_conn.create_function(chain.SQL_NAME, 3, chain.chain_hash, deterministic=True)

        # SQLite has one writer at a time, and a connection that finds the lock taken sleeps and
        # polls (1, 2, 5 … 100 ms): under many threads or processes that turns into long, unfair
        # waits. Writers queue instead: threads of this process on a lock, processes on an flock
        # of a file beside the database (the kernel wakes the next one; nobody polls).
        writer = _WriterLock(_sqlite_path(url))

        def _pragma(conn: Connection, name: str, value: str) -> None:
            """Set a connection-level PRAGMA (only outside a transaction), skipping it when already set."""
            if conn.info.get(name) != value:
                conn.exec_driver_sql(f"PRAGMA {name}={value}")
                conn.info[name] = value

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            options = conn.get_execution_options()
            if options.get("readonly", False):
                # WAL readers see a snapshot and never wait for the writer; query_only refuses writes.
                _pragma(conn, "query_only", "ON")
                conn.exec_driver_sql("BEGIN")
                return
            _pragma(conn, "query_only", "OFF")
            if not conn.info.get(_HOLDS_WRITER):
                writer.acquire()
                conn.info[_HOLDS_WRITER] = True
            try:
                _pragma(conn, "synchronous", "FULL" if options.get("durable", False) else "NORMAL")
                # Take the write lock up front: a deferred transaction that later writes can
                # fail with SQLITE_BUSY without waiting when another writer got in between.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release(conn.info)
                raise

        def _release(info: dict[Any, Any]) -> None:
            if info.pop(_HOLDS_WRITER, False):
                writer.release()

        # Released when the connection goes back to the pool: after its COMMIT or ROLLBACK ran.
        event.listen(engine.pool, "checkin", lambda _dbapi, record: _release(record.info))
        return engine
    if not pooled:
        engine = create_engine(url, poolclass=NullPool)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=10)
        _ping_when_idle(engine)
    if engine.dialect.name == "postgresql":
        _postgres_durability(engine, durable)
    return engine


def _postgres_durability(engine: Engine, durable: bool) -> None:
    """PostgreSQL as SQLite above: commits wait for the WAL flush only on durable work.

    Sessions of the ordinary pool run with ``synchronous_commit=off`` (a crash of the server
    may lose the last few hundred milliseconds of commits, never half of one); those of the
    durable pool with ``on``. Under a stream of object writes a flush of the WAL also waits
    for the disk's other writes, which made every object row cost more than the object's own
    upload. A pool per setting, rather than ``SET LOCAL`` in each durable transaction, spares
    that round trip and lets a durable statement run on its own, without BEGIN and COMMIT.
    """
    setting = f"SET synchronous_commit = {'on' if durable else 'off'}"

    @event.listens_for(engine, "connect")
    def _session_default(dbapi: Any, _record: Any) -> None:
        was_autocommit = dbapi.autocommit
        dbapi.autocommit = True
        try:
            dbapi.execute(setting)
        finally:
            dbapi.autocommit = was_autocommit


PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle (``pool_pre_ping`` checks every time).

    A ping is a round trip; on the audited read path it cost as much as the audit entry's
    statements. A connection used in the last ``PING_AFTER_IDLE_S`` is taken as alive; if
    the server went away meanwhile, the first statement fails with a disconnect, which drops
    every pooled connection (SQLAlchemy does it for its statements, ``DriverSQL`` for its
    own), and the step or request that met it is retried or answered with an error like any
    other transient fault.
    """

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi)  # as pool_pre_ping does: outside any transaction
        except Exception as exc:
            raise DisconnectionError(f"pooled connection is dead: {exc}") from exc  # the pool tries a new one


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _at_head(url: str) -> bool:
    """Whether the catalogue already is at the newest revision: then a command's start runs no migration
    machinery (nor logs it). Any doubt answers False and the upgrade, idempotent, decides."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except DBAPIError:
        return False
    finally:
        engine.dispose()
    return current == heads


def migrate(url: str) -> None:
    """Bring the catalogue schema to the newest revision."""
    _make_private(_sqlite_path(url))
    if not _at_head(url):
        command.upgrade(alembic_config(url), "head")


class DriverSQL:
    """A hot statement run on the driver's cursor, inside the caller's transaction.

    For the few statements every audited read runs, SQLAlchemy's per-statement work (cache
    lookup, type processing, result wrapping) costs several times the database's own. Write
    the SQL once with ``:name`` parameters; datetimes are bound as the models store them
    (``UtcDateTime``: UTC text on SQLite) and dicts as JSON. PostgreSQL (psycopg) prepares a
    statement after a few runs on the same connection.
    """

    def __init__(self, sql: str):
        self.sql = {"sqlite": sql, "postgresql": re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)}

    @classmethod
    @functools.lru_cache(maxsize=64)
    def insert(cls, table: str, columns: tuple[str, ...], returning: str = "") -> DriverSQL:
        """``INSERT INTO table (columns…) VALUES (:column…)``, built once per table and column set."""
        values = ", ".join(f":{c}" for c in columns)
        tail = f" RETURNING {returning}" if returning else ""
        return cls(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}){tail}")

    def run(self, conn: Connection | Session, params: Mapping[str, Any] | None = None) -> Any:
        """Execute; returns the DBAPI cursor (``fetchone``/``fetchall``)."""
        return self._execute(conn, [params or {}], many=False)

    def run_many(self, conn: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (``executemany``: one pipelined batch on PostgreSQL)."""
        if rows:
            self._execute(conn, rows, many=True)

    def _execute(self, conn: Connection | Session, rows: Sequence[Mapping[str, Any]], *, many: bool) -> Any:
        core = conn if isinstance(conn, Connection) else conn.connection()
        dialect = core.dialect.name
        sql = self.sql[dialect]
        bound = [{k: _driver_value(dialect, v) for k, v in row.items()} for row in rows]
        cursor = core.connection.cursor()
        with _as_sqlalchemy_errors(core, sql, bound if many else bound[0], cursor):
            if many:
                cursor.executemany(sql, bound)
            else:
                cursor.execute(sql, bound[0])
        return cursor


@contextmanager
def _as_sqlalchemy_errors(core: Connection, sql: str, params: Any, cursor: Any) -> Iterator[None]:
    """A driver error as SQLAlchemy raises it for its own statements (``IntegrityError``, ``OperationalError``…).

    On a lost connection the pool is replaced too, as SQLAlchemy does: the others in it
    point at the same gone server and should not each fail a request of their own.
    """
    try:
        yield
    except core.dialect.loaded_dbapi.Error as exc:
        gone = core.dialect.is_disconnect(exc, core.connection.dbapi_connection, cursor)
        if gone:
            core.invalidate(exc)
            core.engine.dispose(close=False)
        raise DBAPIError.instance(
            sql, params, exc, core.dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=core.dialect
        ) from exc


class Autocommit:
    """A pooled connection for single-statement reads and writes, each its own transaction.

    Saves PostgreSQL the BEGIN and COMMIT round trips. On SQLite a read runs in the driver's
    autocommit mode (WAL: no lock taken) and a write in a transaction of its own, so that it
    queues for the write lock like every other writer.
    """

    def __init__(self, connection: Connection):
        self.connection = connection

    def read(self, sql: DriverSQL, params: Mapping[str, Any] | None = None) -> Any:
        return sql.run(self.connection, params)

    def write(self, sql: DriverSQL, params: Mapping[str, Any] | None = None) -> None:
        if self.connection.dialect.name == "sqlite":
            with self.connection.begin():
                sql.run(self.connection, params)
        else:
            sql.run(self.connection, params)


_AS_IS = frozenset({str, int, bool, float, type(None)})


def _driver_value(dialect: str, value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, dict):
        return json.dumps(value)
    if dialect != "sqlite":
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime stored in the catalogue")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()  # as SQLAlchemy's Date stores it
    return value


class Catalogue:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.dialect_name = self.engine.dialect.name
        # PostgreSQL: durable work has its own engine (module docstring). SQLite: one engine, so that
        # its writers queue on one lock; durability is a PRAGMA set per transaction.
        self._durable_base = make_engine(url, durable=True) if self.dialect_name == "postgresql" else self.engine
        self._durable_engine = self._durable_base.execution_options(durable=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._durable_sessions = sessionmaker(self._durable_engine, expire_on_commit=False)
        self._reading_engine = self.engine.execution_options(readonly=True)
        self._reading_sessions = sessionmaker(self._reading_engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, durable: bool = False) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error (``durable``: module doc)."""
        with (self._durable_sessions if durable else self._sessions)() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session: on SQLite it neither takes nor waits for the write lock (writes fail)."""
        with self._reading_sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self, *, durable: bool = False, readonly: bool = False) -> Iterator[Connection]:
        """A Core connection in a transaction, for hot paths where a session's bookkeeping shows.

        ``durable``: see the module docstring; ``readonly``: as ``reading``.
        """
        engine = self._reading_engine if readonly else self._durable_engine if durable else self.engine
        with engine.begin() as conn:
            yield conn

    @contextmanager
    def autocommit(self, *, durable: bool = False) -> Iterator[Autocommit]:
        """See ``Autocommit``; SQLite's driver connections are in autocommit mode already.

        ``durable``: each statement's commit waits for the WAL flush (see the module docstring).
        """
        with (self._durable_engine if durable else self.engine).connect() as conn:
            if conn.dialect.name != "sqlite":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            yield Autocommit(conn)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._durable_base is not self.engine:
            self._durable_base.dispose()
