"""Warehouse writes on both stores, SQLite and PostgreSQL: stored once, recorded in one statement after the object."""

from __future__ import annotations

from pathlib import Path

from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import ObjectRecord
from storage.objectstore import Bucket, ObjectStore
from storage.objectstore.local import LocalObjectStore
from storage.objectstore.s3 import S3ObjectStore
from storage.warehouse import Warehouse
from tests.storage.conftest import POLICY


def _rows(cat: Catalogue) -> list[tuple[str, str, str | None, int]]:
    with cat.session() as s:
        return [(r.key, r.state, r.temp_key, r.size) for r in s.query(ObjectRecord).order_by(ObjectRecord.id)]


def test_identical_bytes_are_stored_and_recorded_once(store: ObjectStore, catalogue: Catalogue) -> None:
    wh = Warehouse(catalogue, store)
    first = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF once", suffix=".pdf")
    again = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF once", suffix=".pdf")
    assert (again.key, again.sha256, again.size) == (first.key, first.sha256, first.size)
    assert [o.key for o in store.list_objects(Bucket.DOCUMENTS)] == [first.key]
    if isinstance(store, S3ObjectStore):  # the second PUT was refused by the server: no second version either
        assert store.versions(Bucket.DOCUMENTS, first.key) == [first.version_id] and again.version_id is None
    assert _rows(catalogue) == [(first.key, "stored", None, 9)]
    assert wh.get_bytes(Bucket.DOCUMENTS, first.key, actor="test") == b"%PDF once"


def test_recording_completes_a_pending_row(tmp_path: Path, catalogue: Catalogue) -> None:
    """A put that finds its key left pending by an interrupted upload marks that row stored."""
    store = LocalObjectStore(tmp_path / "objects", POLICY)
    wh = Warehouse(catalogue, store)
    obj = store.put_bytes(Bucket.DOCUMENTS, b"%PDF pending", suffix=".pdf")
    with catalogue.session() as s:
        s.add(
            ObjectRecord(
                bucket="documents", key=obj.key, sha256=obj.sha256, size=obj.size, state="pending", temp_key="tmp/x"
            )
        )
    again = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF pending", suffix=".pdf")
    assert again.key == obj.key
    assert _rows(catalogue) == [(obj.key, "stored", None, obj.size)]
    assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="test") == b"%PDF pending"
