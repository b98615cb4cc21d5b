"""The citizen lookup's guard: guesses at a result are slowed per client, never locked for everyone.

Result codes are printed on paper and follow a pattern, so anyone may know one. A shared limit
per result (five failures in fifteen minutes, for every browser that had not passed before) was
a lock anyone could keep shut on the applicant. Here nothing one client does at a result makes
another client wait:

* **Per client and result**, failures are counted with exponential backoff: the first few are
  free, then each doubles the wait before the next guess (``BackoffRule``). A client is what
  ``api.citizen.client_key`` says: an IPv4 address, an IPv6 /64. A failure is forgotten a day
  (``memory_s``) after the last one, so a client that keeps guessing at the longest wait gets
  about one guess per wait.
* **A result under attack** (failures from ``attack_clients`` or more clients since it was last
  quiet for ``memory_s``) switches to a stricter rule (fewer free failures, far longer waits)
  and asks every browser, except a trusted device (``api.trusted_devices``), for a proof of work
  (``api.proof_of_work``) with each guess. Its difficulty grows by one bit per doubling of the
  failures, from ``pow_min_bits`` up to ``pow_max_bits``: a few seconds for the applicant's
  phone, once; for an attacker a cost per guess on top of the per-client waits, so guesses per
  day are bounded by the attacker's addresses (the waits) and by its CPU (the proofs), whichever
  binds first. Native code hashes a few times faster than a page's script, a GPU thousands of
  times: the proof prices a botnet's guesses, the per-client waits are what bounds them
  (``bench.api.lookup_attack`` measures both). Entering the state, and each rise of the
  difficulty, raises an alert: an audit entry, a warning in the log and
  ``sohoa_lookup_attack_alerts_total``.

What is left to an attacker who shares the applicant's address (one NAT, one carrier-grade NAT)
is the backoff of that address at that result: the applicant then gets in from a browser that
passed before, from another network, or after the wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from api.lookup_state import (
    AttackMeter,
    Attempt,
    BackoffRule,
    Failures,
    MemoryAttackMeter,
    MemoryFailures,
    RedisAttackMeter,
    RedisFailures,
)
from sohoa.settings import ApiSettings


@dataclass(frozen=True)
class LookupPolicy:
    """The guard's numbers (``api.lookup_…`` settings, where each is explained)."""

    calm: BackoffRule
    attack: BackoffRule
    memory_s: float
    attack_clients: int
    pow_min_bits: int
    pow_max_bits: int
    pow_ttl_s: float

    @classmethod
    def from_settings(cls, api: ApiSettings) -> LookupPolicy:
        return cls(
            calm=BackoffRule(api.lookup_free_failures, api.lookup_backoff_base_s, api.lookup_backoff_max_s),
            attack=BackoffRule(
                api.lookup_attack_free_failures, api.lookup_attack_backoff_base_s, api.lookup_attack_backoff_max_s
            ),
            memory_s=api.lookup_failure_memory_s,
            attack_clients=api.lookup_attack_clients,
            pow_min_bits=api.lookup_pow_min_bits,
            pow_max_bits=api.lookup_pow_max_bits,
            pow_ttl_s=api.lookup_pow_ttl_s,
        )

    def bits(self, failures: int, clients: int) -> int:
        """The proof-of-work difficulty at a result with these failures and clients; 0: not under attack."""
        if clients < self.attack_clients:
            return 0
        doublings = int(math.log2(max(1, failures // self.attack_clients)))
        return min(self.pow_max_bits, self.pow_min_bits + doublings)


@dataclass(frozen=True)
class Alert:
    """A result entered the attack state, or its difficulty rose: what to tell the operators."""

    code: str
    failures: int
    clients: int
    bits: int


def _key(client: str, code: str) -> str:
    return f"{client}|{code}"


class LookupGuard:
    def __init__(self, policy: LookupPolicy, failures: Failures, meter: AttackMeter):
        self.policy, self.failures, self.meter = policy, failures, meter

    def required_bits(self, code: str) -> int:
        """The proof of work a guess at ``code`` needs now (0: none, the result is not under attack)."""
        return self.policy.bits(*self.meter.read(code))

    def failures_of(self, client: str, code: str) -> int:
        """The failures ``client`` has at ``code`` (what a proof-of-work challenge is bound to)."""
        return self.failures.count(_key(client, code))

    def attempt(self, client: str, code: str, *, under_attack: bool, expect: int | None = None) -> Attempt:
        """Let ``client``'s guess at ``code`` through and count it as failed, unless it must wait.

        ``expect``: the failure count a proof of work was made for; any other count refuses the
        guess as stale, so one proof buys one guess.
        """
        rule = self.policy.attack if under_attack else self.policy.calm
        return self.failures.attempt(_key(client, code), rule, expect)

    def passed(self, client: str, code: str) -> None:
        """The guess passed: the client's failures at ``code`` are forgotten (it proved it knows)."""
        self.failures.clear(_key(client, code))

    def failed(self, code: str, attempt: Attempt) -> Alert | None:
        """Count a failed guess at ``code``; an ``Alert`` when it put the result under attack or raised the bar."""
        failures, clients = self.meter.failed(code, new_client=attempt.failures == 0)
        bits = self.policy.bits(failures, clients)
        if bits and self.meter.escalate(code, bits):
            return Alert(code, failures, clients, bits)
        return None


def make_lookup_guard(
    policy: LookupPolicy, redis_url: str | None = None, redis_prefix: str = "sohoa:rl:"
) -> LookupGuard:
    """The guard with its state in this process, or in Redis (shared by API processes) under ``redis_prefix``."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return LookupGuard(
            policy,
            RedisFailures(client, policy.memory_s, f"{redis_prefix}lookup-failures:"),
            RedisAttackMeter(client, policy.memory_s, f"{redis_prefix}lookup-attack:"),
        )
    return LookupGuard(policy, MemoryFailures(policy.memory_s), MemoryAttackMeter(policy.memory_s))
