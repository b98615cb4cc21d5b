"""Files that hold personal data are the service user's alone, whatever the process's umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.catalogue.db import make_engine, migrate
from storage.objectstore import Bucket
from storage.objectstore.local import LocalObjectStore


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service (0022): new files would be world-readable by default."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _catalogue_files(db: Path) -> list[Path]:
    return [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]


def test_a_new_sqlite_catalogue_and_its_wal_are_private(tmp_path: Path, usual_umask: None) -> None:
    db = tmp_path / "var" / "catalogue.sqlite3"
    url = f"sqlite:///{db}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
        files = _catalogue_files(db)
        assert {p.name for p in files} == {"catalogue.sqlite3", "catalogue.sqlite3-wal", "catalogue.sqlite3-shm"}
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        engine.dispose()


def test_a_world_readable_catalogue_from_an_older_release_is_narrowed(tmp_path: Path, usual_umask: None) -> None:
    db = tmp_path / "catalogue.sqlite3"
    url = f"sqlite:///{db}"
    migrate(url)
    for path in _catalogue_files(db):
        path.chmod(0o644)
    assert _mode(db) == 0o644
    engine = make_engine(url)
    with engine.connect():  # the service's first connection narrows them
        pass
    engine.dispose()
    assert all(_mode(p) == 0o600 for p in _catalogue_files(db))


def test_local_store_objects_are_readable_by_the_service_alone(tmp_path: Path, usual_umask: None) -> None:
    store = LocalObjectStore(tmp_path)
    scan = store.put_bytes(Bucket.RAW, b"a citizen's scan", suffix=".png")
    result = store.put_bytes(Bucket.RESULTS, b"a signed e-result", suffix=".pdf")
    assert _mode(tmp_path / "raw" / scan.key) & 0o077 == 0
    assert _mode(tmp_path / "results" / result.key) == 0o400  # locked: read-only, and private
    assert store.get_bytes(Bucket.RESULTS, result.key, sha256=result.sha256) == b"a signed e-result"
