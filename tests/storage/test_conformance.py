"""One conformance suite for every object-store backend: local disk and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from sohoa.errors import NotFound
from storage.errors import ObjectIntegrityError
from storage.objectstore import Bucket, ObjectLocked, ObjectStore, content_key, sha256_hex
from storage.objectstore.local import LocalObjectStore
from storage.objectstore.s3 import S3ObjectStore
from testkit.servers import SeaweedS3
from tests.storage.conftest import POLICY


def tamper(store: ObjectStore, bucket: Bucket, key: str, data: bytes) -> None:
    """Replace stored bytes behind the store's back (disk write, or a raw S3 PUT with the service's keys)."""
    if isinstance(store, LocalObjectStore):
        path = store.root / bucket.value / key
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        assert isinstance(store, S3ObjectStore)
        store.client.put_object(store.bucket_name(bucket), key, io.BytesIO(data), len(data))


class _OneWay(io.RawIOBase):
    """A non-seekable stream of known content, read in small pieces."""

    def __init__(self, data: bytes):
        self._data = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buf), len(self._data) - self._pos, 256 * 1024)
        buf[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


def test_identical_bytes_stored_once_under_content_key(store: ObjectStore) -> None:
    a = store.put_bytes(Bucket.DOCUMENTS, b"hello warehouse", suffix=".pdf")
    b = store.put_bytes(Bucket.DOCUMENTS, b"hello warehouse", suffix=".pdf")
    assert a.key == b.key == content_key(sha256_hex(b"hello warehouse"), ".pdf")
    assert [o.key for o in store.list_objects(Bucket.DOCUMENTS)] == [a.key]
    if isinstance(store, S3ObjectStore):  # refused by the server (If-None-Match), not stored as a second version
        assert store.versions(Bucket.DOCUMENTS, a.key) == [a.version_id] and b.version_id == a.version_id
    assert store.get_bytes(Bucket.DOCUMENTS, a.key, sha256=a.sha256) == b"hello warehouse"
    assert store.exists(Bucket.DOCUMENTS, a.key) and not store.exists(Bucket.DOCUMENTS, "sha256/00/none")
    with pytest.raises(NotFound):
        store.get_bytes(Bucket.DOCUMENTS, "sha256/00/none")


def test_move_in_consumes_the_file_and_stores_it_once(store: ObjectStore, tmp_path: Path) -> None:
    data = b"PK batch archive" * 1000
    objects = []
    for n in range(2):
        path = tmp_path / f"upload-{n}.zip"
        path.write_bytes(data)
        objects.append(store.move_in(Bucket.RAW, path, sha256=sha256_hex(data), suffix=".zip"))
        assert not path.exists()
    assert objects[0].key == objects[1].key == content_key(sha256_hex(data), ".zip")
    assert [o.key for o in store.list_objects(Bucket.RAW)] == [objects[0].key]
    assert store.get_bytes(Bucket.RAW, objects[0].key, sha256=sha256_hex(data)) == data
    locked = tmp_path / "result.pdf"
    locked.write_bytes(b"%PDF signed result")
    result = store.move_in(Bucket.RESULTS, locked, sha256=sha256_hex(b"%PDF signed result"), suffix=".pdf")
    assert not locked.exists() and store.lock_state(Bucket.RESULTS, result.key).mode == "COMPLIANCE"
    with pytest.raises(ObjectLocked):  # a streamed (copied) e-result is locked like one written whole
        store.delete(Bucket.RESULTS, result.key)


def test_hash_is_checked_on_every_read(store: ObjectStore, tmp_path: Path) -> None:
    obj = store.put_bytes(Bucket.WORK, b"original bytes")
    tamper(store, Bucket.WORK, obj.key, b"tampered bytes")
    with pytest.raises(ObjectIntegrityError):
        store.get_bytes(Bucket.WORK, obj.key, sha256=obj.sha256)
    with pytest.raises(ObjectIntegrityError), store.open_read(Bucket.WORK, obj.key, sha256=obj.sha256) as fh:
        fh.read()
    with pytest.raises(ObjectIntegrityError):
        store.get_to_file(Bucket.WORK, obj.key, tmp_path / "out.bin", sha256=obj.sha256)
    assert not (tmp_path / "out.bin").exists()


def test_a_read_naming_its_version_gets_the_bytes_written(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.DOCUMENTS, b"document as written", suffix=".pdf")
    s3 = isinstance(store, S3ObjectStore)
    assert (obj.version_id is not None) == s3  # a versioned bucket names the version it wrote
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key, version_id=obj.version_id) == b"document as written"
    tamper(store, Bucket.DOCUMENTS, obj.key, b"document altered")
    if not s3:  # no version ids on disk: the key's bytes are read, and the hash check refuses them
        with pytest.raises(ObjectIntegrityError):
            store.get_bytes(Bucket.DOCUMENTS, obj.key, sha256=obj.sha256, version_id="v1")
        return
    assert isinstance(store, S3ObjectStore)
    # The overwrite is a newer version: the one named is untouched, even unchecked.
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key, version_id=obj.version_id) == b"document as written"
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key) == b"document altered"
    name = store.bucket_name(Bucket.DOCUMENTS)
    for version in store.versions(Bucket.DOCUMENTS, obj.key):
        store.client.remove_object(name, obj.key, version_id=version)
    with pytest.raises(NotFound):  # nothing left under the key
        store.get_bytes(Bucket.DOCUMENTS, obj.key, sha256=obj.sha256, version_id=obj.version_id)


def test_large_objects_stream_multipart_without_whole_reads(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(6 * 1024 * 1024) * 6  # 36 MiB: eight 5 MiB parts on S3
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    tracemalloc.start()
    try:
        from_path = store.put_file(Bucket.DOCUMENTS, src, suffix=".bin")
        from_stream = store.put_file(Bucket.DOCUMENTS, io.BufferedReader(_OneWay(data)), suffix=".bin")
        size = store.get_to_file(Bucket.DOCUMENTS, from_path.key, tmp_path / "copy.bin", sha256=from_path.sha256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the same object either way (an S3 version id may differ)
    assert (from_path.key, from_path.sha256, from_path.size) == (from_stream.key, from_stream.sha256, from_stream.size)
    assert from_path.sha256 == sha256_hex(data) and from_path.size == size == len(data)
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert peak < 18 * 1024 * 1024, f"peak {peak} bytes: the object was held in memory"  # ~3 parts at most
    assert not list(store.list_objects(Bucket.WORK, "tmp/")), "staged temporary objects left behind"
    with store.open_read(Bucket.DOCUMENTS, from_path.key, sha256=from_path.sha256) as fh:
        assert sum(len(c) for c in fh) == len(data)


def test_locked_result_cannot_be_deleted_or_replaced(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.RESULTS, b"%PDF signed e-result", suffix=".pdf")
    state = store.lock_state(Bucket.RESULTS, obj.key)
    assert state.mode == "COMPLIANCE" and state.retain_until is not None
    years = (state.retain_until - datetime.now(UTC)).days / 365
    assert 0.99 < years <= POLICY.results_retention_years + 0.01
    with pytest.raises(ObjectLocked):
        store.delete(Bucket.RESULTS, obj.key)
    again = store.put_bytes(Bucket.RESULTS, b"%PDF signed e-result", suffix=".pdf")
    forged = store.stage(Bucket.RESULTS, io.BytesIO(b"%PDF forged"))
    forged = type(forged)(forged.bucket, forged.temp_key, obj.sha256, forged.size)
    store.promote(forged, suffix=".pdf")
    assert (again.key, again.version_id) == (obj.key, obj.version_id)  # found (asked first): the version held
    assert store.get_bytes(Bucket.RESULTS, obj.key, sha256=obj.sha256) == b"%PDF signed e-result"


def test_legal_hold_is_recorded(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.RESULTS, b"held result")
    store.set_legal_hold(Bucket.RESULTS, obj.key, True)
    assert store.lock_state(Bucket.RESULTS, obj.key).legal_hold
    store.set_legal_hold(Bucket.RESULTS, obj.key, False)
    assert not store.lock_state(Bucket.RESULTS, obj.key).legal_hold
    with pytest.raises(ObjectLocked):  # still within retention
        store.delete(Bucket.RESULTS, obj.key)


def test_documents_keep_earlier_versions(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.DOCUMENTS, b"document v1")
    store.delete(Bucket.DOCUMENTS, obj.key)
    assert not store.exists(Bucket.DOCUMENTS, obj.key)
    assert len(store.versions(Bucket.DOCUMENTS, obj.key)) == 1  # type: ignore[attr-defined]


def test_presigned_link(store: ObjectStore) -> None:
    obj = store.put_bytes(Bucket.DOCUMENTS, b"shared document")
    link = store.presign_get(Bucket.DOCUMENTS, obj.key, timedelta(seconds=60))
    if isinstance(store, S3ObjectStore):
        assert urllib3.request("GET", link).data == b"shared document"
        assert urllib3.request("GET", link.replace("X-Amz-Signature=", "X-Amz-Signature=0")).status == 403
    else:
        from storage.errors import LinkInvalid
        from storage.objectstore.links import verify_local_link

        assert verify_local_link(store.link_secret, link) == ("documents", obj.key)
        with pytest.raises(LinkInvalid):
            verify_local_link(store.link_secret, link.replace("sig=", "sig=0"))
        with pytest.raises(LinkInvalid):
            verify_local_link(store.link_secret, link, now=time.time() + 120)


# -- what only one backend can show -------------------------------------------------------------


def test_local_retention_expiry_and_legal_hold(tmp_path: Path) -> None:
    clock = [datetime.now(UTC)]
    store = LocalObjectStore(tmp_path, POLICY, clock=lambda: clock[0])
    obj = store.put_bytes(Bucket.RESULTS, b"result")
    assert (tmp_path / "results" / obj.key).stat().st_mode & 0o222 == 0, "locked file must be read-only"
    store.set_legal_hold(Bucket.RESULTS, obj.key, True)
    clock[0] += timedelta(days=367)
    with pytest.raises(ObjectLocked):  # retention over, legal hold still on
        store.delete(Bucket.RESULTS, obj.key)
    store.set_legal_hold(Bucket.RESULTS, obj.key, False)
    store.delete(Bucket.RESULTS, obj.key)
    assert not store.exists(Bucket.RESULTS, obj.key)


def test_s3_server_enforces_the_lock_against_service_credentials(seaweed: SeaweedS3) -> None:
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    obj = store.put_bytes(Bucket.RESULTS, b"%PDF locked on the server", suffix=".pdf")
    raw, name = store.client, store.bucket_name(Bucket.RESULTS)
    assert raw.get_object_lock_config(name).mode == COMPLIANCE
    (version,) = store.versions(Bucket.RESULTS, obj.key)
    with pytest.raises(S3Error) as denied:
        raw.remove_object(name, obj.key, version_id=version)
    assert denied.value.code == "AccessDenied"
    with pytest.raises(S3Error):
        raw.set_object_retention(name, obj.key, Retention(COMPLIANCE, datetime.now(UTC) + timedelta(seconds=5)))
    raw.put_object(name, obj.key, io.BytesIO(b"overwrite attempt"), 17)  # only adds a newer version
    raw.remove_object(name, obj.key)  # only adds a delete marker
    assert raw.get_object(name, obj.key, version_id=version).read() == b"%PDF locked on the server"
    assert store.restore_version(Bucket.RESULTS, obj.key, obj.sha256)
    assert store.get_bytes(Bucket.RESULTS, obj.key, sha256=obj.sha256) == b"%PDF locked on the server"


def test_s3_buckets_are_configured_by_purpose(seaweed: SeaweedS3) -> None:
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    for bucket in Bucket:
        store.put_bytes(bucket, b"x")
    raw = store.client
    assert raw.get_bucket_lifecycle(store.bucket_name(Bucket.RAW)).rules[0].expiration.days == POLICY.raw_expiry_days
    assert raw.get_bucket_versioning(store.bucket_name(Bucket.DOCUMENTS)).status == "Enabled"
    lock = raw.get_object_lock_config(store.bucket_name(Bucket.RESULTS))
    years = POLICY.results_retention_years
    assert lock.mode == COMPLIANCE and lock.duration in (years, (years, "Years"))


def test_s3_refuses_anonymous_and_wrong_keys(seaweed: SeaweedS3) -> None:
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    obj = store.put_bytes(Bucket.DOCUMENTS, b"private")
    name = store.bucket_name(Bucket.DOCUMENTS)
    anon = seaweed.client(anonymous=True)
    for call in (
        lambda: anon.list_buckets(),
        lambda: anon.get_object(name, obj.key).read(),
        lambda: anon.put_object(name, "x", io.BytesIO(b"x"), 1),
    ):
        with pytest.raises(S3Error) as exc:
            call()
        assert exc.value.code == "AccessDenied"
    assert urllib3.request("GET", f"{seaweed.url}/{name}/{obj.key}").status == 403
    wrong = S3ObjectStore(seaweed.endpoint, seaweed.access_key, "wrong-secret", secure=False, prefix=store.prefix)
    with pytest.raises(S3Error):
        wrong.client.list_buckets()


def test_s3_put_signs_with_the_hash_it_was_given(seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over plain HTTP the body's SHA-256 the warehouse computed is the one signed: minio does not hash it again."""
    import minio.api

    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    data = os.urandom(300_000)
    hashed: list[int] = []
    real_hash = minio.api.sha256_hash
    monkeypatch.setattr(minio.api, "sha256_hash", lambda body: hashed.append(len(body or b"")) or real_hash(body))
    obj = store.put_bytes(Bucket.DOCUMENTS, data, check_exists=False, sha256=sha256_hex(data))
    assert max(hashed, default=0) < 1000  # only empty or tiny request bodies (bucket setup) were hashed
    assert store.get_bytes(Bucket.DOCUMENTS, obj.key, sha256=obj.sha256) == data
    other = os.urandom(300_000)
    hashed.clear()
    store.client.put_object(store.bucket_name(Bucket.DOCUMENTS), "plain", io.BytesIO(other), len(other))
    assert hashed == [len(other)]  # outside a warehouse put, minio hashes as it always does


def test_s3_put_checks_existence_in_the_put_itself(seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored-once put is one request (a conditional PUT) where the body goes whole; e-results are asked first."""
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed, part_size=5 * 1024 * 1024)
    for bucket in Bucket:
        store.put_bytes(bucket, b"bucket set up")
    sent: list[str] = []  # methods, a conditional PUT as "PUT if absent"
    real_open, real_headers = store.client._url_open, store.client._build_headers

    def build_headers(*args, **kwargs):  # type: ignore[no-untyped-def]
        built, date = real_headers(*args, **kwargs)
        if built.get("If-None-Match") == "*":
            sent[-1] += " if absent"
        return built, date

    monkeypatch.setattr(
        store.client, "_url_open", lambda method, *a, **k: sent.append(method) or real_open(method, *a, **k)
    )
    monkeypatch.setattr(store.client, "_build_headers", build_headers)
    data = os.urandom(100_000)
    for bucket in (Bucket.DOCUMENTS, Bucket.WORK, Bucket.RAW):
        sent.clear()
        first = store.put_bytes(bucket, data)
        assert sent == ["PUT if absent"], bucket
        sent.clear()
        again = store.put_bytes(bucket, data)
        assert again.key == first.key and again.version_id == first.version_id, bucket
        # Refused; then a raw scan is renewed, and a document's version looked up (the caller records it).
        assert sent == (["PUT if absent"] if bucket is Bucket.WORK else ["PUT if absent", "HEAD"]), bucket
    sent.clear()
    store.put_bytes(Bucket.RESULTS, data)
    assert sent[0] == "HEAD" and "PUT" in sent and "PUT if absent" not in sent
    sent.clear()
    store.put_bytes(Bucket.DOCUMENTS, os.urandom(6 * 1024 * 1024))  # two parts: no single PUT to make conditional
    assert sent[0] == "HEAD" and not [m for m in sent if m.endswith("if absent")]


def test_s3_put_falls_back_to_asking_first_where_the_condition_is_not_implemented(
    seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server answering NotImplemented to If-None-Match (a stand-in here: SeaweedFS implements it)."""
    from storage.objectstore import s3 as s3_module
    from tests.storage.conftest import s3_store

    store = s3_store(seaweed)
    real_put = store.client.put_object
    conditional: list[bool] = []

    def put_object(*args, **kwargs):  # type: ignore[no-untyped-def]
        one = s3_module._ONE_PUT.get()
        conditional.append(bool(one and one.if_absent))
        if conditional[-1]:
            raise S3Error(
                None,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
                "",
                "",
                "",
            )  # type: ignore[arg-type]
        return real_put(*args, **kwargs)

    monkeypatch.setattr(store.client, "put_object", put_object)
    first = store.put_bytes(Bucket.DOCUMENTS, b"%PDF on a plain server")
    assert conditional == [True, False] and first.version_id
    assert store.put_bytes(Bucket.DOCUMENTS, b"%PDF on a plain server").key == first.key
    assert conditional == [True, False]  # asked first (HEAD): found, no second PUT, and no condition tried again
    assert store.versions(Bucket.DOCUMENTS, first.key) == [first.version_id]


def test_objects_under_a_prefix_are_listed_apart(store: ObjectStore) -> None:
    """A family of objects (the audit log's anchors) kept under its own prefix in the locked bucket."""
    plain = store.put_bytes(Bucket.RESULTS, b"%PDF a result", suffix=".pdf")
    anchor = store.put_bytes(Bucket.RESULTS, b'{"seq": 5}', suffix=".json", prefix="audit-anchors/")
    assert anchor.key == "audit-anchors/" + content_key(sha256_hex(b'{"seq": 5}'), ".json")
    assert [o.key for o in store.list_objects(Bucket.RESULTS, "audit-anchors/")] == [anchor.key]
    assert {o.key for o in store.list_objects(Bucket.RESULTS)} == {plain.key, anchor.key}
    assert store.get_bytes(Bucket.RESULTS, anchor.key, sha256=anchor.sha256) == b'{"seq": 5}'
    with pytest.raises(ObjectLocked):
        store.delete(Bucket.RESULTS, anchor.key)
