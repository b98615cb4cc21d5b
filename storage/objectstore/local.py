"""Local-disk object store for the embedded mode: one folder per bucket.

What S3 does server-side is done here by this class: e-results are locked (retention and
legal hold kept in a sidecar file, the object made read-only, ``delete`` refused), deleted
documents keep their old version under ``.versions/``, and raw scans expire through
``storage.warehouse.lifecycle.sweep_expired``.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sohoa.errors import NotFound
from storage.errors import ObjectLocked, ObjectStoreUnavailable
from storage.objectstore.base import (
    TEMP_PREFIX,
    Bucket,
    LockState,
    ObjectInfo,
    Staged,
    StoredObject,
    StorePolicy,
    check_integrity,
    content_key,
    sha256_hex,
)
from storage.objectstore.links import load_or_create_secret, sign_local_link
from storage.objectstore.streams import CHUNK, HashingReader, Source, VerifyingReader, copy_to_file, open_source

# Read-only, and for the service's own user only: the objects are citizens' scans and results.
_READ_ONLY = 0o400


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise  # some file systems cannot sync a folder (as PostgreSQL, carry on without it)
    finally:
        os.close(fd)


def _make_dirs(directory: Path) -> None:
    """``mkdir -p`` whose new folders survive a power loss: the parent of each is synced."""
    if directory.is_dir():
        return
    _make_dirs(directory.parent)
    directory.mkdir(exist_ok=True)
    _fsync_dir(directory.parent)


def _durable_replace(src: Path, dest: Path) -> None:
    """Rename, then sync the destination folder.

    Without the sync a power loss can undo the rename after the catalogue, committed next,
    already names the object (unless that commit happens to flush the same journal).
    """
    os.replace(src, dest)
    _fsync_dir(dest.parent)


class LocalObjectStore:
    def __init__(
        self,
        root: Path,
        policy: StorePolicy | None = None,
        *,
        link_secret: bytes | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self.root = root
        self.policy = policy or StorePolicy()
        self.clock = clock
        for bucket in Bucket:
            _make_dirs(root / bucket.value)
        self._link_secret = link_secret

    @property
    def link_secret(self) -> bytes:
        if self._link_secret is None:
            self._link_secret = load_or_create_secret(self.root / ".link-secret")
        return self._link_secret

    def _path(self, bucket: Bucket, key: str) -> Path:
        base = (self.root / bucket.value).resolve()
        path = (base / key).resolve()
        if not path.is_relative_to(base) or path == base:
            raise NotFound(f"invalid key {key!r}")
        return path

    def _lock_path(self, bucket: Bucket, key: str) -> Path:
        return self.root / ".locks" / bucket.value / f"{key}.json"

    # -- writing -------------------------------------------------------------------------------

    def _write_atomic(self, path: Path, write: Callable[[BinaryIO], object], *, durable_name: bool = True) -> None:
        """Write to a temporary file, fsync it, rename it to ``path``; with ``durable_name`` the rename is
        synced too. A staged upload's name need not be: ``promote`` renames it again, and syncs that
        rename, and an upload whose temporary name a power loss undid was never acknowledged (its
        pending row is dropped by ``finalise_pending``)."""
        _make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if durable_name:
                _durable_replace(Path(tmp), path)
            else:
                os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _after_write(self, bucket: Bucket, key: str, path: Path) -> None:
        if bucket is Bucket.RESULTS:
            until = self.clock() + self.policy.results_retention
            self._save_lock(bucket, key, LockState("COMPLIANCE", until, self.policy.results_legal_hold))
            path.chmod(_READ_ONLY)

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
        digest = sha256 or sha256_hex(data)  # a caller that already hashed passes it on
        key = content_key(digest, suffix, prefix)
        path = self._path(bucket, key)
        if not self._renewed(bucket, path):
            self._write_atomic(path, lambda fh: fh.write(data))
            self._after_write(bucket, key, path)
        return StoredObject(bucket, key, digest, len(data))

    def stage(self, bucket: Bucket, source: Source, *, content_type: str = "") -> Staged:
        temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        path = self._path(Bucket.WORK, temp_key)
        holder: dict[str, HashingReader] = {}

        def write(fh: BinaryIO) -> None:
            with open_source(source) as raw:
                reader = holder["r"] = HashingReader(raw)
                while chunk := reader.read(CHUNK):
                    fh.write(chunk)

        self._write_atomic(path, write, durable_name=False)
        return Staged(bucket, temp_key, holder["r"].hexdigest(), holder["r"].size)

    def promote(self, staged: Staged, *, suffix: str = "", content_type: str = "") -> StoredObject:
        key = content_key(staged.sha256, suffix)
        src = self._path(Bucket.WORK, staged.temp_key)
        dest = self._path(staged.bucket, key)
        if self._renewed(staged.bucket, dest):
            src.unlink(missing_ok=True)
        else:
            if not src.exists():
                raise NotFound(f"staged upload {staged.temp_key}")
            _make_dirs(dest.parent)
            _durable_replace(src, dest)
            self._after_write(staged.bucket, key, dest)
        return StoredObject(staged.bucket, key, staged.sha256, staged.size)

    def put_file(self, bucket: Bucket, source: Source, *, suffix: str = "", content_type: str = "") -> StoredObject:
        return self.promote(self.stage(bucket, source), suffix=suffix)

    def move_in(
        self, bucket: Bucket, path: Path, *, sha256: str, suffix: str = "", content_type: str = ""
    ) -> StoredObject:
        # Locked objects are hashed here, never stored on a caller's word; another file system is copied.
        key = content_key(sha256, suffix)
        if bucket is not Bucket.RESULTS:
            size = path.stat().st_size
            if self._rename_in(bucket, path, self._path(bucket, key)):
                return StoredObject(bucket, key, sha256, size)
        obj = self.put_file(bucket, path, suffix=suffix, content_type=content_type)
        path.unlink(missing_ok=True)
        return obj

    def _rename_in(self, bucket: Bucket, path: Path, dest: Path) -> bool:
        """Make ``path`` the object at ``dest`` (durably); False when a rename cannot do it."""
        if self._renewed(bucket, dest):  # the same bytes are stored already
            path.unlink()
            return True
        with path.open("rb+") as fh:
            os.fsync(fh.fileno())
        _make_dirs(dest.parent)
        try:
            os.replace(path, dest)
        except OSError:
            return False
        _fsync_dir(dest.parent)
        return True

    # -- reading -------------------------------------------------------------------------------

    def get_bytes(
        self,
        bucket: Bucket,
        key: str,
        *,
        sha256: str | None = None,
        version_id: str | None = None,
        while_waiting: Callable[[], None] | None = None,
    ) -> bytes:
        if while_waiting is not None:
            while_waiting()
        path = self._path(bucket, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"{bucket.value}/{key}") from exc
        return check_integrity(data, sha256, f"{bucket.value}/{key}")

    def open_read(self, bucket: Bucket, key: str, *, sha256: str | None = None) -> VerifyingReader:
        try:
            fh = self._path(bucket, key).open("rb")
        except FileNotFoundError as exc:
            raise NotFound(f"{bucket.value}/{key}") from exc
        return VerifyingReader(fh, sha256, f"{bucket.value}/{key}")

    def get_to_file(self, bucket: Bucket, key: str, dest: Path, *, sha256: str | None = None) -> int:
        return copy_to_file(self.open_read(bucket, key, sha256=sha256), dest)

    def renew(self, bucket: Bucket, key: str) -> bool:
        return self._renewed(bucket, self._path(bucket, key))

    def _renewed(self, bucket: Bucket, path: Path) -> bool:
        try:
            modified = path.stat().st_mtime
        except FileNotFoundError:
            return False
        if bucket is Bucket.RAW and time.time() - modified > self.policy.renew_after.total_seconds():
            os.utime(path)  # sweep_expired goes by the modification time
        return True

    def exists(self, bucket: Bucket, key: str) -> bool:
        return self._path(bucket, key).is_file()

    def list_objects(self, bucket: Bucket, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root / bucket.value
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    st = path.stat()
                    yield ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    # -- retention, versions, deletion ---------------------------------------------------------

    def _save_lock(self, bucket: Bucket, key: str, state: LockState) -> None:
        path = self._lock_path(bucket, key)
        doc = {
            "mode": state.mode,
            "retain_until": state.retain_until.isoformat() if state.retain_until else None,
            "legal_hold": state.legal_hold,
        }
        self._write_atomic(path, lambda fh: fh.write(json.dumps(doc).encode()))

    def lock_state(self, bucket: Bucket, key: str) -> LockState:
        try:
            doc = json.loads(self._lock_path(bucket, key).read_text())
        except FileNotFoundError:
            return LockState(None, None, False)
        until = datetime.fromisoformat(doc["retain_until"]) if doc["retain_until"] else None
        return LockState(doc["mode"], until, bool(doc["legal_hold"]))

    def set_legal_hold(self, bucket: Bucket, key: str, on: bool) -> None:
        if not self.exists(bucket, key):
            raise NotFound(f"{bucket.value}/{key}")
        state = self.lock_state(bucket, key)
        self._save_lock(bucket, key, LockState(state.mode, state.retain_until, on))

    def delete(self, bucket: Bucket, key: str) -> None:
        path = self._path(bucket, key)
        if self.lock_state(bucket, key).locked(self.clock()):
            raise ObjectLocked(f"{bucket.value}/{key}")
        if bucket is Bucket.DOCUMENTS and path.exists():
            keep = self.root / ".versions" / bucket.value / key / f"{time.time_ns()}"
            _make_dirs(keep.parent)
            _durable_replace(path, keep)
            return
        path.unlink(missing_ok=True)
        self._lock_path(bucket, key).unlink(missing_ok=True)

    def versions(self, bucket: Bucket, key: str) -> list[str]:
        """Ids of the kept earlier versions of a key (documents bucket), oldest first."""
        folder = self.root / ".versions" / bucket.value / key
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def presign_get(self, bucket: Bucket, key: str, expires: timedelta) -> str:
        if not self.exists(bucket, key):
            raise NotFound(f"{bucket.value}/{key}")
        return sign_local_link(self.link_secret, bucket.value, key, time.time() + expires.total_seconds())

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise ObjectStoreUnavailable(f"{self.root} is not writable")
