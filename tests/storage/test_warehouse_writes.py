"""Warehouse writes on both stores, SQLite and PostgreSQL: stored once, recorded in one statement after the object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class CountingStore:
    def __init__(self, inner: ObjectStore):
        self.inner = inner
        self.puts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put_bytes(self, *args: Any, **kwargs: Any) -> Any:
        self.puts += 1
        return self.inner.put_bytes(*args, **kwargs)


def test_identical_bytes_are_stored_and_recorded_once(store: ObjectStore, catalogue: Catalogue) -> None:
    counting = CountingStore(store)
    wh = Warehouse(catalogue, counting)  # type: ignore[arg-type]
    first = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF once", suffix=".pdf")
    again = wh.put_bytes(Bucket.DOCUMENTS, b"%PDF once", suffix=".pdf")
    assert again == first  # the catalogue's answer, the version written included
    assert counting.puts == 1  # the catalogue knew: the store was not asked again
    assert [o.key for o in store.list_objects(Bucket.DOCUMENTS)] == [first.key]
    if isinstance(store, S3ObjectStore):
        assert first.version_id and store.versions(Bucket.DOCUMENTS, first.key) == [first.version_id]
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
