"""The warehouse: objects stored once, each recorded in the catalogue, every read audited.

Crash-safe writes. A streamed upload (``put_file``) goes to a temporary key while it is
hashed; then the catalogue row is committed as ``pending`` (with the temporary key); then
it is finalised: moved to its content key and the row marked ``stored``. A crash at any
point leaves either an orphan temporary object (no row: scrub removes it), a pending row
with its temporary object (scrub or ``finalise_pending`` completes it), or the final object
with a pending row (completed the same way). Readers only see ``stored`` rows.

``put_bytes`` knows the hash before it writes, so it writes the content key directly (an
S3 PUT is atomic: whole or absent) and then commits the row; a crash in between leaves an
orphan object under its own hash, which scrub reports and a retry adopts. This skips a
server-side copy that would double the cost of every small write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from sohoa.errors import NotFound
from storage.catalogue.db import Autocommit, Catalogue, DriverSQL
from storage.catalogue.warehouse_models import ObjectRecord, ObjectState
from storage.objectstore import Bucket, ObjectStore, Staged, StoredObject, content_key, sha256_hex
from storage.objectstore.streams import Source
from storage.warehouse import audit

log = logging.getLogger(__name__)

FaultHook = Callable[[str], None]
FAULT_POINTS = ("object_written", "staged", "row_committed", "promoted")


class SimulatedCrash(BaseException):
    """Raised by a test's fault hook to stop a write at a named point, as a crash would."""


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


_STORED_ROW = f"FROM stored_objects WHERE bucket = :bucket AND key = :key AND state = '{ObjectState.STORED}'"
# A write's check for the same bytes.
_STORED = DriverSQL(f"SELECT sha256, size, version_id {_STORED_ROW}")
# A read finds the object's hash and appends its audit entry in one durable step.
_AUDITED_LOCATE = audit.AuditedLookup(f"SELECT sha256 {_STORED_ROW}")

_RECORD_STORED = DriverSQL(
    "INSERT INTO stored_objects "
    "(bucket, key, sha256, size, content_type, state, temp_key, version_id, created_at, updated_at) "
    "VALUES (:bucket, :key, :sha256, :size, :content_type, :state, NULL, :version_id, :now, :now) "
    "ON CONFLICT (bucket, key) DO UPDATE SET state = excluded.state, temp_key = NULL, "
    "version_id = COALESCE(excluded.version_id, stored_objects.version_id), updated_at = excluded.updated_at"
)


# A streamed upload's row while it is staged; a row already stored stays as it is (the same bytes).
_RECORD_PENDING = DriverSQL(
    "INSERT INTO stored_objects "
    "(bucket, key, sha256, size, content_type, state, temp_key, version_id, created_at, updated_at) "
    f"VALUES (:bucket, :key, :sha256, :size, :content_type, '{ObjectState.PENDING}', :temp_key, NULL, :now, :now) "
    "ON CONFLICT (bucket, key) DO UPDATE SET temp_key = excluded.temp_key, updated_at = excluded.updated_at "
    f"WHERE stored_objects.state = '{ObjectState.PENDING}'"
)
# A raw scan's row ages with its object: restarted when the store restarts the object's age.
_RENEWED = DriverSQL(
    "UPDATE stored_objects SET updated_at = :now WHERE bucket = :bucket AND key = :key AND updated_at < :before"
)


def _stored_row(obj: StoredObject, content_type: str) -> dict[str, Any]:
    return {
        "bucket": obj.bucket.value,
        "key": obj.key,
        "sha256": obj.sha256,
        "size": obj.size,
        "content_type": content_type,
        "state": ObjectState.STORED.value,
        "version_id": obj.version_id,
        "now": datetime.now(UTC),
    }


class Warehouse:
    def __init__(
        self,
        catalogue: Catalogue,
        store: ObjectStore,
        *,
        presign_expiry: timedelta = timedelta(minutes=5),
        faults: FaultHook | None = None,
    ):
        self.catalogue = catalogue
        self.store = store
        self.presign_expiry = presign_expiry
        self.faults = faults

    def _fault(self, point: str) -> None:
        if self.faults is not None:
            self.faults(point)

    # -- writing ---------------------------------------------------------------------------------

    @staticmethod
    def _stored(db: Autocommit, bucket: Bucket, key: str) -> StoredObject | None:
        row = db.read(_STORED, {"bucket": bucket.value, "key": key}).fetchone()
        return StoredObject(bucket, key, row[0], row[1], row[2]) if row else None

    def _known(self, conn: Autocommit, bucket: Bucket, key: str) -> StoredObject | None:
        """The stored object the catalogue holds under the key, if its bytes are still there.

        A raw scan may have expired under its row (the bucket's lifecycle rule runs on the
        server): its row is trusted only once the store has it (and its age restarted, ``renew``).
        """
        known = self._stored(conn, bucket, key)
        if known is not None and bucket is Bucket.RAW and not self._renew(conn, bucket, key):
            return None
        return known

    def put_bytes(
        self,
        bucket: Bucket,
        data: bytes,
        *,
        suffix: str = "",
        content_type: str = "",
        sha256: str | None = None,
        prefix: str = "",
    ) -> StoredObject:
        """Store bytes once under their content key (after ``prefix``) and record them; ``sha256`` when
        the caller hashed them."""
        digest = sha256 or sha256_hex(data)  # the only hash of these bytes: the store is handed it
        key = content_key(digest, suffix, prefix)
        # One pooled connection for the check and the record, each a single statement that
        # commits by itself: no transaction (nor SQLite's write lock) spans the upload, and
        # the record is the last use of the connection (SQLite's writer queue is left at checkin).
        with self.catalogue.autocommit() as conn:
            known = self._known(conn, bucket, key)
            if known is not None:
                return known
            obj = self.store.put_bytes(
                bucket, data, suffix=suffix, content_type=content_type, check_exists=False, sha256=digest, prefix=prefix
            )
            self._fault("object_written")
            self._record_stored(conn, obj, content_type)
        return obj

    def move_in(
        self, bucket: Bucket, path: Path, *, sha256: str, suffix: str = "", content_type: str = ""
    ) -> StoredObject:
        """Store a local file the caller has just written and hashed (consumed), and record it.

        As ``put_bytes``: a crash between the store and the record leaves an orphan under its
        own hash, which the retry adopts.
        """
        key = content_key(sha256, suffix)
        with self.catalogue.autocommit() as conn:
            known = self._known(conn, bucket, key)
            if known is not None:
                path.unlink(missing_ok=True)
                return known
            obj = self.store.move_in(bucket, path, sha256=sha256, suffix=suffix, content_type=content_type)
            self._fault("object_written")
            self._record_stored(conn, obj, content_type)
        return obj

    def renew(self, bucket: Bucket, key: str) -> bool:
        """Whether the store holds the object; a raw scan's age restarts (``ObjectStore.renew``), row and all."""
        with self.catalogue.autocommit() as conn:
            return self._renew(conn, bucket, key)

    def _renew(self, conn: Autocommit, bucket: Bucket, key: str) -> bool:
        if not self.store.renew(bucket, key):
            return False
        if bucket is Bucket.RAW:  # the row ages with the object: scrub tells an expired scan by it
            now = datetime.now(UTC)
            before = now - self.store.policy.renew_after
            conn.write(_RENEWED, {"bucket": bucket.value, "key": key, "now": now, "before": before})
        return True

    def forget(self, bucket: Bucket, keys: Sequence[str]) -> None:
        """Drop the stored rows of objects the store no longer holds (raw scans past their expiry): one statement."""
        if not keys:
            return
        with self.catalogue.session() as s:
            s.execute(
                delete(ObjectRecord).where(
                    ObjectRecord.bucket == bucket.value,
                    ObjectRecord.key.in_(keys),
                    ObjectRecord.state == ObjectState.STORED,
                )
            )

    def _record_stored(self, conn: Autocommit, obj: StoredObject, content_type: str) -> None:
        """Mark the row stored, inserting it if absent: one statement, safe against a concurrent writer."""
        conn.write(_RECORD_STORED, _stored_row(obj, content_type))

    def _commit_stored(self, obj: StoredObject, content_type: str) -> None:
        with self.catalogue.autocommit() as conn:
            self._record_stored(conn, obj, content_type)

    def put_file(self, bucket: Bucket, source: Source, *, suffix: str = "", content_type: str = "") -> StoredObject:
        """Streamed, crash-safe put: temporary key → pending row → content key → stored row."""
        staged = self.store.stage(bucket, source, content_type=content_type)
        self._fault("staged")
        key = content_key(staged.sha256, suffix)
        now = datetime.now(UTC)
        pending = {
            "bucket": bucket.value,
            "key": key,
            "sha256": staged.sha256,
            "size": staged.size,
            "content_type": content_type,
            "temp_key": staged.temp_key,
            "now": now,
        }
        with self.catalogue.autocommit() as conn:  # one statement: two uploads of the same bytes may race here
            conn.write(_RECORD_PENDING, pending)
        self._fault("row_committed")
        obj = self.store.promote(staged, suffix=suffix, content_type=content_type)
        self._fault("promoted")
        self._commit_stored(obj, content_type)
        return obj

    def finalise_pending(
        self, *, older_than: timedelta = timedelta(0), now: datetime | None = None
    ) -> dict[str, list[str]]:
        """Complete or drop uploads a crash interrupted. Returns keys by what was done.

        Only rows pending since at least ``older_than``: a younger one may belong to an upload
        another process is finishing right now, whose own promotion would then race this one.
        """
        done: dict[str, list[str]] = {"finalised": [], "dropped": []}
        cutoff = (now or datetime.now(UTC)) - older_than
        with self.catalogue.session() as s:
            pending = [
                (r.id, Bucket(r.bucket), r.key, r.sha256, r.size, r.temp_key, r.content_type)
                for r in s.scalars(
                    select(ObjectRecord).where(
                        ObjectRecord.state == ObjectState.PENDING, ObjectRecord.updated_at <= cutoff
                    )
                )
            ]
        for rid, bucket, key, sha, size, temp_key, ctype in pending:
            suffix = key.removeprefix(content_key(sha))
            if temp_key and self.store.exists(Bucket.WORK, temp_key):
                self.store.promote(Staged(bucket, temp_key, sha, size), suffix=suffix, content_type=ctype)
            if self._intact(bucket, key, sha):
                self._commit_stored(StoredObject(bucket, key, sha, size), ctype)
                done["finalised"].append(f"{bucket.value}/{key}")
            else:
                with self.catalogue.session() as s:
                    rec = s.get(ObjectRecord, rid)
                    if rec is not None and rec.state == ObjectState.PENDING:
                        s.delete(rec)
                done["dropped"].append(f"{bucket.value}/{key}")
                log.warning("dropped interrupted upload %s/%s: its bytes never reached the store", bucket.value, key)
        return done

    def _intact(self, bucket: Bucket, key: str, sha256: str) -> bool:
        try:
            with self.store.open_read(bucket, key, sha256=sha256) as fh:
                for _chunk in fh:
                    pass
            return True
        except NotFound:
            return False

    # -- reading, always audited -----------------------------------------------------------------

    def get_bytes(
        self,
        bucket: Bucket,
        key: str,
        *,
        actor: str,
        purpose: str = "",
        sha256: str | None = None,
        version_id: str | None = None,
        owner: str | None = None,
        centre_id: int | None = None,
    ) -> bytes:
        """Read a stored object (hash checked) and audit the access.

        ``owner`` and ``centre_id``: whose document it is and the centre it belongs to, when the
        caller knows (the audit trail's filters by citizen and centre).

        The audit entry is committed while the object store works on the request, so neither
        waits for the other. The bytes are handed back only once that commit succeeded: a read
        whose audit entry cannot be written is refused.

        Callers that hold the object's catalogue row (a document, an e-result) pass its hash
        and the version written (``version_id``), which the store reads directly. A read by key
        alone finds the hash in ``stored_objects`` in the same transaction as the audit entry
        (refused, with nothing appended, when the catalogue does not hold the object) and asks
        for the newest version: a content key has one version unless it was overwritten or
        deleted behind the warehouse's back, and then the hash (or the store's NotFound) gives
        that away and the store serves the intact earlier version. (Asking for the written
        version there needs the row before the request: on PostgreSQL that round trip cost more
        than the store's finding the newest.)
        """
        subject = f"{bucket.value}/{key}"
        entry = {
            "actor": actor,
            "action": "get",
            "subject": subject,
            "purpose": purpose,
            "outcome": "ok",
            "owner": owner,
            "centre_id": centre_id,
        }
        located: list[str] = []

        def audit_read() -> None:
            if sha256 is not None:
                audit.record(self.catalogue, **entry)
                located.append(sha256)
                return
            found = _AUDITED_LOCATE.run(self.catalogue, {"bucket": bucket.value, "key": key}, **entry)
            if found is None:
                raise NotFound(subject)  # and nothing was appended
            located.append(str(found[0]))

        try:
            if sha256 is not None:
                return self.store.get_bytes(bucket, key, sha256=sha256, version_id=version_id, while_waiting=audit_read)
            try:
                data: bytes | None = self.store.get_bytes(bucket, key, version_id=version_id, while_waiting=audit_read)
            except NotFound:
                if not located:
                    raise
                data = None  # a delete marker on a versioned bucket may hide an intact version
            if data is None or sha256_hex(data) != located[0]:  # the store serves an intact version or raises
                data = self.store.get_bytes(bucket, key, sha256=located[0], version_id=version_id)
        except Exception as exc:
            if not located:
                raise  # refused: not in the catalogue, or its audit entry was not written
            audit.record(
                self.catalogue,
                **{**entry, "outcome": "error"},
                detail={"error": getattr(exc, "code", type(exc).__name__)},
            )
            raise
        return data

    def presign(self, bucket: Bucket, key: str, *, actor: str, purpose: str = "", owner: str | None = None) -> Link:
        """A short-lived download link; the grant of it is audited."""
        expires_at = datetime.now(UTC) + self.presign_expiry
        url = self.store.presign_get(bucket, key, self.presign_expiry)
        audit.record(
            self.catalogue,
            actor=actor,
            action="presign",
            subject=f"{bucket.value}/{key}",
            purpose=purpose,
            outcome="ok",
            detail={"expires_at": expires_at.isoformat()},
            owner=owner,
        )
        return Link(url, expires_at)
