"""Contact details an applicant may give at intake to be told of their results: checked and normalised.

Only an e-mail address and a mobile number, both optional; nothing else about the applicant is kept
for notices. Numbers are stored in E.164 (``+84…``); a Vietnamese number is accepted as ``0…``, ``84…``
or ``+84…`` with spaces, dots or dashes between digits.
"""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)
_PHONE_SEPARATORS = re.compile(r"[\s.()-]")
_VN_MOBILE = re.compile(r"^(?:\+?84|0)([35789]\d{8})$")
_OTHER_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_email(value: str) -> str:
    """The address trimmed, its domain lower-cased; ValueError for anything that is not one address."""
    text = value.strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):  # fullmatch: ``$`` would allow a final newline
        raise ValueError("not an e-mail address")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str) -> str:
    """A mobile number in E.164: Vietnamese numbers (``09…``, ``84 9…``, ``+84 9…``) or another ``+…``;
    ValueError for anything else."""
    text = _PHONE_SEPARATORS.sub("", value.strip())
    vn = _VN_MOBILE.fullmatch(text)
    if vn:
        return f"+84{vn.group(1)}"
    if _OTHER_E164.fullmatch(text) and not text.startswith("+84"):
        return text
    raise ValueError("not a mobile phone number")


def mask_email(address: str) -> str:
    """``h***@example.vn``: enough for an officer to recognise it, not to write to it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    """``+84*******678``."""
    return number[:3] + "*" * max(len(number) - 6, 0) + number[-3:] if len(number) > 6 else "***"


def redact(text: str, secret: str, masked: str) -> str:
    """``text`` with every occurrence of ``secret`` (any case: SMTP servers echo addresses as they like)
    replaced by ``masked``."""
    if not secret:
        return text
    return re.sub(re.escape(secret), lambda _match: masked, text, flags=re.IGNORECASE)


def unaccented(text: str) -> str:
    """Vietnamese text without its diacritics (đ → d), case and punctuation kept: an SMS in the GSM 7-bit
    alphabet holds 160 characters, one with any Vietnamese letter is sent as UCS-2 and holds 70."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
