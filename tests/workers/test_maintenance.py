"""Housekeeping on a timer: raw-scan expiry on the local store and interrupted warehouse uploads."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from dossiers.batch_reader import read_batch
from dossiers.intake import ingest
from dossiers.services import Services
from storage.catalogue.models import StepState
from storage.catalogue.warehouse_models import ObjectRecord, ObjectState
from storage.objectstore import Bucket, content_key, sha256_hex
from storage.warehouse import SimulatedCrash, Warehouse
from testkit.batches import make_zip, manifest
from testkit.scheduling import run_steps
from workers.maintenance import run_once


def test_a_round_expires_old_raw_scans_and_completes_interrupted_uploads(services: Services, tmp_path: Path) -> None:
    store = services.store
    old = services.warehouse.put_bytes(Bucket.RAW, b"a scan from long ago")
    fresh = services.warehouse.put_bytes(Bucket.RAW, b"a scan from today")
    past = time.time() - (services.settings.storage.raw_expiry_days + 1) * 86400
    os.utime(store.root / "raw" / old.key, (past, past))  # type: ignore[attr-defined]

    def crash(point: str) -> None:
        if point == "row_committed":
            raise SimulatedCrash(point)

    source = tmp_path / "doc.pdf"
    source.write_bytes(b"%PDF-1.7 interrupted")
    with pytest.raises(SimulatedCrash):
        Warehouse(services.catalogue, store, faults=crash).put_file(Bucket.DOCUMENTS, source, suffix=".pdf")
    key = content_key(sha256_hex(b"%PDF-1.7 interrupted"), ".pdf")

    assert run_once(services) == {"expired_raw": 1, "finalised": 0, "dropped": 0}  # may still be in flight
    assert run_once(services, pending_grace=timedelta(0)) == {"expired_raw": 0, "finalised": 1, "dropped": 0}
    assert not store.exists(Bucket.RAW, old.key) and store.exists(Bucket.RAW, fresh.key)
    with services.catalogue.reading() as s:
        raw = set(s.scalars(select(ObjectRecord.key).where(ObjectRecord.bucket == Bucket.RAW.value)))
        assert raw == {fresh.key}  # the expired scan's row went with it
        row = s.scalars(select(ObjectRecord).where(ObjectRecord.key == key)).one()
        assert (row.state, row.temp_key) == (ObjectState.STORED, None)
    assert (
        Warehouse(services.catalogue, store).get_bytes(Bucket.DOCUMENTS, key, actor="test") == b"%PDF-1.7 interrupted"
    )
    assert run_once(services, pending_grace=timedelta(0)) == {"expired_raw": 0, "finalised": 0, "dropped": 0}


def test_a_page_sent_again_long_after_is_not_expired_under_its_new_dossier(services: Services, tmp_path: Path) -> None:
    """The raw object of a page stored for an old dossier serves a new one; its age restarts at the new unpack."""
    page = b"\xff\xd8 the same ID card, scanned again"
    first = tmp_path / "first.zip"
    first.write_bytes(make_zip(manifest([{"id": "c1", "files": ["id.jpg"]}]), {"id.jpg": page}))
    ingest(services, read_batch(first))
    run_steps(services, ("ingest",))
    key = content_key(sha256_hex(page))
    past = time.time() - (services.settings.storage.raw_expiry_days + 1) * 86400
    os.utime(services.store.root / "raw" / key, (past, past))  # type: ignore[attr-defined]

    later = tmp_path / "later.zip"
    code = "000.00.12.H26-261121-0077"
    later.write_bytes(make_zip(manifest([{"id": "c1", "files": ["id.jpg"]}], code=code), {"id.jpg": page}))
    ingest(services, read_batch(later))
    assert [ran.state for ran in run_steps(services, ("ingest",))] == [StepState.DONE]
    assert run_once(services)["expired_raw"] == 0  # the page counts as stored today
    assert services.store.get_bytes(Bucket.RAW, key, sha256=sha256_hex(page)) == page


def test_a_failing_contact_purge_does_not_end_the_round(
    db_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The notices table gone (a real database error): the round goes on and says what failed."""
    with db_services.catalogue.session() as s:
        s.execute(text("DROP TABLE notices"))
    with caplog.at_level("ERROR", logger="workers.maintenance"):
        done = run_once(db_services, retimestamp=True)
    assert done == {"expired_raw": 0, "finalised": 0, "dropped": 0, "contacts_purge_error": "INTERNAL_ERROR"}
    assert "purging notice contact details failed" in caplog.text
