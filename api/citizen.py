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
import re
import time
from dataclasses import dataclass
from datetime import date, datetime

from starlette.requests import Request

ID_TAIL_DIGITS = 6
GRANT_COOKIE = "sohoa_kq"
_DUMMY = "\x00" * 32
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
_GRANT = re.compile(r"([^|]*)\|([0-9]{1,12})\|([0-9a-f]{64})")


@dataclass(frozen=True)
class Applicant:
    id_number: str
    birth_date: date | None


def normalise_code(code: str) -> str:
    return code.strip().upper()[:80]


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


def client_tag(secret: bytes, host: str) -> str:
    """A keyed, truncated hash of the client address: lets logs correlate attempts without storing it."""
    return hmac.new(secret, f"client\n{host}".encode(), hashlib.sha256).hexdigest()[:12]


def client_of(request: Request) -> str:
    """The tag of the client behind a request (``client_tag`` with the portal's secret)."""
    return client_tag(request.app.state.portal_secret, request.client.host if request.client else "-")
