"""The check only an applicant can pass, and the short-lived download grant it earns.

Check: the result code, the last 6 digits of the applicant's số định danh and their date of
birth (when the station recorded it). The comparison runs in constant time over one string
and costs the same whether or not the code exists, so a failed lookup says nothing about
which part was wrong. A pass sets an HMAC-signed grant ``<code>|<expiry>|<mac>`` in an
HttpOnly cookie scoped to the portal; the download route accepts it for that code only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from starlette.requests import Request

from api.errors import ResultCodeInvalid

ID_TAIL_DIGITS = 6
GRANT_COOKIE = "sohoa_kq"
_DUMMY = "\x00" * 32
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
_GRANT = re.compile(r"([^|]*)\|([0-9]{1,12})\|([0-9a-f]{64})")
# Per-client limits count an IPv6 client by its /64, not its address: a /64 is the smallest
# network an end site gets (SLAAC needs a whole /64 per link), so one phone, household or cloud
# VM can send from 2^64 addresses at will, and privacy addresses rotate on their own. Keyed by
# the full address, every guess could come with a fresh limit. A shorter prefix would start to
# lump unrelated customers of one provider together; sites delegated a /56 or /48 still get
# 2^8 to 2^16 keys, which the per-code limits bound as well.
IPV6_CLIENT_PREFIX = 64


@dataclass(frozen=True)
class Applicant:
    id_number: str
    birth_date: date | None


def normalise_code(code: str) -> str:
    """The code as stored (trimmed, upper case, at most 80 characters); ``ResultCodeInvalid`` for control characters.

    Codes reach log lines, audit entries and headers: a line break or another control or format
    character (category C*, line and paragraph separators) in one could forge a log line, so such
    a code is refused rather than cleaned (white space around it is still trimmed).
    """
    code = code.strip().upper()[:80]
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in code):
        raise ResultCodeInvalid(repr(code)[:100])
    return code


def parse_birth_date(text: str) -> date | None:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _expected(applicant: Applicant | None) -> str:
    if applicant is None:
        return _DUMMY
    born = applicant.birth_date.isoformat() if applicant.birth_date else "-"
    return f"{applicant.id_number[-ID_TAIL_DIGITS:]}|{born}"


def passes(applicant: Applicant | None, id_tail: str, birth_text: str) -> bool:
    """True only for the applicant's own digits and birth date; constant time, no early exit."""
    tail = re.sub(r"\D", "", id_tail)[-ID_TAIL_DIGITS:]
    birth = parse_birth_date(birth_text)
    born = birth.isoformat() if birth else "?"
    if applicant is not None and applicant.birth_date is None:
        born = "-"  # not recorded: the six digits alone, behind the same rate limits
    given = f"{tail}|{born}"
    same = hmac.compare_digest(given.encode(), _expected(applicant).encode())
    return same and applicant is not None and len(tail) == ID_TAIL_DIGITS


def _mac(secret: bytes, code: str, expires: int) -> str:
    return hmac.new(secret, f"grant\n{code}\n{expires}".encode(), hashlib.sha256).hexdigest()


def make_grant(secret: bytes, code: str, ttl_s: int, *, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{code}|{expires}|{_mac(secret, code, expires)}"


def grant_allows(secret: bytes, token: str | None, code: str, *, now: float | None = None) -> bool:
    """True for an unexpired grant of ``code`` signed with ``secret``; any malformed token is no grant."""
    match = _GRANT.fullmatch(token) if token else None
    if match is None:
        return False
    granted_code, expires, mac = match[1], int(match[2]), match[3]
    if not hmac.compare_digest(mac, _mac(secret, granted_code, expires)):
        return False
    return granted_code == code and expires >= (time.time() if now is None else now)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's IP address, an IPv4-mapped IPv6 one as IPv4 (what a dual-stack socket reports); None if none."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_key(host: str) -> str:
    """The client a per-client limit counts: the address an IPv4 client sends from, an IPv6 client's /64.

    An IPv4-mapped IPv6 address (``::ffff:1.2.3.4``) counts as its IPv4 address; any other IPv6
    address as its ``IPV6_CLIENT_PREFIX`` network (``2001:db8:1:2::/64``). A host that is no IP
    address (a test client's name, a unix socket path, ``-``) is its own key, as given.
    """
    address = _address(host)
    if address is None:
        return host
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    return str(ipaddress.IPv6Network((int(address), IPV6_CLIENT_PREFIX), strict=False))


def is_loopback(host: str) -> bool:
    """Whether a client address is this machine's own (``::ffff:127.0.0.1`` included)."""
    address = _address(host)
    return address is not None and address.is_loopback


def client_tag(secret: bytes, host: str) -> str:
    """A keyed, truncated hash of the client's ``client_key``: lets logs correlate attempts without storing it.

    Rate limits, log lines, lookup audit entries (``detail.client``) and the public reads of the
    warehouse (actor ``public:<tag>``) all carry this tag. For IPv4 it stands for one address, as
    it always has; for IPv6 it stands for the client's /64, so all addresses of one /64 share a
    tag, and an IPv4-mapped address shares its IPv4 address's. Tags recorded before this for an
    IPv6 client (mapped ones included) therefore differ from today's for the same address.
    """
    return hmac.new(secret, f"client\n{client_key(host)}".encode(), hashlib.sha256).hexdigest()[:12]


def client_of(request: Request) -> str:
    """The tag of the client behind a request (``client_tag`` with the portal's secret); per-client limits key on it."""
    return client_tag(request.app.state.portal_secret, request.client.host if request.client else "-")
