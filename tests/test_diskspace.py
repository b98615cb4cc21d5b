"""Telling a full disk from other failures, on real errors: /dev/full's ENOSPC and SQLite's SQLITE_FULL."""

from __future__ import annotations

import errno
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from sohoa.diskspace import folder_space, is_disk_full, storage_full, watched_folders
from sohoa.errors import StorageFull
from sohoa.settings import Settings, StorageSettings
from storage.errors import ObjectStoreUnavailable


def enospc() -> OSError:
    try:
        with open("/dev/full", "wb", buffering=0) as full:
            full.write(b"x")
    except OSError as exc:
        return exc
    raise AssertionError("/dev/full accepted a write")


def sqlite_full(path: Path) -> sqlite3.Error:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (x BLOB)")
        db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
        try:
            db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        except sqlite3.Error as exc:
            return exc
    raise AssertionError("SQLite grew past max_page_count")


def test_enospc_and_sqlite_full_are_a_full_disk(tmp_path: Path) -> None:
    assert enospc().errno == errno.ENOSPC and is_disk_full(enospc())
    assert is_disk_full(sqlite_full(tmp_path / "a.sqlite3"))
    assert is_disk_full(StorageFull())


def test_a_full_disk_is_found_under_what_it_was_raised_as(tmp_path: Path) -> None:
    try:
        try:
            raise enospc()
        except OSError as exc:
            raise ObjectStoreUnavailable("put") from exc  # a coded error raised from it
    except ObjectStoreUnavailable as coded:
        assert is_disk_full(coded)
    try:
        try:
            raise enospc()
        except OSError:
            raise RuntimeError("cleanup failed too")  # noqa: B904 - only the implicit context links them
    except RuntimeError as implicit:
        assert is_disk_full(implicit)

    engine = create_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x BLOB)"))
    with pytest.raises(OperationalError) as caught, engine.begin() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar()
        conn.execute(text(f"PRAGMA max_page_count = {pages}"))
        conn.execute(text("INSERT INTO t VALUES (:secret)"), {"secret": b"001090012345" * 10000})
    assert is_disk_full(caught.value)
    reported = storage_full(caught.value)
    assert reported.code == "STORAGE_FULL" and reported.retryable
    assert "001090012345" not in reported.detail and "INSERT" not in reported.detail  # the driver's words only


def test_other_failures_are_not_a_full_disk(tmp_path: Path) -> None:
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(FileNotFoundError(errno.ENOENT, "gone"))
    assert not is_disk_full(ObjectStoreUnavailable("connection refused"))
    with closing(sqlite3.connect(tmp_path / "c.sqlite3")) as db, pytest.raises(sqlite3.Error) as caught:
        db.execute("SELECT * FROM missing")
    assert not is_disk_full(caught.value)


def test_each_written_folder_is_watched_against_the_low_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'db' / 'c.sqlite3'}")
    folders = watched_folders(settings)
    assert folders == {
        "var_dir": tmp_path / "var",
        "objects": tmp_path / "var" / "objects",
        "tmp": tmp_path / "tmp",
        "catalogue": tmp_path / "db",
    }
    assert {f.name for f in folder_space(settings)} == set(folders)  # folders not made yet: their parents'
    assert not any(
        f.low for f in folder_space(settings.model_copy(update={"storage": StorageSettings(min_free_bytes=0)}))
    )
    huge = settings.model_copy(update={"storage": StorageSettings(min_free_bytes=2**62)})
    assert all(f.low and 0 < f.free_bytes < f.total_bytes for f in folder_space(huge))
