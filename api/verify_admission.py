"""Admission to public signature checks: each client pays in sandbox seconds, and some processes stay free.

Counting requests did not protect the verifiers: four connections sending 20 MB PDFs that each cost
half a minute stayed well under 30 checks a minute, yet held both sandbox processes (and every
verification thread) while nine of ten citizens were told "busy". Three things replace that:

* What the file declares is read before any sandbox is used (``signing.validation.declared_cost``): a file
  past a bound is refused at once (``PDF_TOO_COSTLY``).
* Each client (``api.citizen.client_of``: an address, an IPv6 /64) has an allowance of sandbox
  *seconds*: ``verify_seconds_burst`` at most, refilled at ``verify_seconds_per_minute``. A check
  is charged the seconds its sandbox process really worked on it, measured, whatever the file
  declared. A client whose allowance is spent gets 429 with Retry-After (the time until it is
  positive again) before its upload is even read. In-process, or in Redis when
  ``api.rate_limit_redis_url`` is set, so that every API process charges the same allowance.
* Processes are handed out by :class:`SandboxShare`, per API process: ``verify_reserved_processes``
  of them are only for clients in good standing — no check of theirs running here, and more than
  half their allowance left. A client that already has a check running, or has spent half its
  allowance, waits for one of the other processes. So one client (or several spending fast) never
  holds every process, and a citizen's check finds one free; waiting clients in good standing are
  served first. A wait longer than ``verify_timeout_s`` is VERIFY_BUSY (503), as before. A request
  waits on the event loop, holding no thread: it takes a verification thread with its process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

import anyio
from fastapi import Request

from api.citizen import client_of
from api.errors import retry_seconds
from api.ratelimit import MAX_KEYS, table_key
from signing.errors import VerifyBusy
from signing.validation import refuse_if_too_costly

if TYPE_CHECKING:
    import redis  # imported where a Redis URL is configured

log = logging.getLogger(__name__)
T = TypeVar("T")

OVER_BUDGET = (
    "Các tệp bạn gửi kiểm tra gần đây đã dùng hết thời gian xử lý dành cho mỗi người dùng. "
    "Vui lòng thử lại sau {seconds} giây."
)


class SandboxBudget(Protocol):
    """Per-client allowance of sandbox seconds: at most ``burst``, refilled at ``rate`` per second."""

    burst: float
    rate: float

    def balance(self, key: str) -> float:
        """Seconds ``key`` has left now (``burst`` for a client never seen; below 0 after an overrun)."""
        ...

    def charge(self, key: str, seconds: float) -> float:
        """Take ``seconds`` of sandbox time from ``key``; its balance afterwards."""
        ...


class MemoryBudget:
    """The allowance of each client in this process, in at most ``max_keys`` entries.

    A full allowance is no state (it is what a new client gets): entries that have refilled are
    dropped from the front (the table keeps them in the order they were last charged), and one
    that still holds a debt is never dropped, or a client sending from enough addresses (an IPv6
    /48 holds 65,536 clients) could wipe a flooder's debt. While the table is full of debts, new
    clients are charged together under ``api.ratelimit.OVERFLOW`` (``table_key``, the limiters'
    own rule): degraded for them, bounded in memory.
    """

    def __init__(
        self,
        per_second: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ):
        self.rate, self.burst, self.clock, self.max_keys = per_second, burst, clock, max_keys
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # balance, when last charged
        self._lock = threading.Lock()

    def _refilled(self, state: tuple[float, float], now: float) -> float:
        balance, at = state
        return min(self.burst, balance + (now - at) * self.rate)

    def _live(self, state: tuple[float, float]) -> bool:
        return self._refilled(state, self.clock()) < self.burst  # a debt: never dropped

    def balance(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            state = self._state.get(table_key(self._state, key, self._live, self.max_keys))
            return self.burst if state is None else self._refilled(state, now)

    def charge(self, key: str, seconds: float) -> float:
        now = self.clock()
        with self._lock:
            key = table_key(self._state, key, self._live, self.max_keys)
            state = self._state.pop(key, None)
            balance = (self.burst if state is None else self._refilled(state, now)) - seconds
            self._state[key] = (balance, now)
            return balance


_BALANCE_LUA = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'b', 'ts')
local balance = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
balance = math.min(burst, balance + math.max(0, now - last) * rate)
local spend = tonumber(ARGV[4])
if spend > 0 then
  balance = balance - spend
  redis.call('HSET', KEYS[1], 'b', tostring(balance), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[1], math.ceil((burst - balance) / rate) + 1)
end
return tostring(balance)
"""


class RedisBudget:
    """The same allowance in Redis (one hash per client, expiring once it is full again), shared by API processes."""

    def __init__(self, client: redis.Redis, per_second: float, burst: float, prefix: str):
        self.client, self.rate, self.burst, self.prefix = client, per_second, burst, prefix
        self._script = client.register_script(_BALANCE_LUA)

    def _run(self, key: str, spend: float) -> float:
        return float(self._script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time(), spend]))

    def balance(self, key: str) -> float:
        return self._run(key, 0.0)

    def charge(self, key: str, seconds: float) -> float:
        return self._run(key, max(seconds, 1e-6))


@dataclass(eq=False)  # waiters are told apart by identity
class _Waiter:
    client: str
    standing: bool
    event: anyio.Event = field(default_factory=anyio.Event)
    granted: bool = False


class SandboxShare:
    """Hands out this API process's ``processes`` sandbox processes; ``reserved`` of them to clients in good standing.

    A request in good standing (its client has no check running here and more than half its
    allowance left) may take any free process; any other only while more than ``reserved`` are
    free. Waiting requests in good standing go first, then the others, each in arrival order.
    Runs on the event loop (no locks): call it from async code only.
    """

    def __init__(self, processes: int, reserved: int):
        self.processes = processes
        self.reserved = min(reserved, processes - 1)  # a client spending fast may still be served, slowly
        self.free = processes
        self.running: dict[str, int] = {}
        self._waiting: deque[_Waiter] = deque()

    def _may_start(self, client: str, standing: bool) -> bool:
        if standing and not self.running.get(client):
            return self.free > 0
        return self.free > self.reserved

    def _start(self, client: str) -> None:
        self.free -= 1
        self.running[client] = self.running.get(client, 0) + 1

    async def acquire(self, client: str, standing: bool, timeout_s: float) -> None:
        """Take a process for ``client``; VerifyBusy when none it may take came free within ``timeout_s``."""
        waiter = _Waiter(client, standing)
        self._waiting.append(waiter)
        self._grant()  # at once if it may: a client in good standing goes ahead of those that may not
        if waiter.granted:
            return
        try:
            with anyio.move_on_after(timeout_s):
                await waiter.event.wait()
        except BaseException:  # cancelled while waiting: leave no process taken, no waiter behind
            self._forget(waiter)
            raise
        if not waiter.granted:
            self._forget(waiter)
            raise VerifyBusy(f"no verification process this client may use came free within {timeout_s:g} s")

    def _forget(self, waiter: _Waiter) -> None:
        if waiter.granted:
            self.release(waiter.client)
        else:
            self._waiting.remove(waiter)

    def release(self, client: str) -> None:
        self.free += 1
        left = self.running.get(client, 0) - 1
        if left > 0:
            self.running[client] = left
        else:
            self.running.pop(client, None)
        self._grant()

    def _grant(self) -> None:
        while self.free > 0:
            first = [w for w in self._waiting if w.standing and not self.running.get(w.client)]
            chosen = next((w for w in [*first, *self._waiting] if self._may_start(w.client, w.standing)), None)
            if chosen is None:
                return
            self._waiting.remove(chosen)
            self._start(chosen.client)
            chosen.granted = True
            chosen.event.set()


class VerifyAdmission:
    """The budget, the share of processes and the pre-check, as one gate for public checks."""

    def __init__(self, budget: SandboxBudget, share: SandboxShare, wait_s: float):
        self.budget = budget
        self.share = share
        self.wait_s = wait_s

    def wait(self, client: str) -> tuple[float, bool]:
        """(seconds until ``client`` may check again, 0.0: now; whether it is in good standing). Blocking (Redis)."""
        balance = self.budget.balance(client)
        if balance <= 0:
            return (1e-3 - balance) / self.budget.rate, False
        return 0.0, balance > self.budget.burst / 2

    async def run(
        self, client: str, standing: bool, work: Callable[[bytes], T], pdf: bytes, threads: anyio.CapacityLimiter
    ) -> T:
        """``work(pdf)`` on a verification thread once the file passed the pre-check and a process is ours.

        Raises PdfTooCostly (nothing charged), VerifyBusy; charges the client the seconds ``work`` took.
        """
        cost = await anyio.to_thread.run_sync(refuse_if_too_costly, pdf)
        log.debug("declared cost of an uploaded PDF: %s", cost)
        await self.share.acquire(client, standing, self.wait_s)
        started = time.monotonic()
        try:
            if threads.available_tokens < 1:
                raise VerifyBusy("every verification thread is taken")
            return await anyio.to_thread.run_sync(work, pdf, limiter=threads)
        finally:
            used = time.monotonic() - started
            self.share.release(client)
            with anyio.CancelScope(shield=True):
                left = await anyio.to_thread.run_sync(self.budget.charge, client, used)
            if left <= 0:
                log.warning("client %s spent its verification allowance (%.1f s left after %.1f s)", client, left, used)


def make_admission(
    *,
    processes: int,
    reserved: int,
    seconds_per_minute: float,
    seconds_burst: float,
    wait_s: float,
    redis_url: str | None = None,
    redis_prefix: str = "sohoa:rl:",
) -> VerifyAdmission:
    """The admission of one API process: its share of ``processes``; the budget here or in Redis."""
    budget: SandboxBudget
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        budget = RedisBudget(client, seconds_per_minute / 60, seconds_burst, f"{redis_prefix}verify-seconds:")
    else:
        budget = MemoryBudget(seconds_per_minute / 60, seconds_burst)
    return VerifyAdmission(budget, SandboxShare(processes, reserved), wait_s)


# What the routes call.


def budget_refusal(request: Request) -> tuple[float, str] | None:
    """(Retry-After seconds, the Vietnamese sentence) when this client's sandbox allowance is spent; else None.

    Blocking (Redis): call it on a thread, before the upload is read (a refused client costs no
    upload). Notes the client's standing on the request for :func:`checked`.
    """
    state = request.app.state
    client = client_of(request)
    wait, standing = state.verify_admission.wait(client)
    request.state.verify_standing = standing
    if wait <= 0:
        return None
    state.api_metrics.rate_limited.labels("verify_seconds").inc()
    log.warning("public verification refused for client %s: sandbox allowance spent; retry in %.0f s", client, wait)
    return wait, OVER_BUDGET.format(seconds=retry_seconds(wait))


async def checked(request: Request, work: Callable[[bytes], T], pdf: bytes) -> T:
    """``work(pdf)`` admitted as this module describes; raises PdfTooCostly or VerifyBusy."""
    state = request.app.state
    standing: bool = request.state.verify_standing  # set by budget_refusal, which every route asks first
    return await state.verify_admission.run(client_of(request), standing, work, pdf, state.verify_threads)
