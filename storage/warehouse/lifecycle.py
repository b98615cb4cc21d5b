"""Lifecycle expiry of raw scans, for stores whose server does not run lifecycle rules (the local disk).

An S3 server applies the raw bucket's own lifecycle rule and leaves the rows behind; scrub
tells those expired scans by their rows' age (and drops the rows with ``repair``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from storage.objectstore import Bucket
from storage.warehouse.core import Warehouse

log = logging.getLogger(__name__)


def sweep_expired(warehouse: Warehouse, *, now: datetime | None = None, days: int | None = None) -> list[str]:
    """Delete raw scans older than the configured expiry, and their rows; returns the deleted keys."""
    store = warehouse.store
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days or store.policy.raw_expiry_days)
    removed = []
    for info in store.list_objects(Bucket.RAW):
        if info.modified < cutoff:
            store.delete(Bucket.RAW, info.key)
            removed.append(info.key)
    warehouse.forget(Bucket.RAW, removed)  # rows left by a crash before this are scrub's expired ones
    if removed:
        log.info("lifecycle: %d raw scans older than %s removed", len(removed), cutoff.isoformat())
    return removed
