"""S3 object store through the minio client (MinIO, SeaweedFS or any S3-compatible server).

Buckets are created for their purpose: raw scans with a lifecycle expiry rule, documents
with versioning, e-results with object lock (default COMPLIANCE retention in years) and,
per object, an explicit retain-until date and the configured legal hold. The server then
refuses to delete a locked version even to this service's own credentials; this class
also refuses up front. Every call retries transient faults (connection refused, 5xx)
with backoff until ``RetryPolicy.total_s`` has passed.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED, REPLACE, CopySource, Filter
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import DictType
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from minio.objectlockconfig import YEARS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from sohoa.errors import NotFound
from storage.errors import ObjectIntegrityError, ObjectLocked, ObjectStoreUnavailable
from storage.objectstore import inflight
from storage.objectstore.base import (
    TEMP_PREFIX,
    Bucket,
    LockState,
    ObjectInfo,
    Staged,
    StoredObject,
    StorePolicy,
    content_key,
    sha256_hex,
)
from storage.objectstore.retry import RetryPolicy, call_with_retry
from storage.objectstore.streams import HashingReader, Source, VerifyingReader, copy_to_file

log = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, ServerError, InvalidResponseError)
_TRANSIENT_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "XMinioServerNotInitialized",
    "ConditionalRequestConflict",  # AWS: another conditional write of the key in flight; retried, it is a 412
}
_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound", "NoSuchVersion"}
_NO_LOCK = {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError", "NoSuchObjectLegalHold"}
_VERSIONED = (Bucket.DOCUMENTS, Bucket.RESULTS)
SHA_META = "x-amz-meta-sha256"


_HELD = object()  # a conditional PUT refused: the key holds an object already
_UNCONDITIONAL_ONLY = object()  # the server does not implement conditional PUTs


@dataclass(frozen=True)
class _OnePut:
    """The one PUT of a known body: its length, its SHA-256, and whether it may only create the key."""

    length: int
    sha256: str
    if_absent: bool


_ONE_PUT: contextvars.ContextVar[_OnePut | None] = contextvars.ContextVar("one_put", default=None)


class _Minio(Minio):
    """The minio client, with two things for the PUT of a body the caller has hashed already.

    Over plain HTTP, signature v4 covers the body's SHA-256, which minio computes for every
    request: a second pass over bytes the warehouse has just hashed for their content key.
    Inside ``_one_put`` a request body of exactly the given length is signed with the given
    digest instead (the parts of a multipart upload are shorter, and still hashed here). It is
    the digest of those very bytes, so servers that check the payload hash (MinIO, AWS) still
    catch a body changed on the way; SeaweedFS checks none, with either digest.

    With ``if_absent`` that PUT carries ``If-None-Match: *``: the server writes the key only if
    it holds none (S3 conditional writes: AWS, MinIO, SeaweedFS) and answers 412 otherwise, so
    "stored once" costs no request of its own. minio's ``put_object`` has no way to send it (it
    turns unknown headers into metadata), hence here.
    """

    def _build_headers(
        self, host: str, headers: dict[str, Any] | None = None, body: bytes | None = None, creds: Any = None
    ) -> tuple[dict[str, Any], datetime]:
        put = _ONE_PUT.get()
        if put is None or body is None or len(body) != put.length:
            return super()._build_headers(host, headers, body, creds)
        if put.if_absent:
            headers = {**(headers or {}), "If-None-Match": "*"}
        if creds is None or self._base_url.is_https:
            return super()._build_headers(host, headers, body, creds)
        built, date = super()._build_headers(host, headers, None, creds)  # no body: nothing hashed
        built["Content-Length"] = str(len(body))
        built["x-amz-content-sha256"] = put.sha256
        return built, date


@contextlib.contextmanager
def _one_put(data: bytes, sha256: str, *, if_absent: bool) -> Iterator[None]:
    token = _ONE_PUT.set(_OnePut(len(data), sha256, if_absent))
    try:
        yield
    finally:
        _ONE_PUT.reset(token)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, S3Error):
        # minio always attaches the response; an S3Error raised by hand (a test's stand-in server) may not
        status = getattr(exc.response, "status", 0)
        return exc.code in _TRANSIENT_CODES or status >= 500
    return False


def _version(version_id: str | None) -> str | None:
    """A write's version id; an unversioned bucket may answer "null", which names no version."""
    return None if version_id in (None, "null") else version_id


class S3ObjectStore:
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool,
        prefix: str,
        policy: StorePolicy | None = None,
        retry: RetryPolicy | None = None,
        part_size: int = 16 * 1024 * 1024,
    ):
        http = inflight.pool_manager(
            timeout=urllib3.Timeout(connect=3, read=60), retries=urllib3.Retry(total=0), maxsize=16
        )
        self.client = _Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http)
        self.prefix = prefix
        self.policy = policy or StorePolicy()
        self.retry = retry or RetryPolicy()
        self.part_size = part_size
        self._conditional_puts = True  # until the server answers NotImplemented to one
        self._ready: set[str] = set()

    def bucket_name(self, bucket: Bucket) -> str:
        return f"{self.prefix}-{bucket.value}"

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return call_with_retry(what, fn, is_transient, self.retry)

    # -- buckets by purpose ----------------------------------------------------------------------

    def _ensure(self, bucket: Bucket) -> str:
        name = self.bucket_name(bucket)
        if name not in self._ready:
            self._call(f"create bucket {name}", lambda: self._create(bucket, name))
            self._ready.add(name)
        return name

    def _create(self, bucket: Bucket, name: str) -> None:
        if not self.client.bucket_exists(name):
            try:
                self.client.make_bucket(name, object_lock=bucket is Bucket.RESULTS)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        if bucket is Bucket.RESULTS:
            years = self.policy.results_retention_years
            try:
                self.client.set_object_lock_config(name, ObjectLockConfig(COMPLIANCE, years, YEARS))
            except S3Error as exc:
                log.error("bucket %s has no object lock (%s); e-results are locked by this service only", name, exc)
        elif bucket is Bucket.DOCUMENTS:
            self.client.set_bucket_versioning(name, VersioningConfig(ENABLED))
        elif bucket is Bucket.RAW:
            rule = Rule(
                ENABLED,
                rule_filter=Filter(prefix=""),
                rule_id="raw-expiry",
                expiration=Expiration(days=self.policy.raw_expiry_days),
            )
            self.client.set_bucket_lifecycle(name, LifecycleConfig([rule]))

    def _lock_args(self, bucket: Bucket) -> dict[str, Any]:
        if bucket is not Bucket.RESULTS:
            return {}
        until = datetime.now(UTC) + self.policy.results_retention
        return {"retention": Retention(COMPLIANCE, until), "legal_hold": self.policy.results_legal_hold}

    # -- writing ---------------------------------------------------------------------------------

    def put_bytes(
        self,
        bucket: Bucket,
        data: bytes,
        *,
        suffix: str = "",
        content_type: str = "",
        check_exists: bool = True,
        sha256: str | None = None,
        prefix: str = "",
    ) -> StoredObject:
        """See ``ObjectStore.put_bytes``. The existence check rides on the PUT itself (``If-None-Match``)
        where the body goes in one request: on SeaweedFS that costs nothing on a plain bucket, and
        on a versioned one less than asking first (10.2 against 10.7 ms for 500 KB here), though more
        than a catalogue's answer (hence ``check_exists=False`` from the warehouse). A locked e-result
        is still asked for first (a server that ignored the condition would lock a second copy for
        years), and so is a body sent in parts, and every body once the server answered that it
        does not implement the condition."""
        name = self._ensure(bucket)
        digest = sha256 or sha256_hex(data)  # a caller that already hashed passes it on
        key = content_key(digest, suffix, prefix)
        one_request = len(data) <= self.part_size
        conditional = check_exists and one_request and bucket is not Bucket.RESULTS and self._conditional_puts
        if (check_exists or bucket is Bucket.RESULTS) and not conditional:
            held = self._held(bucket, key)
            if held is not None:
                return StoredObject(bucket, key, digest, len(data), _version(held.version_id))
        result = self._call(
            f"put {name}/{key}", lambda: self._put_once(bucket, name, key, data, digest, content_type, conditional)
        )
        if result is _UNCONDITIONAL_ONLY:
            log.warning("%s does not take conditional PUTs (If-None-Match): existence is asked first from now on", name)
            self._conditional_puts = False
            return self.put_bytes(bucket, data, suffix=suffix, content_type=content_type, sha256=digest, prefix=prefix)
        if result is _HELD:  # perhaps written by this call's own first try, whose answer was lost
            # A raw scan's age restarts, a document's version is looked up (its row records it).
            held = self._held(bucket, key) if bucket is Bucket.RAW or bucket in _VERSIONED else None
            return StoredObject(bucket, key, digest, len(data), _version(held.version_id) if held else None)
        return StoredObject(bucket, key, digest, len(data), _version(result.version_id))

    def _put_once(
        self, bucket: Bucket, name: str, key: str, data: bytes, digest: str, content_type: str, conditional: bool
    ) -> Any:
        """One PUT: its result, ``_HELD`` when a conditional one found the key taken, or ``_UNCONDITIONAL_ONLY``."""
        try:
            with _one_put(data, digest, if_absent=conditional):
                return self.client.put_object(
                    name,
                    key,
                    io.BytesIO(data),
                    len(data),
                    content_type=content_type or "application/octet-stream",
                    metadata={SHA_META: digest},
                    part_size=self.part_size,
                    **self._lock_args(bucket),
                )
        except S3Error as exc:
            if conditional and exc.code == "PreconditionFailed":
                return _HELD
            if conditional and exc.code == "NotImplemented":
                return _UNCONDITIONAL_ONLY
            raise
        except InvalidResponseError as exc:  # a 412 without an XML body is still the server's refusal
            if conditional and getattr(exc, "_code", None) == 412:
                return _HELD
            raise

    def stage(self, bucket: Bucket, source: Source, *, content_type: str = "") -> Staged:
        work = self._ensure(Bucket.WORK)
        temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"

        def attempt() -> HashingReader:
            if isinstance(source, (str, Path)):
                path = Path(source)
                with path.open("rb") as fh:
                    reader = HashingReader(fh)
                    self._upload(work, temp_key, reader, path.stat().st_size, content_type)
                return reader
            if source.seekable():
                source.seek(0)
            reader = HashingReader(source)
            self._upload(work, temp_key, reader, -1, content_type)
            return reader

        retryable = isinstance(source, (str, Path)) or source.seekable()
        reader = self._call(f"stage {work}/{temp_key}", attempt) if retryable else self._once(attempt)
        return Staged(bucket, temp_key, reader.hexdigest(), reader.size)

    def _once(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:
            if is_transient(exc):
                raise ObjectStoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
            raise

    def _upload(self, name: str, key: str, reader: HashingReader, length: int, content_type: str) -> None:
        self.client.put_object(
            name,
            key,
            reader,  # type: ignore[arg-type]  # minio types data as BinaryIO; it only calls read()
            length,
            content_type=content_type or "application/octet-stream",
            part_size=self.part_size,
            num_parallel_uploads=1,  # one part in memory at a time
        )

    def promote(self, staged: Staged, *, suffix: str = "", content_type: str = "") -> StoredObject:
        name = self._ensure(staged.bucket)
        work = self._ensure(Bucket.WORK)
        key = content_key(staged.sha256, suffix)
        version_id = None
        if not self.renew(staged.bucket, key):
            meta: DictType = {SHA_META: staged.sha256, "Content-Type": content_type or "application/octet-stream"}
            result = self._call(
                f"copy {work}/{staged.temp_key} -> {name}/{key}",
                lambda: self.client.copy_object(
                    name,
                    key,
                    CopySource(work, staged.temp_key),
                    metadata=meta,
                    metadata_directive=REPLACE,
                    **self._lock_args(staged.bucket),
                ),
            )
            version_id = _version(result.version_id)
            if staged.bucket is Bucket.RESULTS:
                self._lock_version(name, key, version_id)
        self._call(f"remove {work}/{staged.temp_key}", lambda: self.client.remove_object(work, staged.temp_key))
        return StoredObject(staged.bucket, key, staged.sha256, staged.size, version_id)

    def _lock_version(self, name: str, key: str, version_id: str | None) -> None:
        """Lock a copied e-result: a server may drop retention headers on CopyObject (SeaweedFS does)."""
        args = self._lock_args(Bucket.RESULTS)
        self._call(
            f"retain {name}/{key}",
            lambda: self.client.set_object_retention(name, key, args["retention"], version_id=version_id),
        )
        if args["legal_hold"]:
            self._call(
                f"hold {name}/{key}", lambda: self.client.enable_object_legal_hold(name, key, version_id=version_id)
            )

    def put_file(self, bucket: Bucket, source: Source, *, suffix: str = "", content_type: str = "") -> StoredObject:
        staged = self.stage(bucket, source, content_type=content_type)
        return self.promote(staged, suffix=suffix, content_type=content_type)

    def move_in(
        self, bucket: Bucket, path: Path, *, sha256: str, suffix: str = "", content_type: str = ""
    ) -> StoredObject:
        obj = self.put_file(bucket, path, suffix=suffix, content_type=content_type)
        path.unlink(missing_ok=True)
        return obj

    # -- reading ---------------------------------------------------------------------------------

    def _get(
        self, name: str, key: str, version_id: str | None = None, work: inflight.InFlightWork | None = None
    ) -> bytes:
        """The object's bytes, read in one call (urllib3's chunked ``stream`` costs more than hashing).

        ``work`` runs while the request is in flight; when it fails, the body is not read.
        """

        def fetch() -> bytes:
            with inflight.during_next_request(work):
                response = self.client.get_object(name, key, version_id=version_id)
            try:
                return b"" if work is not None and work.failed else response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return self._call(f"get {name}/{key}", fetch)
        except S3Error as exc:
            # A version id this server never issued (a bucket copied from another server) is
            # refused as malformed by AWS and MinIO: for the reader, that version is not there.
            if exc.code in _MISSING or (version_id and exc.code == "InvalidArgument"):
                raise NotFound(f"{name}/{key}") from exc
            raise

    def get_bytes(
        self,
        bucket: Bucket,
        key: str,
        *,
        sha256: str | None = None,
        version_id: str | None = None,
        while_waiting: Callable[[], None] | None = None,
    ) -> bytes:
        """See ``ObjectStore.get_bytes``. A named version is also the cheaper read: SeaweedFS finds
        it directly, where the newest costs it a further lookup (about 0.3 ms of a 2 ms read here)."""
        name = self._ensure(bucket)
        work = inflight.InFlightWork(while_waiting) if while_waiting is not None else None
        pinned = version_id if bucket in _VERSIONED else None
        data: bytes | None = None
        try:
            data = self._get(name, key, pinned, work=work)
        except NotFound:
            if sha256 is None or bucket not in _VERSIONED:
                raise  # else a delete marker or a removed version may hide intact versions: looked for below
        finally:
            if work is not None:
                work.finish()  # its failure is the one to report, even when the fetch failed too
        if data is not None and (sha256 is None or sha256_hex(data) == sha256):
            return data
        if bucket not in _VERSIONED or sha256 is None:
            raise ObjectIntegrityError(f"{name}/{key}")  # (a missing object was raised as NotFound above)
        versions = self.versions(bucket, key)
        good = self._intact_version(name, key, versions, sha256)
        if good is not None:
            read = f"version {pinned}" if pinned else "newest version"
            log.warning("%s/%s: %s deleted or altered; served the intact version %s", name, key, read, good[0])
            return good[1]
        if not versions:
            raise NotFound(f"{name}/{key}")  # nothing at all under the key
        raise ObjectIntegrityError(f"{name}/{key}")  # bytes under the key, none of them those catalogued

    def _intact_version(self, name: str, key: str, versions: list[str], sha256: str) -> tuple[str, bytes] | None:
        """The first of ``versions`` (newest first) whose bytes match ``sha256``."""
        for version_id in versions:
            data = self._get(name, key, version_id)
            if sha256_hex(data) == sha256:
                return version_id, data
        return None

    def restore_version(self, bucket: Bucket, key: str, sha256: str) -> bool:
        """Make an intact earlier version the newest again (used by scrub); False when none is intact."""
        name = self.bucket_name(bucket)
        good = self._intact_version(name, key, self.versions(bucket, key), sha256)
        if good is None:
            return False
        self._call(
            f"restore {name}/{key}",
            lambda: self.client.copy_object(name, key, CopySource(name, key, version_id=good[0])),
        )
        return True

    def open_read(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> VerifyingReader:
        name = self._ensure(bucket)
        try:
            response = self._call(f"open {name}/{key}", lambda: self.client.get_object(name, key))
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound(f"{name}/{key}") from exc
            raise
        return VerifyingReader(response, sha256, f"{name}/{key}", closer=response)

    def get_to_file(self, bucket: Bucket, key: str, dest: Path, *, sha256: str | None = None) -> int:
        return copy_to_file(self.open_read(bucket, key, sha256=sha256), dest)

    def _stat(self, name: str, key: str) -> Any:
        """The object's metadata, None when it is absent."""
        try:
            return self._call(f"stat {name}/{key}", lambda: self.client.stat_object(name, key))
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise

    def exists(self, bucket: Bucket, key: str) -> bool:
        return self._stat(self._ensure(bucket), key) is not None

    def renew(self, bucket: Bucket, key: str) -> bool:
        return self._held(bucket, key) is not None

    def _held(self, bucket: Bucket, key: str) -> Any:
        """``renew``'s work: the metadata of what is held under the key (renewed), None when nothing is."""
        name = self._ensure(bucket)
        stat = self._stat(name, key)
        if stat is None:
            return None
        modified = stat.last_modified
        if bucket is Bucket.RAW and modified is not None and datetime.now(UTC) - modified > self.policy.renew_after:
            # Copied onto itself: a new write as far as the lifecycle rule is concerned.
            meta = {"Content-Type": stat.content_type or "application/octet-stream"}
            if stat.metadata and stat.metadata.get(SHA_META):
                meta[SHA_META] = stat.metadata[SHA_META]
            self._call(
                f"renew {name}/{key}",
                lambda: self.client.copy_object(
                    name, key, CopySource(name, key), metadata=meta, metadata_directive=REPLACE
                ),
            )
        return stat

    def list_objects(self, bucket: Bucket, prefix: str = "") -> Iterator[ObjectInfo]:
        name = self._ensure(bucket)
        items = self._call(f"list {name}", lambda: list(self.client.list_objects(name, prefix, recursive=True)))
        for obj in items:
            if obj.object_name and not obj.is_dir:
                yield ObjectInfo(obj.object_name, obj.size or 0, obj.last_modified or datetime.now(UTC))

    def versions(self, bucket: Bucket, key: str) -> list[str]:
        """Version ids of a key, newest first (delete markers left out)."""
        name = self._ensure(bucket)
        items = self._call(
            f"versions {name}/{key}",
            lambda: list(self.client.list_objects(name, key, include_version=True)),
        )
        found = [o for o in items if o.object_name == key and not o.is_delete_marker and o.version_id]
        found.sort(key=lambda o: o.last_modified or datetime.min.replace(tzinfo=UTC), reverse=True)
        return [o.version_id for o in found if o.version_id]

    # -- retention and deletion ------------------------------------------------------------------

    def lock_state(self, bucket: Bucket, key: str) -> LockState:
        name = self._ensure(bucket)
        if bucket is not Bucket.RESULTS:
            return LockState(None, None, False)
        ret = self._lock_query(name, key, "retention", lambda: self.client.get_object_retention(name, key))
        hold = self._lock_query(name, key, "hold", lambda: self.client.is_object_legal_hold_enabled(name, key))
        if ret is None:
            return LockState(None, None, bool(hold))
        return LockState(ret.mode, ret.retain_until_date, bool(hold))

    def _lock_query(self, name: str, key: str, what: str, fn: Callable[[], T]) -> T | None:
        try:
            return self._call(f"{what} {name}/{key}", fn)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise NotFound(f"{name}/{key}") from exc
            if exc.code in _NO_LOCK:
                return None
            raise

    def set_legal_hold(self, bucket: Bucket, key: str, on: bool) -> None:
        name = self._ensure(bucket)
        if on:
            self._call(f"hold {name}/{key}", lambda: self.client.enable_object_legal_hold(name, key))
        else:
            self._call(f"release {name}/{key}", lambda: self.client.disable_object_legal_hold(name, key))

    def delete(self, bucket: Bucket, key: str) -> None:
        name = self._ensure(bucket)
        locked = bucket is Bucket.RESULTS and self.exists(bucket, key)
        if locked and self.lock_state(bucket, key).locked(datetime.now(UTC)):
            raise ObjectLocked(f"{name}/{key}")
        self._call(f"remove {name}/{key}", lambda: self.client.remove_object(name, key))

    def presign_get(self, bucket: Bucket, key: str, expires: timedelta) -> str:
        name = self._ensure(bucket)
        return self.client.presigned_get_object(name, key, expires=expires)

    def ping(self) -> None:
        try:
            self.client.list_buckets()
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc
