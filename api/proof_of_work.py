"""Hashcash for the lookup form: a short computation a browser must make before a guess at a result under attack.

The service issues a challenge, HMAC-signed with the portal's secret, that names (by a keyed tag,
not in clear) the result code and the client it was issued to, the client's failure count at that
result when it was issued, the difficulty and an expiry. A solution is a decimal number ``n`` such
that SHA-256(``<challenge>:<n>``) starts with ``bits`` zero bits: about 2^bits hashes to find, one
to check. The browser's script (``/static/lookup-pow-worker.js``) searches in a Web Worker.

A solved challenge buys one evaluated guess, with no store of spent challenges: the guard lets a
guess through only while the client's failure count at that result is still the one the
challenge names (``api.lookup_state.Failures.attempt`` checks it and counts the guess in one
step), and every guess let through changes that count, or passes and clears it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

VERSION = "1"
MAX_BITS = 30
_CHALLENGE = re.compile(r"1\.([0-9a-f]{16})\.([0-9]{1,6})\.([0-9]{1,2})\.([0-9]{1,12})\.([0-9a-f]{32})")
_SOLUTION = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Proof:
    """A checked solution: the failure count its challenge was issued for, and its difficulty."""

    failures: int
    bits: int


def _tag(secret: bytes, code: str, client: str) -> str:
    return hmac.new(secret, f"pow-subject\n{code}\n{client}".encode(), hashlib.sha256).hexdigest()[:16]


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, f"pow\n{body}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(
    secret: bytes, code: str, client: str, failures: int, bits: int, ttl_s: float, *, now: float | None = None
) -> str:
    """A challenge for ``client``'s next guess at ``code`` (it has ``failures`` failures there now)."""
    if not 0 < bits <= MAX_BITS:
        raise ValueError(f"proof-of-work difficulty must be 1..{MAX_BITS} bits, not {bits}")
    expires = int((time.time() if now is None else now) + ttl_s)
    body = f"{VERSION}.{_tag(secret, code, client)}.{min(failures, 999_999)}.{bits}.{expires}"
    return f"{body}.{_mac(secret, body)}"


def zero_bits(digest: bytes) -> int:
    """How many leading bits of ``digest`` are zero."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def digest(challenge: str, solution: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{solution}".encode()).digest()


def check(
    secret: bytes, challenge: str, solution: str, code: str, client: str, *, now: float | None = None
) -> Proof | None:
    """The proof, when ``solution`` solves a genuine, unexpired challenge issued for this code and client."""
    match = _CHALLENGE.fullmatch(challenge or "")
    if match is None or _SOLUTION.fullmatch(solution or "") is None:
        return None
    tag, failures, bits, expires, mac = match.groups()
    body = challenge.rsplit(".", 1)[0]
    if not hmac.compare_digest(mac, _mac(secret, body)) or not hmac.compare_digest(tag, _tag(secret, code, client)):
        return None
    if int(expires) < (time.time() if now is None else now):
        return None
    if zero_bits(digest(challenge, solution)) < int(bits):
        return None
    return Proof(int(failures), int(bits))


def bits_of(challenge: str) -> int:
    """The difficulty a challenge asks for (0 when it is no challenge)."""
    match = _CHALLENGE.fullmatch(challenge or "")
    return int(match[3]) if match else 0


def solve(challenge: str, bits: int | None = None) -> str:
    """Search for a solution, as the browser's worker does (for tests and the benchmark's clients)."""
    need = bits_of(challenge) if bits is None else bits
    prefix = hashlib.sha256(f"{challenge}:".encode())
    limit = 1 << (256 - need)
    n = 0
    while True:
        h = prefix.copy()
        h.update(str(n).encode())
        if int.from_bytes(h.digest(), "big") < limit:
            return str(n)
        n += 1
