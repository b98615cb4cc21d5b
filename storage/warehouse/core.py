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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from sohoa.errors import NotFound
from storage.catalogue.db import Catalogue
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


def _record(s: Session, bucket: Bucket, key: str) -> ObjectRecord | None:
    return s.scalar(select(ObjectRecord).where(ObjectRecord.bucket == bucket.value, ObjectRecord.key == key))


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

    def _stored_sha(self, s: Session, bucket: Bucket, key: str) -> tuple[str, int] | None:
        row = s.execute(
            select(ObjectRecord.sha256, ObjectRecord.size).where(
                ObjectRecord.bucket == bucket.value, ObjectRecord.key == key, ObjectRecord.state == ObjectState.STORED
            )
        ).first()
        return (row[0], row[1]) if row else None

    def put_bytes(self, bucket: Bucket, data: bytes, *, suffix: str = "", content_type: str = "") -> StoredObject:
        digest = sha256_hex(data)
        key = content_key(digest, suffix)
        with self.catalogue.session() as s:
            known = self._stored_sha(s, bucket, key)
        if known is not None:
            return StoredObject(bucket, key, known[0], known[1])
        obj = self.store.put_bytes(
            bucket, data, suffix=suffix, content_type=content_type, check_exists=False, sha256=digest
        )
        self._fault("object_written")
        self._commit_stored(bucket, obj, content_type)
        return obj

    def _commit_stored(self, bucket: Bucket, obj: StoredObject, content_type: str) -> None:
        now = datetime.now(UTC)
        try:
            with self.catalogue.session() as s:
                done = s.execute(
                    update(ObjectRecord)
                    .where(ObjectRecord.bucket == bucket.value, ObjectRecord.key == obj.key)
                    .values(state=ObjectState.STORED, temp_key=None, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount == 0:
                    s.execute(
                        insert(ObjectRecord).values(
                            bucket=bucket.value,
                            key=obj.key,
                            sha256=obj.sha256,
                            size=obj.size,
                            content_type=content_type,
                            state=ObjectState.STORED,
                            created_at=now,
                            updated_at=now,
                        )
                    )
        except DbIntegrityError:
            log.info("object %s/%s was recorded concurrently", bucket.value, obj.key)

    def put_file(self, bucket: Bucket, source: Source, *, suffix: str = "", content_type: str = "") -> StoredObject:
        """Streamed, crash-safe put: temporary key → pending row → content key → stored row."""
        staged = self.store.stage(bucket, source, content_type=content_type)
        self._fault("staged")
        key = content_key(staged.sha256, suffix)
        with self.catalogue.session() as s:
            rec = _record(s, bucket, key)
            if rec is None:
                s.add(
                    ObjectRecord(
                        bucket=bucket.value,
                        key=key,
                        sha256=staged.sha256,
                        size=staged.size,
                        content_type=content_type,
                        state=ObjectState.PENDING,
                        temp_key=staged.temp_key,
                    )
                )
            elif rec.state == ObjectState.PENDING:
                rec.temp_key = staged.temp_key
        self._fault("row_committed")
        obj = self.store.promote(staged, suffix=suffix, content_type=content_type)
        self._fault("promoted")
        self._commit_stored(bucket, obj, content_type)
        return obj

    def finalise_pending(self) -> dict[str, list[str]]:
        """Complete or drop uploads a crash interrupted. Returns keys by what was done."""
        done: dict[str, list[str]] = {"finalised": [], "dropped": []}
        with self.catalogue.session() as s:
            pending = [
                (r.id, Bucket(r.bucket), r.key, r.sha256, r.size, r.temp_key, r.content_type)
                for r in s.scalars(select(ObjectRecord).where(ObjectRecord.state == ObjectState.PENDING))
            ]
        for rid, bucket, key, sha, size, temp_key, ctype in pending:
            suffix = key.removeprefix(content_key(sha))
            if temp_key and self.store.exists(Bucket.WORK, temp_key):
                self.store.promote(Staged(bucket, temp_key, sha, size), suffix=suffix, content_type=ctype)
            if self._intact(bucket, key, sha):
                self._commit_stored(bucket, StoredObject(bucket, key, sha, size), ctype)
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

    def _locate(self, s: Session, bucket: Bucket, key: str, sha256: str | None) -> str:
        if sha256 is not None:
            return sha256
        known = self._stored_sha(s, bucket, key)
        if known is None:
            raise NotFound(f"{bucket.value}/{key}")
        return known[0]

    def get_bytes(self, bucket: Bucket, key: str, *, actor: str, purpose: str = "", sha256: str | None = None) -> bytes:
        """Read a stored object (hash checked) and audit the access."""
        subject = f"{bucket.value}/{key}"
        with self.catalogue.session() as s:
            sha = self._locate(s, bucket, key, sha256)
            audit.append(s, actor=actor, action="get", subject=subject, purpose=purpose, outcome="ok")
        try:
            return self.store.get_bytes(bucket, key, sha256=sha)
        except Exception as exc:
            audit.record(
                self.catalogue,
                actor=actor,
                action="get",
                subject=subject,
                purpose=purpose,
                outcome="error",
                detail={"error": getattr(exc, "code", type(exc).__name__)},
            )
            raise

    def presign(self, bucket: Bucket, key: str, *, actor: str, purpose: str = "") -> Link:
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
        )
        return Link(url, expires_at)
