"""Rate limits: a token bucket per station, sliding windows of failed citizen lookups.

In-process by default (one API process, embedded mode); with ``api.rate_limit_redis_url`` the
state lives in Redis so that every API process of a cluster shares it. Both answer the same
question: how many seconds must this caller wait (0: go ahead).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from typing import Protocol

MAX_KEYS = 100_000


class Bucket(Protocol):
    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is available.

        ``rate`` (tokens per second) and ``burst`` override the bucket's defaults for this key.
        """
        ...


class Window(Protocol):
    def blocked(self, key: str) -> float:
        """Seconds until ``key`` falls below the limit again; 0.0 when it is below."""
        ...

    def hit(self, key: str) -> None:
        """Record one event (a failed lookup) for ``key``."""
        ...


class MemoryBucket:
    def __init__(self, per_second: float, burst: int):
        self.rate, self.burst = per_second, float(burst)
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        rate = rate or self.rate
        cap = float(burst) if burst else self.burst
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.pop(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._state[key] = (tokens, now)
            while len(self._state) > MAX_KEYS:
                self._state.popitem(last=False)
            return wait


class MemoryWindow:
    def __init__(self, limit: int, window_s: float):
        self.limit, self.window = limit, window_s
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if events:
            self._events[key] = events
        return events

    def blocked(self, key: str) -> float:
        now = time.monotonic()
        with self._lock:
            events = self._prune(key, now)
            if len(events) < self.limit:
                return 0.0
            return max(0.001, events[-self.limit] + self.window - now)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            events = self._prune(key, now)
            events.append(now)
            self._events[key] = events
            while len(self._events) > MAX_KEYS:
                self._events.popitem(last=False)


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
    def __init__(self, client, per_second: float, burst: int, prefix: str):  # type: ignore[no-untyped-def]
        self.client, self.rate, self.burst, self.prefix = client, per_second, burst, prefix
        self._script = client.register_script(_BUCKET_LUA)

    def take(self, key: str, rate: float | None = None, burst: int | None = None) -> float:
        args = [rate or self.rate, burst or self.burst, time.time()]
        return float(self._script(keys=[self.prefix + key], args=args))


class RedisWindow:
    def __init__(self, client, limit: int, window_s: float, prefix: str):  # type: ignore[no-untyped-def]
        self.client, self.limit, self.window, self.prefix = client, limit, window_s, prefix

    def blocked(self, key: str) -> float:
        now, name = time.time(), self.prefix + key
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(name, 0, now - self.window)
        pipe.zrevrange(name, self.limit - 1, self.limit - 1, withscores=True)
        _, nth = pipe.execute()
        if not nth:
            return 0.0
        return max(0.001, float(nth[0][1]) + self.window - now)

    def hit(self, key: str) -> None:
        now, name = time.time(), self.prefix + key
        pipe = self.client.pipeline()
        pipe.zadd(name, {f"{now}:{uuid.uuid4().hex[:8]}": now})
        pipe.zremrangebyscore(name, 0, now - self.window)
        pipe.expire(name, int(self.window) + 1)
        pipe.execute()


class Limits:
    """The limiters one API process uses."""

    def __init__(self, station: Bucket, lookup_ip: Window, lookup_code: Window, verify_ip: Bucket):
        self.station = station
        self.lookup_ip = lookup_ip
        self.lookup_code = lookup_code
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
) -> Limits:
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return Limits(
            RedisBucket(client, station_per_minute / 60, station_burst, "sohoa:rl:station:"),
            RedisWindow(client, per_ip, window_s, "sohoa:rl:lookup-ip:"),
            RedisWindow(client, per_code, window_s, "sohoa:rl:lookup-code:"),
            RedisBucket(client, verify_per_minute / 60, verify_burst, "sohoa:rl:verify-ip:"),
        )
    return Limits(
        MemoryBucket(station_per_minute / 60, station_burst),
        MemoryWindow(per_ip, window_s),
        MemoryWindow(per_code, window_s),
        MemoryBucket(verify_per_minute / 60, verify_burst),
    )
