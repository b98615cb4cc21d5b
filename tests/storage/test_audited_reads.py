"""Audited warehouse reads on the local store and a real S3 server, with SQLite and PostgreSQL.

The audit entry is committed before the object store hands any byte back, a read whose
entry cannot be written is refused, and the hash chain holds under concurrent readers.
"""

from __future__ import annotations

import inspect
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sohoa.errors import NotFound
from storage.catalogue.db import Catalogue, make_engine
from storage.catalogue.warehouse_models import AuditEntry
from storage.errors import AuditHeadMissing, ObjectIntegrityError, ObjectStoreUnavailable
from storage.objectstore import Bucket, ObjectStore
from storage.objectstore.local import LocalObjectStore
from storage.warehouse import Warehouse, audit
from storage.warehouse.audit import verify
from testkit.scheduling import run_in_threads
from tests.storage.conftest import POLICY

PDF = b"%PDF-1.7 warehouse read " + bytes(range(256)) * 40


class CommitWitness:
    """Wraps a store: when it hands bytes back, counts the committed audit entries from another connection."""

    def __init__(self, inner: ObjectStore, catalogue_url: str):
        self.inner = inner
        self.engine = make_engine(catalogue_url, pooled=False)
        self.committed_when_handed_back: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_bytes(self, bucket: Bucket, key: str, **kwargs: Any) -> bytes:
        data = self.inner.get_bytes(bucket, key, **kwargs)
        with self.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'get'")).scalar_one()
        self.committed_when_handed_back.append(count)
        return data


def _entries(cat: Catalogue) -> list[tuple[str, str, str]]:
    with cat.session() as s:
        return [(e.action, e.subject, e.outcome) for e in s.query(AuditEntry).order_by(AuditEntry.seq)]


def test_entry_is_committed_before_the_store_hands_back_bytes(store: ObjectStore, catalogue: Catalogue) -> None:
    obj = Warehouse(catalogue, store).put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    witness = CommitWitness(store, catalogue.url)
    wh = Warehouse(catalogue, witness)  # type: ignore[arg-type]
    try:
        assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1", purpose="tra cứu") == PDF
        assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1", sha256=obj.sha256) == PDF
    finally:
        witness.engine.dispose()
    assert witness.committed_when_handed_back == [1, 2]
    assert _entries(catalogue) == [("get", f"documents/{obj.key}", "ok")] * 2
    assert verify(catalogue).ok


@pytest.mark.parametrize("failure", [RuntimeError("catalogue down"), TimeoutError("write lock busy")])
def test_a_read_whose_audit_entry_fails_is_refused(
    store: ObjectStore, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    """TimeoutError is an OSError: raised inside an HTTP request it must not pass for a network fault."""
    wh = Warehouse(catalogue, store)
    obj = wh.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise failure

    # every audited read appends through one of them
    monkeypatch.setattr("storage.warehouse.audit.AuditedLookup.run", broken)
    monkeypatch.setattr("storage.warehouse.audit.record", broken)
    with pytest.raises(type(failure)) as raised:
        wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1")
    assert raised.value is failure and not isinstance(raised.value, ObjectStoreUnavailable)
    assert _entries(catalogue) == []
    monkeypatch.undo()
    assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1") == PDF  # nothing left half-open


def test_objects_the_catalogue_does_not_hold_are_refused_unaudited(store: ObjectStore, catalogue: Catalogue) -> None:
    wh = Warehouse(catalogue, store)
    stray = store.put_bytes(Bucket.DOCUMENTS, b"%PDF never recorded", suffix=".pdf")
    for key in (stray.key, "sha256/00/" + "0" * 64 + ".pdf"):
        with pytest.raises(NotFound):
            wh.get_bytes(Bucket.DOCUMENTS, key, actor="officer:1")
    assert _entries(catalogue) == []


def test_a_fetch_that_fails_after_the_entry_is_logged_as_an_error(tmp_path: Path, catalogue: Catalogue) -> None:
    store = LocalObjectStore(tmp_path / "objects", POLICY)
    wh = Warehouse(catalogue, store)
    obj = wh.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    store.delete(Bucket.DOCUMENTS, obj.key)
    with pytest.raises(NotFound):
        wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1")
    assert [outcome for _, _, outcome in _entries(catalogue)] == ["ok", "error"]
    assert verify(catalogue).ok


def test_concurrent_readers_keep_one_unbroken_chain(tmp_path: Path, catalogue: Catalogue) -> None:
    """Audited reads and entries of their own (the two forms of an append) from many threads at once."""
    wh = Warehouse(catalogue, LocalObjectStore(tmp_path / "objects", POLICY))
    objs = [wh.put_bytes(Bucket.DOCUMENTS, PDF + bytes([i]), suffix=".pdf") for i in range(4)]

    def reader(n: int) -> None:
        for i in range(8):
            obj = objs[(n + i) % len(objs)]
            assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor=f"reader:{n}") == PDF + bytes([objs.index(obj)])
            audit.record(catalogue, actor=f"reader:{n}", action="search", subject=f"owner:{i}", outcome="ok")

    errors = run_in_threads(reader, 6)
    assert not errors, errors
    report = verify(catalogue)
    assert report.ok and report.entries == 96, report.to_dict()
    with catalogue.session() as s:
        assert sorted(e.seq for e in s.query(AuditEntry)) == list(range(1, 97))


def test_while_waiting_runs_once_and_what_it_raises_wins(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    calls: list[str] = []
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key, while_waiting=lambda: calls.append("ok")) == PDF
    with pytest.raises(NotFound):
        store.get_bytes(Bucket.DOCUMENTS, "sha256/00/" + "0" * 64, while_waiting=lambda: calls.append("missing"))
    assert calls == ["ok", "missing"]

    def refuse() -> None:
        raise PermissionError("refused")

    with pytest.raises(PermissionError):
        store.get_bytes(Bucket.DOCUMENTS, obj.key, while_waiting=refuse)
    with pytest.raises(PermissionError):  # its failure is reported even when the read failed too
        store.get_bytes(Bucket.DOCUMENTS, "sha256/00/" + "0" * 64, while_waiting=refuse)
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key) == PDF


def test_s3_runs_the_work_while_its_request_is_in_flight(seaweed) -> None:  # type: ignore[no-untyped-def]
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    obj = store.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    callers: list[list[str]] = []
    store.get_bytes(
        Bucket.DOCUMENTS, obj.key, while_waiting=lambda: callers.append([f.function for f in inspect.stack()])
    )
    (stack,) = callers
    assert "getresponse" in stack, "the work ran outside the HTTP exchange"


def test_a_log_whose_head_row_was_removed_refuses_reads_and_fails_verification(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """Migration 0005 creates the head row; without it no entry can be chained, so no read is served."""
    wh = Warehouse(catalogue, LocalObjectStore(tmp_path / "objects", POLICY))
    obj = wh.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1") == PDF
    with catalogue.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    for sha in (None, obj.sha256):  # the lookup path and the caller-knows-the-hash path
        with pytest.raises(AuditHeadMissing):
            wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1", sha256=sha)
    report = verify(catalogue)
    assert not report.ok and report.entries == 1, report.to_dict()


def test_https_pools_run_in_flight_work_too() -> None:
    from urllib3.connection import HTTPSConnection

    from storage.objectstore import inflight

    pool = inflight.pool_manager().connection_from_url("https://s3.example.invalid")
    assert issubclass(pool.ConnectionCls, HTTPSConnection)
    assert issubclass(pool.ConnectionCls, inflight._RunsPendingWork)


def _version_in_catalogue(cat: Catalogue, key: str) -> str | None:
    with cat.engine.connect() as conn:
        return conn.execute(text("SELECT version_id FROM stored_objects WHERE key = :k"), {"k": key}).scalar_one()


def test_an_overwrite_behind_the_warehouse_is_caught_and_the_written_version_served(
    seaweed, catalogue: Catalogue
) -> None:  # type: ignore[no-untyped-def]
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    wh = Warehouse(catalogue, store)
    small = wh.put_bytes(Bucket.DOCUMENTS, PDF, suffix=".pdf")
    streamed = wh.put_file(Bucket.DOCUMENTS, io.BytesIO(PDF + b"streamed"), suffix=".pdf")
    for obj, data in ((small, PDF), (streamed, PDF + b"streamed")):
        version = _version_in_catalogue(catalogue, obj.key)  # recorded: which version the warehouse wrote
        assert version and version == store.versions(Bucket.DOCUMENTS, obj.key)[0]
        assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="officer:1") == data

    # Overwritten behind the warehouse's back: the newest no longer hashes right, the written version is served.
    name = store.bucket_name(Bucket.DOCUMENTS)
    store.client.put_object(name, small.key, io.BytesIO(b"tampered"), 8)
    assert wh.get_bytes(Bucket.DOCUMENTS, small.key, actor="officer:1") == PDF

    # The version it wrote removed: nothing intact is left, and the read is refused.
    store.client.remove_object(name, small.key, version_id=_version_in_catalogue(catalogue, small.key))
    with pytest.raises(ObjectIntegrityError):
        wh.get_bytes(Bucket.DOCUMENTS, small.key, actor="officer:1")
    store.client.put_object(name, small.key, io.BytesIO(PDF), len(PDF))
    assert wh.get_bytes(Bucket.DOCUMENTS, small.key, actor="officer:1") == PDF
    outcomes = [o for a, _s, o in _entries(catalogue) if a == "get"]
    assert outcomes == ["ok", "ok", "ok", "ok", "error", "ok"]  # the refused read: its entry, then its error


def test_unversioned_buckets_and_local_store_record_no_version(seaweed, catalogue: Catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.storage.conftest import s3_store

    for store in (s3_store(seaweed), LocalObjectStore(tmp_path / "objects", POLICY)):
        wh = Warehouse(catalogue, store)
        obj = wh.put_bytes(Bucket.RAW, b"\xff\xd8 raw scan")
        assert _version_in_catalogue(catalogue, obj.key) is None
        assert wh.get_bytes(Bucket.RAW, obj.key, actor="worker") == b"\xff\xd8 raw scan"
        with catalogue.engine.begin() as conn:
            conn.execute(text("DELETE FROM stored_objects"))


def test_a_delete_marker_hides_nothing_and_scrub_brings_the_document_back(seaweed, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    from storage.warehouse.scrub import scrub
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    wh = Warehouse(catalogue, store)
    doc = wh.put_bytes(Bucket.DOCUMENTS, PDF + b"marked", suffix=".pdf")
    name = store.bucket_name(Bucket.DOCUMENTS)
    store.client.remove_object(name, doc.key)  # no version named: S3 lays a delete marker over it
    with pytest.raises(NotFound):
        store.get_bytes(Bucket.DOCUMENTS, doc.key)  # the plain read sees it gone
    assert wh.get_bytes(Bucket.DOCUMENTS, doc.key, actor="officer:1") == PDF + b"marked"
    report = scrub(catalogue, store)
    assert report.missing == [f"documents/{doc.key}"] and not report.clean
    repaired = scrub(catalogue, store, repair=True)
    assert repaired.repaired == [f"documents/{doc.key}"] and repaired.clean
    assert store.get_bytes(Bucket.DOCUMENTS, doc.key) == PDF + b"marked"  # the newest version again
