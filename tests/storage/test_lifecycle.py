"""Raw-scan expiry on the local store, and the store built from settings."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sohoa.settings import Settings, StorageSettings
from storage.objectstore import Bucket, StorePolicy, open_object_store, sha256_hex
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


def test_a_raw_scan_stored_again_restarts_its_age(tmp_path: Path) -> None:
    """Bytes stored once serve later dossiers that send them again: a reuse must not expire under them."""
    store = LocalObjectStore(tmp_path / "objects")
    past = time.time() - 40 * 86400
    reused = {
        "put_bytes": lambda: store.put_bytes(Bucket.RAW, b"scan a"),
        "put_file": lambda: store.put_file(Bucket.RAW, _file(tmp_path, "b", b"scan b")),
        "move_in": lambda: store.move_in(
            Bucket.RAW, _file(tmp_path, "c", b"scan c"), sha256=sha256_hex(b"scan c"), suffix=".zip"
        ),
    }
    keys = {}
    for way, put in reused.items():
        keys[way] = put().key
        os.utime(store.root / "raw" / keys[way], (past, past))
        assert put().key == keys[way]  # deduplicated: the same object, now counted as new
    assert store.renew(Bucket.RAW, "sha256/00/absent") is False
    untouched = store.put_bytes(Bucket.RAW, b"scan d")
    os.utime(store.root / "raw" / untouched.key, (past, past))
    assert sweep_expired(store, days=30) == [untouched.key]
    assert all(store.exists(Bucket.RAW, key) for key in keys.values())


def test_renewal_comes_soon_enough_for_a_short_expiry() -> None:
    assert StorePolicy(raw_expiry_days=30).renew_after == timedelta(days=1)
    assert StorePolicy(raw_expiry_days=1).renew_after == timedelta(hours=12)  # reused at 23 h: renewed


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.integration
def test_an_old_raw_scan_is_renewed_in_place_on_s3(seaweed, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from storage.objectstore import s3
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    obj = store.put_bytes(Bucket.RAW, b"\xff\xd8 scan from long ago", content_type="image/jpeg")
    name = store.bucket_name(Bucket.RAW)
    before = store.client.stat_object(name, obj.key)
    time.sleep(1.1)  # Last-Modified has one-second resolution: a wrongful copy from here on would show
    assert store.renew(Bucket.RAW, obj.key)  # fresh: nothing to do
    assert store.client.stat_object(name, obj.key).last_modified == before.last_modified
    monkeypatch.setattr(type(store.policy), "renew_after", property(lambda _p: timedelta(0)))  # as if stored long ago
    assert store.put_bytes(Bucket.RAW, b"\xff\xd8 scan from long ago").key == obj.key
    after = store.client.stat_object(name, obj.key)
    assert after.last_modified > before.last_modified
    assert after.content_type == "image/jpeg" and after.metadata.get(s3.SHA_META) == obj.sha256
    assert store.get_bytes(Bucket.RAW, obj.key, sha256=obj.sha256) == b"\xff\xd8 scan from long ago"
    assert store.renew(Bucket.RAW, "sha256/00/absent") is False
