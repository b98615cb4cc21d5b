"""``sohoa scrub``: re-hash every stored object against the catalogue; report (and repair) what disagrees.

Checked: warehouse objects, digitised documents, e-results and raw scans (a raw scan gone
after its lifecycle expiry is reported as expired, not missing). With ``repair``:
interrupted uploads are finalised or dropped, stale temporary objects removed, and an
overwritten object in a versioned bucket is restored from its intact version.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from sohoa.errors import NotFound
from storage.catalogue.db import Catalogue
from storage.catalogue.models import Component, Document, Dossier, EResult, ScanFile
from storage.catalogue.warehouse_models import ObjectRecord, ObjectState
from storage.errors import ObjectIntegrityError
from storage.objectstore import Bucket, ObjectStore
from storage.objectstore.base import TEMP_PREFIX
from storage.warehouse.core import Warehouse

log = logging.getLogger(__name__)


@dataclass
class ScrubReport:
    checked: int = 0
    ok: int = 0
    expired: int = 0
    missing: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    finalised: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    stale_temp: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        unrepaired = (set(self.missing) | set(self.tampered)) - set(self.repaired)
        return not unrepaired and not (set(self.pending) - set(self.finalised) - set(self.dropped))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clean": self.clean}


Expected = dict[tuple[Bucket, str], tuple[str, datetime | None]]


def _expected(catalogue: Catalogue) -> Expected:
    """(bucket, key) → (sha256, time after which a raw scan may have expired)."""
    out: Expected = {}
    with catalogue.session() as s:
        for b, k, sha in s.execute(
            select(ObjectRecord.bucket, ObjectRecord.key, ObjectRecord.sha256).where(
                ObjectRecord.state == ObjectState.STORED
            )
        ):
            out[(Bucket(b), k)] = (sha, None)
        for k, sha in s.execute(select(Document.object_key, Document.sha256)):
            out[(Bucket.DOCUMENTS, k)] = (sha, None)
        for result_key, result_sha in s.execute(
            select(EResult.object_key, EResult.sha256).where(EResult.object_key.is_not(None))
        ):
            if result_key is not None and result_sha is not None:  # set together when the result is stored
                out[(Bucket.RESULTS, result_key)] = (result_sha, None)
        raw = (
            select(ScanFile.object_key, ScanFile.sha256, Dossier.created_at)
            .join(Component, Component.id == ScanFile.component_id)
            .join(Dossier, Dossier.id == Component.dossier_id)
            .where(ScanFile.stored.is_(True))  # the rest still live in their batch archive
        )
        for k, sha, created in s.execute(raw):
            _newest_use(out, k, sha, created)
        archives = select(Dossier.archive_key, Dossier.archive_sha256, Dossier.created_at).where(
            Dossier.archive_key.is_not(None)
        )
        for archive_key, archive_sha, created in s.execute(archives):
            if archive_key is not None and archive_sha is not None:  # set together when the batch is kept
                _newest_use(out, archive_key, archive_sha, created)
    return out


def _newest_use(out: Expected, key: str, sha: str, created: datetime) -> None:
    """A raw object reused by a later dossier ages from that one (its age restarts on reuse)."""
    known = out.get((Bucket.RAW, key))
    if known is None or (known[1] is not None and created > known[1]):
        out[(Bucket.RAW, key)] = (sha, created)


def _check(store: ObjectStore, bucket: Bucket, key: str, sha256: str) -> str:
    try:
        with store.open_read(bucket, key, sha256=sha256) as fh:
            for _chunk in fh:
                pass
    except NotFound:
        return "missing"
    except ObjectIntegrityError:
        return "tampered"
    return "ok"


def scrub(
    catalogue: Catalogue,
    store: ObjectStore,
    *,
    repair: bool = False,
    temp_grace: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> ScrubReport:
    now = now or datetime.now(UTC)
    report = ScrubReport()
    with catalogue.session() as s:
        pending = s.execute(
            select(ObjectRecord.bucket, ObjectRecord.key, ObjectRecord.temp_key).where(
                ObjectRecord.state == ObjectState.PENDING
            )
        ).all()
    report.pending = [f"{b}/{k}" for b, k, _t in pending]
    if repair and pending:
        # A row younger than the grace may be an upload still in flight: neither finalised nor its object removed.
        done = Warehouse(catalogue, store).finalise_pending(older_than=temp_grace, now=now)
        report.finalised, report.dropped = done["finalised"], done["dropped"]
    live_temps = {t for _b, _k, t in pending if t}  # a finalised row's temp was moved to its key

    expiry = timedelta(days=store.policy.raw_expiry_days)
    for (bucket, key), (sha, created) in sorted(_expected(catalogue).items()):
        report.checked += 1
        state = _check(store, bucket, key, sha)
        where = f"{bucket.value}/{key}"
        if state == "ok":
            report.ok += 1
        elif state == "missing" and bucket is Bucket.RAW and created is not None and created + expiry <= now:
            report.expired += 1
        else:
            if state == "missing":
                report.missing.append(where)
                log.error("scrub: %s is missing from the object store", where)
            else:
                report.tampered.append(where)
                log.error("scrub: %s does not match its SHA-256", where)
            # A versioned bucket may keep the intact bytes under an overwrite or a delete marker.
            restore = getattr(store, "restore_version", None)
            restored = repair and restore is not None and restore(bucket, key, sha)
            if restored and _check(store, bucket, key, sha) == "ok":
                report.repaired.append(where)

    for info in store.list_objects(Bucket.WORK, TEMP_PREFIX):
        if info.key in live_temps or info.modified > now - temp_grace:
            continue
        report.stale_temp.append(info.key)
        if repair:
            store.delete(Bucket.WORK, info.key)
    return report
