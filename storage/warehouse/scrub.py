"""``sohoa scrub``: re-hash every stored object against the catalogue; report (and repair) what disagrees.

Checked: every object the warehouse recorded in ``stored_objects``, the one write path into
the buckets (raw scans and batch archives, intermediate files, documents, e-results and their
earlier versions). A raw scan gone after its lifecycle expiry is reported as expired, not
missing. With ``repair``: interrupted uploads are finalised or dropped, stale temporary
objects removed, an overwritten object in a versioned bucket restored from its intact
version, and the rows of expired raw scans dropped.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from sohoa.errors import NotFound
from storage.catalogue.db import Catalogue
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
    """(bucket, key) → (sha256, for a raw scan the time its age last restarted).

    Every object is written through the warehouse, so ``stored_objects`` is the one
    catalogue of what the buckets must hold.
    """
    with catalogue.session() as s:
        rows = s.execute(
            select(ObjectRecord.bucket, ObjectRecord.key, ObjectRecord.sha256, ObjectRecord.updated_at).where(
                ObjectRecord.state == ObjectState.STORED
            )
        )
        return {(Bucket(b), k): (sha, at if b == Bucket.RAW.value else None) for b, k, sha, at in rows}


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
    warehouse = Warehouse(catalogue, store)
    with catalogue.session() as s:
        pending = s.execute(
            select(ObjectRecord.bucket, ObjectRecord.key, ObjectRecord.temp_key).where(
                ObjectRecord.state == ObjectState.PENDING
            )
        ).all()
    report.pending = [f"{b}/{k}" for b, k, _t in pending]
    if repair and pending:
        # A row younger than the grace may be an upload still in flight: neither finalised nor its object removed.
        done = warehouse.finalise_pending(older_than=temp_grace, now=now)
        report.finalised, report.dropped = done["finalised"], done["dropped"]
    live_temps = {t for _b, _k, t in pending if t}  # a finalised row's temp was moved to its key

    # A row's time may run ahead of its object's by up to ``renew_after`` (a reuse that found the
    # object young records the row anew but leaves the object's age): expiry is judged leniently.
    expiry = timedelta(days=store.policy.raw_expiry_days) - store.policy.renew_after
    expired: list[str] = []
    for (bucket, key), (sha, aged) in sorted(_expected(catalogue).items()):
        report.checked += 1
        state = _check(store, bucket, key, sha)
        where = f"{bucket.value}/{key}"
        if state == "ok":
            report.ok += 1
        elif state == "missing" and bucket is Bucket.RAW and aged is not None and aged + expiry <= now:
            report.expired += 1
            if repair:
                expired.append(key)
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

    warehouse.forget(Bucket.RAW, expired)  # the server's lifecycle rule removed them: their rows go too

    for info in store.list_objects(Bucket.WORK, TEMP_PREFIX):
        if info.key in live_temps or info.modified > now - temp_grace:
            continue
        report.stale_temp.append(info.key)
        if repair:
            store.delete(Bucket.WORK, info.key)
    return report
