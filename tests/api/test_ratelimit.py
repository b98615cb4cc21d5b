"""Token bucket and sliding window, in-process and on a real Redis server (shared by API processes)."""

from __future__ import annotations

import time
import uuid

import pytest

from api.ratelimit import MemoryBucket, MemoryWindow, RedisBucket, RedisWindow


def test_memory_bucket_refills_at_its_rate() -> None:
    bucket = MemoryBucket(per_second=20, burst=2)
    assert [bucket.take("s1") for _ in range(2)] == [0.0, 0.0]
    wait = bucket.take("s1")
    assert 0 < wait <= 0.05
    assert bucket.take("s2") == 0.0  # stations do not share a bucket
    time.sleep(wait + 0.01)
    assert bucket.take("s1") == 0.0


def test_memory_window_counts_attempts_slides_and_forgives() -> None:
    window = MemoryWindow(limit=2, window_s=0.2)
    wait, first = window.attempt("k")
    assert wait == 0.0 and first is not None
    wait, second = window.attempt("k")
    assert wait == 0.0 and second is not None
    wait, refused = window.attempt("k")
    assert refused is None and 0 < wait <= 0.2  # a refused attempt is not counted
    window.forgive("k", first)
    assert window.attempt("k")[1] is not None  # room again once one was taken back
    assert window.attempt("other")[1] is not None
    time.sleep(0.21)
    assert [window.attempt("k")[0] for _ in range(2)] == [0.0, 0.0]  # the window slid past the old ones


@pytest.mark.integration
def test_redis_limits_are_shared_between_instances() -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    first, second = RedisBucket(client, 1.0, 2, prefix), RedisBucket(client, 1.0, 2, prefix)
    assert first.take("s") == 0.0 and second.take("s") == 0.0
    assert 0 < first.take("s") <= 1.0
    w1, w2 = RedisWindow(client, 2, 60, prefix + "w:"), RedisWindow(client, 2, 60, prefix + "w:")
    _, slot = w1.attempt("code")
    assert slot is not None and w2.attempt("code")[1] is not None
    wait, refused = w1.attempt("code")
    assert refused is None and 59 < wait <= 60
    w2.forgive("code", slot)
    assert w1.attempt("code")[1] is not None
    client.delete(*client.keys(prefix + "*"))
