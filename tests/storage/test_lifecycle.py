"""Raw-scan expiry on the local store, and the store built from settings."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click
from click.testing import CliRunner

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


def test_sweep_runs_from_the_command_line(storage_cli: click.Group) -> None:
    from sohoa.settings import get_settings

    store = open_object_store(get_settings())
    old, new = store.put_bytes(Bucket.RAW, b"old scan"), store.put_bytes(Bucket.RAW, b"new scan")
    past = time.time() - 10 * 86400
    os.utime(store.root / "raw" / old.key, (past, past))  # type: ignore[attr-defined]
    result = CliRunner().invoke(storage_cli, ["lifecycle", "sweep", "--days", "5", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"expiry_days": 5, "removed": [old.key]}
    assert store.exists(Bucket.RAW, new.key) and not store.exists(Bucket.RAW, old.key)
    assert CliRunner().invoke(storage_cli, ["lifecycle", "sweep", "--days", "0"]).exit_code == 2
