"""Housekeeping the service runs on a timer, so that nothing depends on an operator's cron.

* Raw scans (and batch archives) past ``storage.raw_expiry_days`` are deleted from the local
  store; an S3 server applies the bucket's own lifecycle rule instead.
* Warehouse uploads a crash interrupted (pending rows) are completed or dropped, once they
  have been pending for ``PENDING_GRACE``: a younger one may be an upload in flight.

Both are idempotent, so several API processes running them is harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from storage.warehouse.lifecycle import sweep_expired
from workers.services import Services

log = logging.getLogger(__name__)


PENDING_GRACE = timedelta(minutes=15)


def run_once(services: Services, *, pending_grace: timedelta = PENDING_GRACE) -> dict[str, Any]:
    """One round of housekeeping; returns what it did."""
    done: dict[str, Any] = {}
    if services.settings.storage.backend == "local":
        done["expired_raw"] = len(sweep_expired(services.store))
    pending = services.warehouse.finalise_pending(older_than=pending_grace)
    done |= {"finalised": len(pending["finalised"]), "dropped": len(pending["dropped"])}
    return done


class Maintenance:
    """Runs ``run_once`` now and then every ``workers.maintenance_interval_s`` on a daemon thread."""

    def __init__(self, services: Services):
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sohoa-maintenance", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        interval = self.services.settings.workers.maintenance_interval_s
        while not self._stop.is_set():
            try:
                done = run_once(self.services)
                if any(done.values()):
                    log.info("maintenance: %s", done)
            except Exception:
                log.exception("maintenance round failed; trying again in %.0f s", interval)
            self._stop.wait(interval)
