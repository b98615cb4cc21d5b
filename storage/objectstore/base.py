"""The object-store interface shared by the local-disk and S3 backends."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from storage.errors import ObjectIntegrityError
from storage.objectstore.streams import Source, VerifyingReader

TEMP_PREFIX = "tmp/"


class Bucket(StrEnum):
    """Buckets by purpose (DESIGN.md §3, object layout)."""

    RAW = "raw"  # raw scans, short retention (lifecycle expiry)
    WORK = "work"  # intermediate artefacts between pipeline steps, and staged uploads
    DOCUMENTS = "documents"  # digitised, signed documents (versioned)
    RESULTS = "results"  # signed e-results (object lock, COMPLIANCE retention)


@dataclass(frozen=True)
class StorePolicy:
    """What each bucket must guarantee, from settings (StorageSettings)."""

    raw_expiry_days: int = 30
    results_retention_years: int = 10
    results_legal_hold: bool = False

    @property
    def results_retention(self) -> timedelta:
        return timedelta(days=365 * self.results_retention_years + self.results_retention_years // 4)

    @property
    def renew_after(self) -> timedelta:
        """A raw scan reused after this long gets its age restarted (``ObjectStore.renew``): a day, or
        half the expiry when that is shorter, so a reuse always leaves it time to be digitised."""
        return min(timedelta(days=1), timedelta(days=self.raw_expiry_days) / 2)


@dataclass(frozen=True)
class StoredObject:
    bucket: Bucket
    key: str
    sha256: str
    size: int
    version_id: str | None = None


@dataclass(frozen=True)
class Staged:
    """An upload written under a temporary key, with the hash computed while it streamed."""

    bucket: Bucket
    temp_key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class LockState:
    mode: str | None
    retain_until: datetime | None
    legal_hold: bool

    def locked(self, now: datetime) -> bool:
        return self.legal_hold or (self.retain_until is not None and self.retain_until > now)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(sha256: str, suffix: str = "", prefix: str = "") -> str:
    """Content-addressed key: identical bytes always land on the same key (``prefix``: a family of
    objects a reader lists apart, e.g. ``audit-anchors/``)."""
    return f"{prefix}sha256/{sha256[:2]}/{sha256}{suffix}"


def check_integrity(data: bytes, expected_sha256: str | None, where: str) -> bytes:
    if expected_sha256 is not None and sha256_hex(data) != expected_sha256:
        raise ObjectIntegrityError(where)
    return data


class ObjectStore(Protocol):
    """Content-addressed object storage. Writes are atomic: an object is whole or absent.

    Reads can check a SHA-256. Objects in ``Bucket.RESULTS`` are locked for the configured
    retention when written: neither ``delete`` nor a write to the same key succeeds until it ends.
    """

    policy: StorePolicy

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
        """Store bytes under their content key (after ``prefix``); storing the same bytes twice is a no-op.

        ``check_exists=False`` skips the existence check (the caller knows, e.g. from the catalogue);
        ``sha256`` passes a hash the caller already computed of exactly these bytes. The returned
        ``version_id`` names the version holding the bytes, the one written now or the one found
        there (None where the store or the bucket keeps no versions).
        """
        ...

    def get_bytes(
        self,
        bucket: Bucket,
        key: str,
        *,
        sha256: str | None = None,
        version_id: str | None = None,
        while_waiting: Callable[[], None] | None = None,
    ) -> bytes:
        """Read an object; with ``sha256`` the content is checked and ObjectIntegrityError raised on mismatch.

        A versioned bucket serves ``version_id`` (the version a write returned, which the caller
        kept) or else its newest version; when that one is gone or does not match ``sha256``,
        the newest version that does is served instead (an overwrite cannot hide a document).
        Stores without version ids (the local disk) read the key and ignore ``version_id``.
        NotFound when nothing is stored under the key; ObjectIntegrityError when bytes are, but none
        of them match ``sha256``.

        ``while_waiting`` runs exactly once, on this thread, while the request is in flight (S3:
        sent, response not yet read; the local store has nothing to wait for and runs it first).
        What it raises is raised instead of returning the bytes, even if the read failed too.
        """
        ...

    def exists(self, bucket: Bucket, key: str) -> bool: ...

    def renew(self, bucket: Bucket, key: str) -> bool:
        """Whether the object exists; a raw scan older than ``policy.renew_after`` gets its age restarted.

        Raw scans expire by age (the bucket's lifecycle rule, ``sweep_expired`` on the local
        disk). Bytes stored once serve every later dossier that sends them again, so such a
        reuse must count as a new write, or the scan could expire under a dossier still
        being digitised. Every "already stored" path of a raw write goes through here.
        """
        ...

    def delete(self, bucket: Bucket, key: str) -> None:
        """Remove an object; ObjectLocked while it is under retention or legal hold."""
        ...

    def ping(self) -> None:
        """Raise ObjectStoreUnavailable if the store cannot be reached."""
        ...

    def stage(self, bucket: Bucket, source: Source, *, content_type: str = "") -> Staged:
        """Stream a file or stream to a temporary key, hashing it on the way (never whole in memory)."""
        ...

    def promote(self, staged: Staged, *, suffix: str = "", content_type: str = "") -> StoredObject:
        """Move a staged upload to its content key (a no-op copy when the bytes are already there)."""
        ...

    def put_file(self, bucket: Bucket, source: Source, *, suffix: str = "", content_type: str = "") -> StoredObject:
        """``stage`` then ``promote``: a streamed, multipart upload."""
        ...

    def move_in(
        self, bucket: Bucket, path: Path, *, sha256: str, suffix: str = "", content_type: str = ""
    ) -> StoredObject:
        """Store a local file the caller has just written and hashed; the file is consumed.

        The local backend renames it into place (no second copy of an upload); others upload it.
        """
        ...

    def open_read(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> VerifyingReader:
        """A stream of the object; the hash is checked when the stream is read to the end."""
        ...

    def get_to_file(self, bucket: Bucket, key: str, dest: Path, *, sha256: str | None = None) -> int:
        """Stream an object into ``dest`` (temp name, then rename); returns its size."""
        ...

    def list_objects(self, bucket: Bucket, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def lock_state(self, bucket: Bucket, key: str) -> LockState: ...

    def set_legal_hold(self, bucket: Bucket, key: str, on: bool) -> None: ...

    def presign_get(self, bucket: Bucket, key: str, expires: timedelta) -> str:
        """A short-lived download link (S3 presigned URL, or an HMAC-signed path for the local store)."""
        ...
