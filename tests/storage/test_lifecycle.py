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
from sqlalchemy import select

from sohoa.settings import Settings, StorageSettings
from storage.catalogue.db import Catalogue, migrate
from storage.catalogue.warehouse_models import ObjectRecord
from storage.objectstore import Bucket, ObjectStore, StorePolicy, open_object_store, sha256_hex
from storage.objectstore.local import LocalObjectStore
from storage.warehouse import Warehouse
from storage.warehouse.lifecycle import sweep_expired


def _warehouse(store: ObjectStore, tmp_path: Path) -> Warehouse:
    url = f"sqlite:///{tmp_path / 'catalogue.sqlite3'}"
    migrate(url)
    return Warehouse(Catalogue(url), store)


def _rows(warehouse: Warehouse) -> set[tuple[str, str]]:
    with warehouse.catalogue.reading() as s:
        return {(b, k) for b, k in s.execute(select(ObjectRecord.bucket, ObjectRecord.key))}


def test_sweep_removes_only_expired_raw_scans_and_their_rows(tmp_path: Path) -> None:
    store = open_object_store(
        Settings(var_dir=tmp_path, storage=StorageSettings(raw_expiry_days=3, results_retention_years=2))
    )
    assert isinstance(store, LocalObjectStore) and store.policy.raw_expiry_days == 3
    warehouse = _warehouse(store, tmp_path)
    old = warehouse.put_bytes(Bucket.RAW, b"old scan")
    new = warehouse.put_bytes(Bucket.RAW, b"new scan")
    doc = warehouse.put_bytes(Bucket.DOCUMENTS, b"document")
    past = time.time() - 4 * 86400
    os.utime(store.root / "raw" / old.key, (past, past))
    assert sweep_expired(warehouse) == [old.key]
    assert not store.exists(Bucket.RAW, old.key) and store.exists(Bucket.RAW, new.key)
    assert store.exists(Bucket.DOCUMENTS, doc.key)
    assert _rows(warehouse) == {("raw", new.key), ("documents", doc.key)}
    again = warehouse.put_bytes(Bucket.RAW, b"old scan")  # sent again: stored anew, not taken for held
    assert again.key == old.key and store.exists(Bucket.RAW, old.key)


def test_a_scan_whose_row_outlived_it_is_stored_again(tmp_path: Path) -> None:
    """An S3 lifecycle rule removes the object and leaves the row: the row alone must not count as held."""
    store = LocalObjectStore(tmp_path / "objects")
    warehouse = _warehouse(store, tmp_path)
    scan = warehouse.put_bytes(Bucket.RAW, b"scan")
    store.delete(Bucket.RAW, scan.key)  # as the server's rule would
    assert warehouse.renew(Bucket.RAW, scan.key) is False
    assert warehouse.put_bytes(Bucket.RAW, b"scan") == scan
    assert store.get_bytes(Bucket.RAW, scan.key, sha256=scan.sha256) == b"scan"


def test_sweep_runs_from_the_command_line(storage_cli: click.Group) -> None:
    from sohoa.settings import get_settings

    settings = get_settings()
    migrate(settings.db_url)
    warehouse = Warehouse(Catalogue(settings.db_url), open_object_store(settings))
    store = warehouse.store
    old, new = warehouse.put_bytes(Bucket.RAW, b"old scan"), warehouse.put_bytes(Bucket.RAW, b"new scan")
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
    assert sweep_expired(_warehouse(store, tmp_path), days=30) == [untouched.key]
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


def test_scrub_tells_an_expired_scan_from_a_missing_one_by_its_row(tmp_path: Path) -> None:
    """On S3 the server's rule removes old scans and leaves their rows: scrub judges them by the row's age."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from storage.warehouse.scrub import scrub

    store = LocalObjectStore(tmp_path / "objects", StorePolicy(raw_expiry_days=30))
    warehouse = _warehouse(store, tmp_path)
    old, young = warehouse.put_bytes(Bucket.RAW, b"old scan"), warehouse.put_bytes(Bucket.RAW, b"young scan")
    with warehouse.catalogue.session() as s:
        s.execute(
            update(ObjectRecord)
            .where(ObjectRecord.key == old.key)
            .values(updated_at=datetime.now(UTC) - timedelta(days=31))
        )
    store.delete(Bucket.RAW, old.key)
    store.delete(Bucket.RAW, young.key)
    report = scrub(warehouse.catalogue, store)
    assert (report.expired, report.missing) == (1, [f"raw/{young.key}"])
    assert _rows(warehouse) == {("raw", old.key), ("raw", young.key)}
    repaired = scrub(warehouse.catalogue, store, repair=True)
    assert (repaired.expired, repaired.missing, repaired.clean) == (1, [f"raw/{young.key}"], False)
    assert _rows(warehouse) == {("raw", young.key)}  # the expired scan's row is dropped; the missing one stays
