"""The lookup guard's parts: backoff per client and result, the attack meter, the proof of work; in memory and Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from api import proof_of_work
from api.lookup_guard import LookupGuard, LookupPolicy
from api.lookup_state import BackoffRule, MemoryAttackMeter, MemoryFailures, RedisAttackMeter, RedisFailures
from sohoa.settings import ApiSettings
from testkit.scheduling import FakeClock
from testkit.servers import RATE_LIMIT_REDIS_URL

SECRET = b"s" * 32
CODE = "000.00.12.H26-261121-0101-KQ1"
DAY = 86400.0


def test_the_wait_doubles_after_the_free_failures_up_to_the_longest() -> None:
    rule = BackoffRule(free=3, base_s=30, max_s=3600)
    assert [rule.wait(n) for n in range(9)] == [0, 0, 0, 30, 60, 120, 240, 480, 960]
    assert rule.wait(12) == 3600 and rule.wait(10_000) == 3600


def test_a_client_backs_off_at_one_result_without_holding_up_another() -> None:
    clock = FakeClock()
    failures = MemoryFailures(DAY, clock=clock)
    rule = BackoffRule(free=2, base_s=10, max_s=100)
    assert [failures.attempt("a|X", rule).allowed for _ in range(2)] == [True, True]
    held = failures.attempt("a|X", rule)
    assert not held.allowed and held.wait == pytest.approx(10) and held.failures == 2
    assert failures.attempt("b|X", rule).allowed  # another client at the same result: its own count
    assert failures.attempt("a|Y", rule).allowed  # the same client at another result too
    clock.now += 10
    assert failures.attempt("a|X", rule).allowed
    assert failures.attempt("a|X", rule).wait == pytest.approx(20)  # doubled
    failures.clear("a|X")  # a pass forgets
    assert failures.count("a|X") == 0 and failures.attempt("a|X", rule).allowed
    clock.now += DAY  # and so does a quiet day
    assert failures.count("b|X") == 0


def test_an_expected_count_makes_one_proof_buy_one_guess() -> None:
    failures = MemoryFailures(DAY, clock=FakeClock())
    rule = BackoffRule(free=5, base_s=10, max_s=100)
    assert failures.attempt("a|X", rule, expect=0).allowed
    stale = failures.attempt("a|X", rule, expect=0)  # the same proof again
    assert stale.stale and not stale.allowed
    assert failures.attempt("a|X", rule, expect=1).allowed


def test_the_attack_meter_counts_clients_and_alerts_once_per_difficulty() -> None:
    clock = FakeClock()
    meter = MemoryAttackMeter(DAY, clock=clock)
    assert meter.read(CODE) == (0, 0)
    assert meter.failed(CODE, new_client=True) == (1, 1)
    assert meter.failed(CODE, new_client=False) == (2, 1)
    assert meter.escalate(CODE, 16) and not meter.escalate(CODE, 16) and meter.escalate(CODE, 17)
    clock.now += DAY
    assert meter.read(CODE) == (0, 0)
    assert meter.failed(CODE, new_client=True) == (1, 1) and meter.escalate(CODE, 16)  # a new attack


def test_the_difficulty_grows_with_the_attack() -> None:
    policy = LookupPolicy.from_settings(ApiSettings(lookup_attack_clients=3))
    assert policy.bits(100, 2) == 0  # one or two clients (an applicant on two networks) are no attack
    assert [policy.bits(f, 3) for f in (3, 5, 6, 12, 24, 48, 96, 192, 10**6)] == [16, 16, 17, 18, 19, 20, 21, 22, 22]


def test_a_challenge_binds_code_client_count_and_time() -> None:
    challenge = proof_of_work.issue(SECRET, CODE, "client-a", 2, 8, 300, now=1000)
    solution = proof_of_work.solve(challenge)
    proof = proof_of_work.check(SECRET, challenge, solution, CODE, "client-a", now=1000)
    assert proof == proof_of_work.Proof(failures=2, bits=8)
    assert CODE not in challenge and "client-a" not in challenge
    assert proof_of_work.check(SECRET, challenge, solution, CODE + "2", "client-a", now=1000) is None
    assert proof_of_work.check(SECRET, challenge, solution, CODE, "client-b", now=1000) is None
    assert proof_of_work.check(SECRET, challenge, solution, CODE, "client-a", now=1301) is None  # expired
    assert proof_of_work.check(b"o" * 32, challenge, solution, CODE, "client-a", now=1000) is None
    version, tag, failures, _bits, expires, mac = challenge.split(".")
    easier = f"{version}.{tag}.{failures}.1.{expires}.{mac}"  # fewer bits need a new mac
    assert proof_of_work.check(SECRET, easier, proof_of_work.solve(easier), CODE, "client-a", now=1000) is None
    wrong = next(str(n) for n in range(1000) if proof_of_work.zero_bits(proof_of_work.digest(challenge, str(n))) < 8)
    assert proof_of_work.check(SECRET, challenge, wrong, CODE, "client-a", now=1000) is None
    for junk in ("", "x", "1" * 21, "-1", " 1"):
        assert proof_of_work.check(SECRET, challenge, junk, CODE, "client-a", now=1000) is None


# -- the same questions answered by Redis (several API processes) ------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def guard(request: pytest.FixtureRequest) -> Iterator[Callable[..., LookupGuard]]:
    made: list[str] = []

    def make(**api: object) -> LookupGuard:
        policy = LookupPolicy.from_settings(ApiSettings(**api))  # type: ignore[arg-type]
        if request.param == "memory":
            return LookupGuard(policy, MemoryFailures(policy.memory_s), MemoryAttackMeter(policy.memory_s))
        import redis

        client = redis.Redis.from_url(RATE_LIMIT_REDIS_URL)
        prefix = f"test:{uuid.uuid4().hex[:10]}:"
        made.append(prefix)
        return LookupGuard(
            policy,
            RedisFailures(client, policy.memory_s, prefix + "f:"),
            RedisAttackMeter(client, policy.memory_s, prefix + "a:"),
        )

    yield make
    if made:
        import redis

        client = redis.Redis.from_url(RATE_LIMIT_REDIS_URL)
        for prefix in made:
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)


def test_the_guard_backs_off_counts_clients_and_raises_one_alert(guard: Callable[..., LookupGuard]) -> None:
    g = guard(lookup_free_failures=2, lookup_attack_clients=3, lookup_attack_free_failures=1)
    assert g.required_bits(CODE) == 0
    first = g.attempt("a", CODE, under_attack=False)
    assert first.allowed and first.failures == 0 and g.failed(CODE, first) is None
    second = g.attempt("a", CODE, under_attack=False)
    assert second.allowed and g.failed(CODE, second) is None
    held = g.attempt("a", CODE, under_attack=False)
    assert not held.allowed and 0 < held.wait <= 30  # the first wait (the clock runs: no lower bound)
    assert g.failed(CODE, g.attempt("b", CODE, under_attack=False)) is None
    alert = g.failed(CODE, g.attempt("c", CODE, under_attack=False))  # the third client: under attack
    assert alert is not None and (alert.failures, alert.clients, alert.bits) == (4, 3, 16)
    assert g.required_bits(CODE) == 16
    assert g.failures_of("c", CODE) == 1
    stale = g.attempt("c", CODE, under_attack=True, expect=0)
    assert stale.stale
    assert not g.attempt("c", CODE, under_attack=True, expect=1).allowed  # one free failure under attack: wait
    fresh = g.attempt("d", CODE, under_attack=True, expect=0)
    assert fresh.allowed and g.failed(CODE, fresh) is None  # same difficulty: no second alert
    g.passed("a", CODE)
    assert g.failures_of("a", CODE) == 0
