"""Rate limits: a token bucket per station, sliding windows of citizen lookup attempts.

In-process by default (one API process, embedded mode); with ``api.rate_limit_redis_url`` the
state lives in Redis so that every API process of a cluster shares it. Both answer the same
question: how many seconds must this caller wait (0: go ahead).

In-process tables are bounded (``MAX_KEYS`` keys each) without ever forgetting a key that still
holds a count: evicting the oldest key, as they once did, let anyone who sends from enough
addresses (an IPv6 /48 holds 65,536 clients) reset a target's count. See ``room_for``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import redis  # imported where a Redis URL is configured

MAX_KEYS = 100_000
# While a table is full of live keys, new keys are counted together under this one (never a client's key).
OVERFLOW = "\x00overflow"


def room_for(table: OrderedDict[str, Any], live: Callable[[Any], bool], max_keys: int) -> bool:
    """Whether a new key fits in ``table``, after dropping expired entries from its front.

    Tables keep their entries in the order they last gained state, so the front holds the stalest
    ones: dropping from there while they are expired is O(1) per key, amortised, and stops at the
    first live entry (a later one may have expired as well; it waits for the front to go). Nothing
    live is ever dropped. When there is no room, the caller counts the new key under ``OVERFLOW``:
    during a flood new clients are limited together (degraded), while every client seen before
    keeps its own count, and memory stays bounded.
    """
    while len(table) >= max_keys:
        front = next(iter(table))
        if front == OVERFLOW and len(table) > 1:  # not a client's: its place in the order does not matter
            table.move_to_end(front)
            front = next(iter(table))
        if live(table[front]):
            return False
        del table[front]
    return True


def table_key(table: OrderedDict[str, Any], key: str, live: Callable[[Any], bool], max_keys: int) -> str:
    """The key to count ``key`` under: its own when known or when there is room, else ``OVERFLOW``."""
    if key in table or room_for(table, live, max_keys):
        return key
    return OVERFLOW


class Bucket(Protocol):
    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is available.

        ``rate`` (tokens per second) and ``burst`` override the bucket's defaults for this key.
        """
        ...


class Window(Protocol):
    def attempt(self, key: str) -> tuple[float, str | None]:
        """Count one attempt for ``key`` unless it is at the limit.

        ``(0.0, slot)`` when counted, ``(seconds to wait, None)`` when not. The check and the
        count are one step: attempts sent all at once cannot each pass a check before any of
        them is counted.
        """
        ...

    def forgive(self, key: str, slot: str) -> None:
        """Take back an attempt that turned out not to count (it succeeded)."""
        ...


class MemoryBucket:
    """Token buckets in this process; a full bucket is no state (it is what a new key gets), so it may go."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ):
        self.rate, self.burst, self.clock, self.max_keys = per_second, float(burst), clock, max_keys
        self._state: OrderedDict[str, tuple[float, float, float, float]] = OrderedDict()  # tokens, at, rate, cap
        self._lock = threading.Lock()

    def _live(self, state: tuple[float, float, float, float]) -> bool:
        tokens, last, rate, cap = state
        return tokens + (self.clock() - last) * rate < cap

    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        rate = rate or self.rate
        cap = float(burst) if burst else self.burst
        now = self.clock()
        with self._lock:
            key = table_key(self._state, key, self._live, self.max_keys)
            tokens, last, _, _ = self._state.pop(key, (cap, now, rate, cap))
            tokens = min(cap, tokens + (now - last) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._state[key] = (tokens, now, rate, cap)
            return wait


class MemoryWindow:
    """Sliding windows in this process; a key whose attempts all slid out of its window holds nothing."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ):
        self.limit, self.window, self.clock, self.max_keys = limit, window_s, clock, max_keys
        self._events: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, events: deque[tuple[float, str]]) -> bool:
        return bool(events) and events[-1][0] > self.clock() - self.window

    def attempt(self, key: str) -> tuple[float, str | None]:
        now = self.clock()
        with self._lock:
            key = table_key(self._events, key, self._live, self.max_keys)
            events = self._events.get(key) or deque()
            while events and events[0][0] <= now - self.window:
                events.popleft()
            slot = None
            if len(events) < self.limit:
                slot = uuid.uuid4().hex
                events.append((now, slot))
                self._events[key] = events
                self._events.move_to_end(key)  # the table's order: when each key last gained an attempt
            elif not events:
                self._events.pop(key, None)
            if slot is None:
                return max(0.001, events[-self.limit][0] + self.window - now), None
            return 0.0, slot

    def forgive(self, key: str, slot: str) -> None:
        with self._lock:
            for name in (key, OVERFLOW):
                events = self._events.get(name)
                if events is not None and any(e[1] == slot for e in events):
                    kept = deque(e for e in events if e[1] != slot)
                    if kept:
                        self._events[name] = kept
                    else:
                        del self._events[name]
                    return


_BUCKET_LUA = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RedisBucket:
    def __init__(self, client: redis.Redis, per_second: float, burst: int, prefix: str):
        self.client, self.rate, self.burst, self.prefix = client, per_second, burst, prefix
        self._script = client.register_script(_BUCKET_LUA)

    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        args = [rate or self.rate, burst or self.burst, time.time()]
        return float(self._script(keys=[self.prefix + key], args=args))


_WINDOW_LUA = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local nth = redis.call('ZREVRANGE', KEYS[1], limit - 1, limit - 1, 'WITHSCORES')
  return tostring(math.max(0.001, tonumber(nth[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return '0'
"""


class RedisWindow:
    def __init__(self, client: redis.Redis, limit: int, window_s: float, prefix: str):
        self.client, self.limit, self.window, self.prefix = client, limit, window_s, prefix
        self._script = client.register_script(_WINDOW_LUA)

    def attempt(self, key: str) -> tuple[float, str | None]:
        slot = uuid.uuid4().hex
        wait = float(self._script(keys=[self.prefix + key], args=[time.time(), self.window, self.limit, slot]))
        return (0.0, slot) if wait == 0 else (wait, None)

    def forgive(self, key: str, slot: str) -> None:
        self.client.zrem(self.prefix + key, slot)


class Limits:
    """The limiters one API process uses.

    A citizen lookup counts against the client's window (failures across all results), or, from
    a trusted device (``api.trusted_devices``), against that device's own window for the result.
    What one client may try at one result, and what happens to a result under attack from many
    clients, is ``api.lookup_guard``'s.
    """

    def __init__(self, station: Bucket, lookup_ip: Window, lookup_device: Window, verify_ip: Bucket):
        self.station = station
        self.lookup_ip = lookup_ip
        self.lookup_device = lookup_device
        self.verify_ip = verify_ip


def make_limits(
    *,
    station_per_minute: float,
    station_burst: int,
    window_s: float,
    per_ip: int,
    per_code: int,
    verify_per_minute: float = 30.0,
    verify_burst: int = 10,
    redis_url: str | None = None,
    redis_prefix: str = "sohoa:rl:",
) -> Limits:
    """The limiters: in this process, or shared in Redis under keys starting with ``redis_prefix``.

    ``per_code``: the failures a trusted device may make at its result per window.
    """
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return Limits(
            RedisBucket(client, station_per_minute / 60, station_burst, f"{redis_prefix}station:"),
            RedisWindow(client, per_ip, window_s, f"{redis_prefix}lookup-ip:"),
            RedisWindow(client, per_code, window_s, f"{redis_prefix}lookup-device:"),
            RedisBucket(client, verify_per_minute / 60, verify_burst, f"{redis_prefix}verify-ip:"),
        )
    return Limits(
        MemoryBucket(station_per_minute / 60, station_burst),
        MemoryWindow(per_ip, window_s),
        MemoryWindow(per_code, window_s),
        MemoryBucket(verify_per_minute / 60, verify_burst),
    )
