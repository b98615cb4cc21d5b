"""When a test's work runs: all at once on threads, step by step in this thread, at a time set by hand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def run_in_threads(work: Callable[[int], None], count: int, *, timeout: float = 60) -> list[BaseException]:
    """Run ``work(0)`` … ``work(count - 1)`` on threads at once; what they raised, for the caller to assert on."""
    errors: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout} s"
    return errors


def run_steps(services: Any, queues: tuple[str, ...] = ("sign", "store")) -> list[Any]:
    """Run every claimable step of these queues in this thread, as a worker would; returns their RunResults."""
    from workers.runner import StepRunner

    runner, ran = StepRunner(services, "test"), []
    while (step_id := runner.claim_next(queues)) is not None:
        ran.append(runner.run(step_id))
    return ran


class FakeClock:
    """A clock a test moves by hand (``clock.now += 60``) for limiters and budgets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
