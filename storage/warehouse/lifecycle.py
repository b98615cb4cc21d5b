"""Lifecycle expiry of raw scans, for stores whose server does not run lifecycle rules (the local disk)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from storage.objectstore import Bucket, ObjectStore

log = logging.getLogger(__name__)


def sweep_expired(store: ObjectStore, *, now: datetime | None = None, days: int | None = None) -> list[str]:
    """Delete raw scans older than the configured expiry; returns the deleted keys."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days or store.policy.raw_expiry_days)
    removed = []
    for info in store.list_objects(Bucket.RAW):
        if info.modified < cutoff:
            store.delete(Bucket.RAW, info.key)
            removed.append(info.key)
    if removed:
        log.info("lifecycle: %d raw scans older than %s removed", len(removed), cutoff.isoformat())
    return removed
