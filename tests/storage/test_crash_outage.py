"""Crash consistency of warehouse writes, and writes riding out an object-store outage."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta

import pytest

from sohoa.errors import NotFound
from storage.catalogue.db import Catalogue
from storage.catalogue.warehouse_models import ObjectRecord, ObjectState
from storage.objectstore import Bucket, ObjectStore
from storage.warehouse import SimulatedCrash, Warehouse
from storage.warehouse.scrub import scrub
from testkit.servers import SeaweedS3
from tests.storage.conftest import s3_store

OUTAGE_S = float(os.environ.get("SOHOA_TEST_OUTAGE_S", "6"))  # 30 for the full-length outage run


def crash_at(point: str):  # type: ignore[no-untyped-def]
    def hook(p: str) -> None:
        if p == point:
            raise SimulatedCrash(p)

    return hook


def rows(cat: Catalogue) -> list[tuple[str, str, str | None]]:
    with cat.session() as s:
        return [(r.key, r.state, r.temp_key) for r in s.query(ObjectRecord)]


def assert_consistent(cat: Catalogue, store: ObjectStore) -> None:
    """Every stored row's object is there and intact; scrub finds nothing to repair."""
    with cat.session() as s:
        stored = [(Bucket(r.bucket), r.key, r.sha256) for r in s.query(ObjectRecord).filter_by(state="stored")]
    for bucket, key, sha in stored:
        assert store.get_bytes(bucket, key, sha256=sha)
    report = scrub(cat, store, temp_grace=timedelta(0))
    assert report.clean and not report.stale_temp and not report.pending, report.to_dict()


@pytest.mark.parametrize("point", ["staged", "row_committed", "promoted"])
def test_streamed_put_survives_a_crash_at_each_point(
    point: str, store: ObjectStore, sqlite_catalogue: Catalogue
) -> None:
    cat, data = sqlite_catalogue, os.urandom(300_000)
    with pytest.raises(SimulatedCrash):
        Warehouse(cat, store, faults=crash_at(point)).put_file(Bucket.RESULTS, io.BytesIO(data), suffix=".pdf")

    after = Warehouse(cat, store)  # "restart"
    state = rows(cat)
    if point == "staged":
        assert state == []  # only an orphan temporary object
    else:
        ((key, st, temp),) = state
        assert st == ObjectState.PENDING and temp
        with pytest.raises(NotFound):  # readers never see a pending upload
            after.get_bytes(Bucket.RESULTS, key, actor="test")

    report = scrub(cat, store, repair=True, temp_grace=timedelta(0))
    if point == "staged":
        assert len(report.stale_temp) == 1 and not report.finalised
    else:
        assert report.finalised == [f"results/{key}"]
        assert after.get_bytes(Bucket.RESULTS, key, actor="test") == data
    assert_consistent(cat, store)
    again = after.put_file(Bucket.RESULTS, io.BytesIO(data), suffix=".pdf")  # the retry completes
    assert after.get_bytes(Bucket.RESULTS, again.key, actor="test") == data
    assert_consistent(cat, store)


def test_put_bytes_crash_leaves_only_an_orphan_that_a_retry_adopts(
    store: ObjectStore, sqlite_catalogue: Catalogue
) -> None:
    cat = sqlite_catalogue
    with pytest.raises(SimulatedCrash):
        Warehouse(cat, store, faults=crash_at("object_written")).put_bytes(Bucket.DOCUMENTS, b"%PDF doc")
    assert rows(cat) == []
    assert_consistent(cat, store)
    obj = Warehouse(cat, store).put_bytes(Bucket.DOCUMENTS, b"%PDF doc")
    assert rows(cat) == [(obj.key, "stored", None)]
    assert_consistent(cat, store)


def test_pending_upload_whose_bytes_vanished_is_dropped(catalogue: Catalogue, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storage.objectstore.local import LocalObjectStore

    store = LocalObjectStore(tmp_path / "objects")
    with pytest.raises(SimulatedCrash):
        Warehouse(catalogue, store, faults=crash_at("row_committed")).put_file(Bucket.DOCUMENTS, io.BytesIO(b"x" * 10))
    for info in list(store.list_objects(Bucket.WORK, "tmp/")):
        store.delete(Bucket.WORK, info.key)
    assert scrub(catalogue, store, repair=True).dropped == []  # younger than the grace: may still be in flight
    report = scrub(catalogue, store, repair=True, temp_grace=timedelta(0))
    assert len(report.dropped) == 1 and rows(catalogue) == []
    assert_consistent(catalogue, store)


def test_writes_retry_through_an_outage_and_nothing_is_lost(
    own_seaweed: SeaweedS3, sqlite_catalogue: Catalogue
) -> None:
    store = s3_store(own_seaweed, retry_s=OUTAGE_S + 60)
    wh = Warehouse(sqlite_catalogue, store)
    payloads = [os.urandom(50_000) + bytes([i]) for i in range(24)]
    written: list = []
    spans: list[tuple[float, float]] = []  # each finished write's start and end (monotonic)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i, data in enumerate(payloads):
                started = time.monotonic()
                if i % 2:
                    written.append(wh.put_file(Bucket.DOCUMENTS, io.BytesIO(data), suffix=".pdf"))
                else:
                    written.append(wh.put_bytes(Bucket.DOCUMENTS, data, suffix=".pdf"))
                spans.append((started, time.monotonic()))
                time.sleep(0.02 if i < 4 else 0.1)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 4:
        time.sleep(0.01)
    own_seaweed.kill()
    down_at = time.monotonic()
    time.sleep(OUTAGE_S)
    during = len(written)
    back_at = time.monotonic()  # still down here: start() below brings it back
    own_seaweed.start()
    thread.join(OUTAGE_S + 120)
    assert not thread.is_alive() and not errors, errors
    assert len(written) == len(spans) == len(payloads)
    # A write was in flight when the store came back (it retried through the outage), and none both
    # started and finished while the store was down.
    assert any(start < back_at < end for start, end in spans), spans
    assert not any(down_at < start and end < back_at for start, end in spans), spans
    assert during <= 6, f"{during} writes finished while the store was down"
    for obj, data in zip(written, payloads, strict=True):
        assert wh.get_bytes(Bucket.DOCUMENTS, obj.key, actor="test") == data
    assert_consistent(sqlite_catalogue, store)
