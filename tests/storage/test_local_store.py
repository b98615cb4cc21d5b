"""The local-disk object store: content addressing, atomic writes, integrity on read."""

from __future__ import annotations

from pathlib import Path

import pytest

from sohoa.errors import NotFound
from storage.errors import ObjectIntegrityError
from storage.objectstore import Bucket, content_key, sha256_hex
from storage.objectstore.local import LocalObjectStore


def test_identical_bytes_are_stored_once_under_their_hash(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    a = store.put_bytes(Bucket.DOCUMENTS, b"hello", suffix=".pdf")
    b = store.put_bytes(Bucket.DOCUMENTS, b"hello", suffix=".pdf")
    assert a == b and a.key == content_key(sha256_hex(b"hello"), ".pdf")
    files = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    assert len(files) == 1 and not any(p.name.startswith(".tmp-") for p in files)
    assert store.get_bytes(Bucket.DOCUMENTS, a.key, sha256=a.sha256) == b"hello"


def test_tampered_object_is_detected(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    obj = store.put_bytes(Bucket.RESULTS, b"signed bytes")
    (tmp_path / "results" / obj.key).write_bytes(b"signed bytez")
    with pytest.raises(ObjectIntegrityError):
        store.get_bytes(Bucket.RESULTS, obj.key, sha256=obj.sha256)


def test_missing_and_escaping_keys(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(NotFound):
        store.get_bytes(Bucket.RAW, "sha256/aa/nothing")
    with pytest.raises(NotFound):
        store.get_bytes(Bucket.RAW, "../../etc/passwd")


def test_every_way_in_syncs_the_folder_after_its_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rename is durable only once its folder is synced; new folders only once their parent is."""
    from storage.objectstore import local

    store = LocalObjectStore(tmp_path)
    synced: list[Path] = []
    real_sync = local._fsync_dir

    def record(directory: Path) -> None:
        synced.append(directory)
        real_sync(directory)

    monkeypatch.setattr(local, "_fsync_dir", record)
    put = store.put_bytes(Bucket.DOCUMENTS, b"first", suffix=".pdf")
    folder = (tmp_path / "documents" / put.key).parent
    assert synced == [folder.parent.parent, folder.parent, folder]  # sha256/, sha256/xx/, then the rename

    upload = tmp_path / "upload.zip"
    upload.write_bytes(b"an archive")
    synced.clear()
    moved = store.move_in(Bucket.RAW, upload, sha256=sha256_hex(b"an archive"), suffix=".zip")
    assert synced[-1] == (tmp_path / "raw" / moved.key).parent and not upload.exists()

    synced.clear()
    staged = store.put_file(Bucket.DOCUMENTS, tmp_path / "raw" / moved.key, suffix=".zip")
    assert synced[-1] == (tmp_path / "documents" / staged.key).parent
    assert store.get_bytes(Bucket.DOCUMENTS, staged.key, sha256=staged.sha256) == b"an archive"
