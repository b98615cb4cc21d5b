"""Trusted devices: a browser that once passed a result's check is held back by nobody else's guesses.

A lookup from any other browser counts against its client (an address, an IPv6 /64): the
client's window across all results, and ``api.lookup_guard``'s backoff at this result, which
under attack also asks for a proof of work. Both are per client, so strangers elsewhere cannot
hold the applicant back; but behind one NAT (carrier-grade NAT puts thousands of phones behind
one IPv4 address) a stranger's failures are the applicant's address's failures too.

So, after a lookup passes, the browser keeps a long-lived signed cookie (OWASP's "device
cookies"). Each entry names one result by a keyed tag (not the code itself) and a random device
id. A later lookup of that result from that browser counts against the device's own window
instead, and needs no proof of work. The check is still asked every time: the cookie only takes
the browser out of what others' guesses cause, and a stolen cookie buys no more guesses per
window than one address gets.

Entry: ``<result tag>~<device id>~<expiry>~<mac>``; entries joined by ``|``, newest last,
at most ``MAX_ENTRIES`` (about 80 bytes each).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

DEVICE_COOKIE = "sohoa_thiet_bi"
MAX_ENTRIES = 8
_ENTRY = re.compile(r"([0-9a-f]{16})~([0-9a-f]{16})~([0-9]{1,12})~([0-9a-f]{32})")


@dataclass(frozen=True)
class _Entry:
    tag: str
    device: str
    expires: int

    def text(self, secret: bytes) -> str:
        return f"{self.tag}~{self.device}~{self.expires}~{_mac(secret, self.tag, self.device, self.expires)}"


def _tag(secret: bytes, code: str) -> str:
    return hmac.new(secret, f"device-result\n{code}".encode(), hashlib.sha256).hexdigest()[:16]


def _mac(secret: bytes, tag: str, device: str, expires: int) -> str:
    return hmac.new(secret, f"device\n{tag}\n{device}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _entries(secret: bytes, cookie: str | None, now: float) -> list[_Entry]:
    """The cookie's genuine, unexpired entries; anything malformed or forged is dropped."""
    found: list[_Entry] = []
    for text in (cookie or "").split("|")[-MAX_ENTRIES:]:
        match = _ENTRY.fullmatch(text)
        if match is None:
            continue
        entry = _Entry(match[1], match[2], int(match[3]))
        if entry.expires >= now and hmac.compare_digest(match[4], _mac(secret, entry.tag, entry.device, entry.expires)):
            found.append(entry)
    return found


def trusted_device(secret: bytes, cookie: str | None, code: str, *, now: float | None = None) -> str | None:
    """The limiter key of this browser for ``code`` when it passed that result's check before, else None."""
    tag = _tag(secret, code)
    for entry in _entries(secret, cookie, time.time() if now is None else now):
        if entry.tag == tag:
            return f"{entry.tag}:{entry.device}"
    return None


def remember_device(secret: bytes, cookie: str | None, code: str, ttl_s: int, *, now: float | None = None) -> str:
    """The cookie after a pass of ``code``: that result's entry renewed (same device id) or added, newest last."""
    at = time.time() if now is None else now
    tag = _tag(secret, code)
    kept = _entries(secret, cookie, at)
    device = next((e.device for e in kept if e.tag == tag), None) or secrets.token_hex(8)
    entries = [e for e in kept if e.tag != tag] + [_Entry(tag, device, int(at + ttl_s))]
    return "|".join(e.text(secret) for e in entries[-MAX_ENTRIES:])
