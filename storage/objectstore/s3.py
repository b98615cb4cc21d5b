"""S3 object store through the minio client (MinIO, SeaweedFS or any S3-compatible server)."""

from __future__ import annotations

import io

import urllib3
from minio import Minio
from minio.error import S3Error

from sohoa.errors import NotFound, ObjectStoreUnavailable
from storage.objectstore.base import Bucket, StoredObject, check_integrity, content_key, sha256_hex

_TRANSIENT = (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


class S3ObjectStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, *, secure: bool, prefix: str):
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60), retries=urllib3.Retry(total=0), maxsize=16
        )
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http)
        self.prefix = prefix
        self._ready: set[str] = set()

    def bucket_name(self, bucket: Bucket) -> str:
        return f"{self.prefix}-{bucket.value}"

    def _ensure(self, bucket: Bucket) -> str:
        name = self.bucket_name(bucket)
        if name not in self._ready:
            try:
                if not self.client.bucket_exists(name):
                    self.client.make_bucket(name)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
            except _TRANSIENT as exc:
                raise ObjectStoreUnavailable(str(exc)) from exc
            self._ready.add(name)
        return name

    def put_bytes(self, bucket: Bucket, data: bytes, *, suffix: str = "", content_type: str = "") -> StoredObject:
        name = self._ensure(bucket)
        digest = sha256_hex(data)
        key = content_key(digest, suffix)
        try:
            if not self.exists(bucket, key):
                self.client.put_object(
                    name,
                    key,
                    io.BytesIO(data),
                    len(data),
                    content_type=content_type or "application/octet-stream",
                    metadata={"x-amz-meta-sha256": digest},
                )
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc
        return StoredObject(bucket, key, digest, len(data))

    def get_bytes(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> bytes:
        name = self._ensure(bucket)
        try:
            response = self.client.get_object(name, key)
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound(f"{name}/{key}") from exc
            raise
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc
        return check_integrity(data, sha256, f"{name}/{key}")

    def exists(self, bucket: Bucket, key: str) -> bool:
        name = self._ensure(bucket)
        try:
            self.client.stat_object(name, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc

    def delete(self, bucket: Bucket, key: str) -> None:
        try:
            self.client.remove_object(self._ensure(bucket), key)
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc

    def ping(self) -> None:
        try:
            self.client.list_buckets()
        except _TRANSIENT as exc:
            raise ObjectStoreUnavailable(str(exc)) from exc
