"""Local-disk object store for the embedded mode: one folder per bucket."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sohoa.errors import NotFound, ObjectStoreUnavailable
from storage.objectstore.base import Bucket, StoredObject, check_integrity, content_key, sha256_hex


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = root
        for bucket in Bucket:
            (root / bucket.value).mkdir(parents=True, exist_ok=True)

    def _path(self, bucket: Bucket, key: str) -> Path:
        path = (self.root / bucket.value / key).resolve()
        if not path.is_relative_to((self.root / bucket.value).resolve()):
            raise NotFound(f"invalid key {key!r}")
        return path

    def put_bytes(self, bucket: Bucket, data: bytes, *, suffix: str = "", content_type: str = "") -> StoredObject:
        digest = sha256_hex(data)
        key = content_key(digest, suffix)
        path = self._path(bucket, key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredObject(bucket, key, digest, len(data))

    def get_bytes(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> bytes:
        path = self._path(bucket, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"{bucket.value}/{key}") from exc
        return check_integrity(data, sha256, f"{bucket.value}/{key}")

    def exists(self, bucket: Bucket, key: str) -> bool:
        return self._path(bucket, key).is_file()

    def delete(self, bucket: Bucket, key: str) -> None:
        self._path(bucket, key).unlink(missing_ok=True)

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise ObjectStoreUnavailable(f"{self.root} is not writable")
