"""The object-store interface shared by the local-disk and S3 backends."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sohoa.errors import IntegrityError


class Bucket(StrEnum):
    """Buckets by purpose (DESIGN.md §3, object layout)."""

    RAW = "raw"  # raw scans, short retention
    WORK = "work"  # intermediate artefacts between pipeline steps
    DOCUMENTS = "documents"  # digitised, signed documents
    RESULTS = "results"  # signed e-results, locked


@dataclass(frozen=True)
class StoredObject:
    bucket: Bucket
    key: str
    sha256: str
    size: int


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(sha256: str, suffix: str = "") -> str:
    """Content-addressed key: identical bytes always land on the same key."""
    return f"sha256/{sha256[:2]}/{sha256}{suffix}"


def check_integrity(data: bytes, expected_sha256: str | None, where: str) -> bytes:
    if expected_sha256 is not None and sha256_hex(data) != expected_sha256:
        raise IntegrityError(where)
    return data


class ObjectStore(Protocol):
    """Content-addressed object storage. Writes are atomic: an object is whole or absent."""

    def put_bytes(self, bucket: Bucket, data: bytes, *, suffix: str = "", content_type: str = "") -> StoredObject:
        """Store bytes under their content key; storing the same bytes twice is a no-op."""
        ...

    def get_bytes(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> bytes:
        """Read an object; with ``sha256`` the content is checked and IntegrityError raised on mismatch."""
        ...

    def exists(self, bucket: Bucket, key: str) -> bool: ...

    def delete(self, bucket: Bucket, key: str) -> None: ...

    def ping(self) -> None:
        """Raise ObjectStoreUnavailable if the store cannot be reached."""
        ...
