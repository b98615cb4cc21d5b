"""Where the citizen lookup's guard keeps its state: in this process, or in Redis for several processes.

Two stores, each with an in-process and a Redis variant answering the same questions:

* ``Failures``, per (client, result): how many lookups failed, when the last one was, and whether
  the next may go now. The check and the count are one step (as ``api.ratelimit``'s windows):
  a lookup is counted as failed when it is let through and taken back if it passes, so that
  guesses sent all at once cannot each pass the check before any of them is counted.
* ``AttackMeter``, per result: failures and distinct failing clients since the result was last
  quiet for ``memory_s``, and the highest difficulty an alert was already raised for.

Entries are forgotten ``memory_s`` after their last failure. In-process tables never drop a live
entry to make room (``api.ratelimit.room_for``): past ``max_keys`` live entries, new keys share
one overflow entry. Redis entries expire on their own (PEXPIRE) and have no such bound.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from api.ratelimit import MAX_KEYS, OVERFLOW, table_key

if TYPE_CHECKING:
    import redis  # imported where a Redis URL is configured


@dataclass(frozen=True)
class BackoffRule:
    """Exponential backoff: ``free`` failures with no wait, then ``base_s``, doubled per failure up to ``max_s``."""

    free: int
    base_s: float
    max_s: float

    def wait(self, failures: int) -> float:
        """The wait after ``failures`` failures before the next attempt may be made."""
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(failures - self.free, 64))


@dataclass(frozen=True)
class Attempt:
    """What ``Failures.attempt`` decided.

    ``wait`` > 0: not let through, try again then. ``stale``: not let through, the caller's
    expected failure count is out of date (a proof of work made for another state). Otherwise
    let through and counted; ``failures`` is the count before this attempt.
    """

    wait: float
    failures: int
    stale: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait == 0 and not self.stale


class Failures(Protocol):
    def attempt(self, key: str, rule: BackoffRule, expect: int | None = None) -> Attempt:
        """Let one attempt through and count it as failed, unless ``rule`` says wait (or ``expect`` is stale)."""
        ...

    def count(self, key: str) -> int:
        """The failures remembered for ``key`` (0 when none)."""
        ...

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures: the lookup passed."""
        ...


class AttackMeter(Protocol):
    def failed(self, code: str, new_client: bool) -> tuple[int, int]:
        """Count a failure at ``code``; ``(failures, distinct clients)`` since it was last quiet."""
        ...

    def read(self, code: str) -> tuple[int, int]:
        """``(failures, distinct clients)`` at ``code`` since it was last quiet; (0, 0) when quiet."""
        ...

    def escalate(self, code: str, bits: int) -> bool:
        """True once per attack and difficulty: when no alert was raised yet at ``bits`` or more."""
        ...


class MemoryFailures:
    def __init__(self, memory_s: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS):
        self.memory_s, self.clock, self.max_keys = memory_s, clock, max_keys
        self._table: OrderedDict[str, tuple[int, float]] = OrderedDict()  # failures, last failure
        self._lock = threading.Lock()

    def _live(self, entry: tuple[int, float]) -> bool:
        return entry[1] + self.memory_s > self.clock()

    def _failures(self, key: str, now: float) -> tuple[int, float]:
        failures, last = self._table.get(key, (0, now))
        return (failures, last) if last + self.memory_s > now else (0, now)

    def attempt(self, key: str, rule: BackoffRule, expect: int | None = None) -> Attempt:
        now = self.clock()
        with self._lock:
            key = table_key(self._table, key, self._live, self.max_keys)
            failures, last = self._failures(key, now)
            if expect is not None and expect != failures:
                return Attempt(0.0, failures, stale=True)
            wait = rule.wait(failures)
            if failures and now < last + wait:
                return Attempt(last + wait - now, failures)
            self._table[key] = (failures + 1, now)
            self._table.move_to_end(key)
            return Attempt(0.0, failures)

    def count(self, key: str) -> int:
        with self._lock:
            return self._failures(_read_key(self._table, key, self.max_keys), self.clock())[0]

    def clear(self, key: str) -> None:
        with self._lock:
            self._table.pop(key, None)


def _read_key(table: OrderedDict[str, Any], key: str, max_keys: int) -> str:
    """The entry a read of ``key`` sees: its own, or the overflow entry that a full table counts it under."""
    if key in table or OVERFLOW not in table or len(table) < max_keys:
        return key
    return OVERFLOW


class MemoryAttackMeter:
    def __init__(self, memory_s: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS):
        self.memory_s, self.clock, self.max_keys = memory_s, clock, max_keys
        self._table: OrderedDict[str, list[float]] = OrderedDict()  # failures, clients, last failure, alerted bits
        self._lock = threading.Lock()

    def _live(self, entry: list[float]) -> bool:
        return entry[2] + self.memory_s > self.clock()

    def _entry(self, code: str, now: float) -> list[float]:
        entry = self._table.get(code)
        return entry if entry is not None and entry[2] + self.memory_s > now else [0, 0, now, 0]

    def failed(self, code: str, new_client: bool) -> tuple[int, int]:
        now = self.clock()
        with self._lock:
            code = table_key(self._table, code, self._live, self.max_keys)
            entry = self._entry(code, now)
            entry[0] += 1
            entry[1] += 1 if new_client else 0
            entry[2] = now
            self._table[code] = entry
            self._table.move_to_end(code)
            return int(entry[0]), int(entry[1])

    def read(self, code: str) -> tuple[int, int]:
        with self._lock:
            entry = self._entry(_read_key(self._table, code, self.max_keys), self.clock())
            return int(entry[0]), int(entry[1])

    def escalate(self, code: str, bits: int) -> bool:
        with self._lock:
            entry = self._table.get(_read_key(self._table, code, self.max_keys))
            if entry is None or entry[3] >= bits:
                return False
            entry[3] = bits
            return True


_FAILURES_LUA = """
local now, memory, expect = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local free, base, maxw = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local state = redis.call('HMGET', KEYS[1], 'n', 'at')
local n, at = tonumber(state[1]) or 0, tonumber(state[2]) or now
if at + memory <= now then n = 0 end
if expect >= 0 and expect ~= n then return {'stale', n} end
local wait = 0
if n >= free then wait = math.min(maxw, base * 2 ^ math.min(n - free, 64)) end
if n > 0 and now < at + wait then return {tostring(at + wait - now), n} end
redis.call('HSET', KEYS[1], 'n', n + 1, 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(memory * 1000))
return {'0', n}
"""


class RedisFailures:
    def __init__(self, client: redis.Redis, memory_s: float, prefix: str):
        self.client, self.memory_s, self.prefix = client, memory_s, prefix
        self._script = client.register_script(_FAILURES_LUA)

    def attempt(self, key: str, rule: BackoffRule, expect: int | None = None) -> Attempt:
        args = [time.time(), self.memory_s, -1 if expect is None else expect, rule.free, rule.base_s, rule.max_s]
        verdict, failures = self._script(keys=[self.prefix + key], args=args)
        verdict = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
        if verdict == "stale":
            return Attempt(0.0, int(failures), stale=True)
        return Attempt(float(verdict), int(failures))

    def count(self, key: str) -> int:
        return int(self.client.hget(self.prefix + key, "n") or 0)

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


_METER_LUA = """
local now, memory, new = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'f', 'c', 'at')
local f, c, at = tonumber(state[1]) or 0, tonumber(state[2]) or 0, tonumber(state[3]) or now
if at + memory <= now then
  f, c = 0, 0
  redis.call('HDEL', KEYS[1], 'alerted')
end
f, c = f + 1, c + new
redis.call('HSET', KEYS[1], 'f', f, 'c', c, 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(memory * 1000))
return {f, c}
"""

_ESCALATE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local alerted = tonumber(redis.call('HGET', KEYS[1], 'alerted')) or 0
if alerted >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'alerted', ARGV[1])
return 1
"""


class RedisAttackMeter:
    def __init__(self, client: redis.Redis, memory_s: float, prefix: str):
        self.client, self.memory_s, self.prefix = client, memory_s, prefix
        self._failed = client.register_script(_METER_LUA)
        self._escalate = client.register_script(_ESCALATE_LUA)

    def failed(self, code: str, new_client: bool) -> tuple[int, int]:
        failures, clients = self._failed(keys=[self.prefix + code], args=[time.time(), self.memory_s, int(new_client)])
        return int(failures), int(clients)

    def read(self, code: str) -> tuple[int, int]:
        failures, clients = self.client.hmget(self.prefix + code, "f", "c")  # the key expires when quiet
        return int(failures or 0), int(clients or 0)

    def escalate(self, code: str, bits: int) -> bool:
        return bool(self._escalate(keys=[self.prefix + code], args=[bits]))
