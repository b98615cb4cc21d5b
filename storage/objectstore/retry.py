"""Retry transient object-store faults with exponential backoff and full jitter, within a time budget."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from storage.errors import ObjectStoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    total_s: float = 90.0  # a 30 s outage is survived with room to spare
    base_s: float = 0.2
    cap_s: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(self.base_s / 2, min(self.cap_s, self.base_s * 2**attempt))


def call_with_retry(
    what: str,
    fn: Callable[[], T],
    is_transient: Callable[[BaseException], bool],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn``; on a transient fault wait and try again until ``policy.total_s`` has passed.

    Raises ObjectStoreUnavailable (retryable) when the budget is spent.
    """
    deadline = time.monotonic() + policy.total_s
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ObjectStoreUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
            wait = min(policy.delay(attempt), remaining)
            if attempt == 0 or attempt % 10 == 0:
                log.warning("object store %s failed (%s); retrying for up to %.0f s", what, exc, remaining)
            attempt += 1
            sleep(wait)
