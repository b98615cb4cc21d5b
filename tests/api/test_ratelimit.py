"""Token bucket and sliding window, in-process and on a real Redis server (shared by API processes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import proof_of_work
from api.lookup_state import BackoffRule, MemoryAttackMeter, MemoryFailures
from api.ratelimit import MAX_KEYS, MemoryBucket, MemoryWindow, RedisBucket, RedisWindow
from api.trusted_devices import DEVICE_COOKIE
from storage.catalogue.clients import StationLimits, set_limits
from storage.catalogue.models import ClientRole
from testkit.batches import make_zip, manifest
from testkit.scheduling import FakeClock
from testkit.servers import RATE_LIMIT_REDIS_URL
from tests.api.conftest import APPLICANT_ID, Api, issue_signed_result, push_dossier


def test_memory_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = MemoryBucket(per_second=20, burst=2, clock=clock)
    assert [bucket.take("s1") for _ in range(2)] == [0.0, 0.0]
    wait = bucket.take("s1")
    assert wait == pytest.approx(0.05)
    assert bucket.take("s2") == 0.0  # stations do not share a bucket
    clock.now += 0.04
    assert bucket.take("s1") > 0  # not refilled yet
    clock.now += 0.06
    assert bucket.take("s1") == 0.0


def test_memory_window_counts_attempts_slides_and_forgives() -> None:
    clock = FakeClock()
    window = MemoryWindow(limit=2, window_s=0.2, clock=clock)
    wait, first = window.attempt("k")
    assert wait == 0.0 and first is not None
    clock.now += 0.05
    wait, second = window.attempt("k")
    assert wait == 0.0 and second is not None
    clock.now += 0.05
    wait, refused = window.attempt("k")
    assert refused is None and wait == pytest.approx(0.1)  # a refused attempt is not counted
    window.forgive("k", first)
    wait, third = window.attempt("k")
    assert wait == 0.0 and third is not None  # room again once one was taken back, within the window
    assert window.attempt("k")[1] is None
    assert window.attempt("other")[1] is not None
    clock.now += 0.21
    assert [window.attempt("k")[0] for _ in range(2)] == [0.0, 0.0]  # the window slid past the old ones


# -- a flood of fresh keys (one per address of an IPv6 /47) must not reset anyone's count ----------------------------


def test_a_flood_of_keys_does_not_reset_a_window() -> None:
    clock = FakeClock()
    window = MemoryWindow(limit=2, window_s=60, clock=clock)
    assert [window.attempt("target")[1] is not None for _ in range(3)] == [True, True, False]
    clock.now += 1
    for n in range(MAX_KEYS + 1):
        window.attempt(f"flood-{n}")
    assert window.attempt("target")[1] is None  # still at its limit: it was never evicted
    # The flood's last keys found no room: they share one overflow count (degraded, bounded).
    assert window.attempt("another-new-key")[1] is None
    clock.now += 61  # once the flood's attempts have slid out of the window, they make room again
    assert window.attempt("another-new-key")[1] is not None
    assert window.attempt("target")[1] is not None


def test_a_flood_of_keys_does_not_refill_a_bucket() -> None:
    clock = FakeClock()
    bucket = MemoryBucket(per_second=1 / 60, burst=2, clock=clock)
    assert [bucket.take("target") for _ in range(2)] == [0.0, 0.0]
    for n in range(MAX_KEYS + 1):
        bucket.take(f"flood-{n}")
    assert bucket.take("target") > 0  # not a fresh, full bucket
    clock.now += 2 * 60 * 2  # full again: no state left to keep, room for new keys
    assert bucket.take("new-station") == 0.0


def test_a_flood_of_keys_does_not_reset_a_lookup_backoff_or_attack_state() -> None:
    clock = FakeClock()
    failures, meter = MemoryFailures(86400, clock=clock), MemoryAttackMeter(86400, clock=clock)
    rule = BackoffRule(free=1, base_s=3600, max_s=86400)
    assert failures.attempt("guesser|KQ1", rule).allowed
    meter.failed("KQ1", new_client=True)
    for n in range(MAX_KEYS + 1):
        failures.attempt(f"flood-{n}|KQ1", rule)
        meter.failed(f"KQ-flood-{n}", new_client=True)
    assert failures.attempt("guesser|KQ1", rule).wait > 3500  # its backoff survived
    assert failures.count("guesser|KQ1") == 1 and meter.read("KQ1") == (1, 1)


@pytest.mark.integration
def test_redis_limits_are_shared_between_instances() -> None:
    import redis

    client = redis.Redis.from_url(RATE_LIMIT_REDIS_URL)
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


# -- the limiters as the app wires them: in-process, and on Redis through api.rate_limit_redis_url --------------

CODE = "000.00.12.H26-261121-03"  # + two digits


@dataclass
class Limited:
    """``make`` builds an app (``make_api``'s arguments) whose rate limits live in this backend."""

    backend: str
    make: Callable[..., Api]
    stored_keys: Callable[[], list[str]]  # this test's keys in Redis, its prefix cut off (none in memory)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def limited(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Iterator[Limited]:
    if request.param == "memory":

        def make_memory(**api: Any) -> Api:
            made = make_api(**api)
            limits = made.client.app.state.limits  # type: ignore[attr-defined]
            assert isinstance(limits.station, MemoryBucket) and isinstance(limits.lookup_ip, MemoryWindow)
            return made

        yield Limited("memory", make_memory, list)
        return

    import redis

    client = redis.Redis.from_url(RATE_LIMIT_REDIS_URL)
    own = f"test:{uuid.uuid4().hex[:12]}:"
    wanted = client.connection_pool.connection_kwargs

    def make_redis(**api: Any) -> Api:
        # Keys (station ids, result codes) repeat from run to run: a prefix of its own keeps runs side by side apart.
        made = make_api(rate_limit_redis_url=RATE_LIMIT_REDIS_URL, rate_limit_prefix=own, **api)
        limits = made.client.app.state.limits  # type: ignore[attr-defined]
        for limiter in (limits.station, limits.lookup_ip, limits.lookup_device, limits.verify_ip):
            assert isinstance(limiter, RedisBucket | RedisWindow) and limiter.prefix.startswith(own)
            kwargs = limiter.client.connection_pool.connection_kwargs
            assert (kwargs["host"], kwargs["port"], kwargs["db"]) == (wanted["host"], wanted["port"], wanted["db"])
        return made

    def stored_keys() -> list[str]:
        """This test's keys, without its prefix."""
        return sorted(key.decode().removeprefix(own) for key in client.scan_iter(match=own + "*"))

    yield Limited("redis", make_redis, stored_keys)
    keys = list(client.scan_iter(match=own + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def lookup(api: Api, code: str, tail: str, birth: str, **proof: str) -> int:
    form = {"ma_ket_qua": code, "so_dinh_danh": tail, "ngay_sinh": birth} | proof
    return api.client.post("/tra-cuu", data=form, follow_redirects=False).status_code


def test_guesses_sent_all_at_once_get_exactly_the_free_failures(limited: Limited) -> None:
    api = limited.make(lookup_free_failures=3, lookup_max_failures_per_ip=1000)
    push_dossier(api, CODE + "01")
    code = issue_signed_result(api, CODE + "01")
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: lookup(api, code, f"{n:06d}", "15/03/1990"), range(40)))
    assert statuses.count(403) == 3 and statuses.count(429) == 37  # checked: exactly the free ones, however sent
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 429  # this client waits now, even when right
    if limited.backend == "redis":  # the attempts were counted in Redis, not in the process
        assert any(key.startswith("lookup-failures:") for key in limited.stored_keys())


def test_one_proof_of_work_buys_one_guess_however_sent(limited: Limited) -> None:
    api = limited.make(lookup_attack_clients=2, lookup_attack_free_failures=10, lookup_pow_min_bits=4)
    push_dossier(api, CODE + "03")
    code = issue_signed_result(api, CODE + "03")
    app = api.client.app
    for host in ("198.51.100.1", "198.51.100.2"):  # two clients failed: under attack
        TestClient(app, client=(host, 5000)).post("/tra-cuu", data={"ma_ket_qua": code, "so_dinh_danh": "0"})
    challenge = api.client.get("/tra-cuu/thu-thach", params={"ma": code}).json()["challenge"]
    proof = {"pow_challenge": challenge, "pow_nonce": proof_of_work.solve(challenge)}
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: lookup(api, code, f"{n:06d}", "15/03/1990", **proof), range(20)))
    assert statuses.count(403) == 1 and statuses.count(429) == 19  # the others were refused as spent
    if limited.backend == "redis":
        assert any(key.startswith("lookup-attack:") for key in limited.stored_keys())


def test_guesses_by_others_do_not_lock_out_a_browser_that_passed_before(limited: Limited) -> None:
    """Guesses from the applicant's own address (one NAT) hold that address back; the applicant's browser is not."""
    api = limited.make(lookup_free_failures=3, lookup_max_failures_per_code=3, lookup_max_failures_per_ip=1000)
    push_dossier(api, CODE + "02")
    code = issue_signed_result(api, CODE + "02")
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 303
    device = api.client.cookies[DEVICE_COOKIE]
    api.client.cookies.clear()  # someone else behind the same address, who knows the code
    assert [lookup(api, code, f"{n:06d}", "15/03/1990") for n in range(4)] == [403, 403, 403, 429]
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 429  # a browser never trusted there waits
    elsewhere = TestClient(api.client.app, client=("203.0.113.9", 5000))  # from any other address: no wait at all
    assert (
        elsewhere.post(
            "/tra-cuu", data={"ma_ket_qua": code, "so_dinh_danh": APPLICANT_ID[-6:], "ngay_sinh": "15/03/1990"}
        )
        .history[0]
        .status_code
        == 303
    )
    api.client.cookies.set(DEVICE_COOKIE, device[:-1] + ("0" if device[-1] != "0" else "1"))
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 429  # a forged cookie is no trust
    api.client.cookies.set(DEVICE_COOKIE, device)
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 303  # the applicant's browser gets in
    # The trusted browser has a window of its own: guessing from it is limited as from anywhere.
    assert [lookup(api, code, f"{n:06d}", "15/03/1990") for n in range(10, 14)] == [403, 403, 403, 429]
    assert lookup(api, code, APPLICANT_ID[-6:], "15/03/1990") == 429
    if limited.backend == "redis":
        assert any(key.startswith("lookup-device:") for key in limited.stored_keys())


def push(api: Api, headers: dict[str, str], n: int) -> httpx.Response:
    body = make_zip(manifest([{"id": "c1", "files": ["a.jpg"]}], code=f"{CODE}{n:02d}"), {"a.jpg": b"\xff\xd8"})
    return api.client.post("/api/v1/batches", content=body, headers=headers | {"Content-Type": "application/zip"})


def test_a_station_with_its_own_rate_and_burst(limited: Limited) -> None:
    api = limited.make(station_burst=3, station_batches_per_minute=6)  # service-wide: 3 at once, then one per 10 s
    slow = api.key("Trạm chậm", ClientRole.STATION)
    assert set_limits(
        api.services.catalogue, slow["Authorization"].split("_")[1], StationLimits(batches_per_minute=1, batch_burst=1)
    )
    # The station with its own limits: one push at once, then one a minute.
    assert push(api, slow, 10).status_code == 202
    refused = push(api, slow, 11)
    assert refused.status_code == 429 and refused.json()["detail"]["code"] == "RATE_LIMITED"
    assert 50 <= int(refused.headers["retry-after"]) <= 60
    # Every other station keeps the service-wide limits, in buckets of its own.
    assert [push(api, api.station, n).status_code for n in range(20, 24)] == [202, 202, 202, 429]
    assert 1 <= int(push(api, api.station, 24).headers["retry-after"]) <= 10
    other = api.key("Trạm 2", ClientRole.STATION)
    assert push(api, other, 30).status_code == 202
    if limited.backend == "redis":
        assert sum(key.startswith("station:") for key in limited.stored_keys()) == 3
