"""The embedded worker pool: threads in the service process that claim steps from the catalogue.

Same runner, same guarantees as the Celery pools: a restart simply finds the pending
and lease-expired steps again.
"""

from __future__ import annotations

import logging
import threading

from dossiers.services import Services
from workers.leases import worker_identity
from workers.runner import AbandonedSweep, StepRunner

log = logging.getLogger(__name__)


class EmbeddedPool:
    def __init__(self, services: Services, threads: int | None = None, queues: tuple[str, ...] | None = None):
        self.services = services
        self.size = threads or services.settings.workers.embedded_threads
        self.queues = queues or services.settings.workers.queues
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._busy_lock = threading.Lock()

    def start(self) -> None:
        base = worker_identity()
        sweep = AbandonedSweep(self.services)  # one for the pool: every thread would sweep the same rows
        for i in range(self.size):
            t = threading.Thread(target=self._loop, args=(f"{base}/{i}", sweep), name=f"sohoa-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("embedded pool started with %d threads on queues %s", self.size, ",".join(self.queues))

    def wake(self) -> None:
        """Tell idle threads that new steps are waiting."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    @property
    def busy(self) -> int:
        return self._busy

    def _loop(self, owner: str, sweep: AbandonedSweep) -> None:
        runner = StepRunner(self.services, owner, sweep=sweep)
        poll = self.services.settings.workers.poll_interval_s
        while not self._stop.is_set():
            try:
                step_id = runner.claim_next(self.queues)
            except Exception:
                log.exception("claiming a step failed; retrying shortly")
                step_id = None
            if step_id is None:
                with self._wake:
                    self._wake.wait(poll)
                continue
            with self._busy_lock:
                self._busy += 1
            try:
                runner.run(step_id)
            except Exception:
                log.exception("settling step %s failed; its lease will expire and it will run again", step_id)
            finally:
                with self._busy_lock:
                    self._busy -= 1
            self.wake()
