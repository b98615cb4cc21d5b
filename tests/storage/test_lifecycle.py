"""Raw-scan expiry on the local store, and the store built from settings."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sohoa.settings import Settings, StorageSettings
from storage.objectstore import Bucket, open_object_store
from storage.objectstore.local import LocalObjectStore
from storage.warehouse.lifecycle import sweep_expired


def test_sweep_removes_only_expired_raw_scans(tmp_path: Path) -> None:
    store = open_object_store(
        Settings(var_dir=tmp_path, storage=StorageSettings(raw_expiry_days=3, results_retention_years=2))
    )
    assert isinstance(store, LocalObjectStore) and store.policy.raw_expiry_days == 3
    old = store.put_bytes(Bucket.RAW, b"old scan")
    new = store.put_bytes(Bucket.RAW, b"new scan")
    doc = store.put_bytes(Bucket.DOCUMENTS, b"document")
    past = time.time() - 4 * 86400
    os.utime(store.root / "raw" / old.key, (past, past))
    assert sweep_expired(store) == [old.key]
    assert not store.exists(Bucket.RAW, old.key) and store.exists(Bucket.RAW, new.key)
    assert store.exists(Bucket.DOCUMENTS, doc.key)
