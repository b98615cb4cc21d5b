"""Just enough DER encoding to assemble CMS structures from cached, pre-encoded parts.

asn1crypto builds and dumps a SignedData in about a millisecond of pure Python; the batch signer
instead keeps every constant part as bytes and only wraps the few that change per document.
"""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import core

SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04
INTEGER = 0x02


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def seq(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """DER SET OF: elements sorted by their encodings."""
    return tlv(SET, b"".join(sorted(parts)))


def octets(data: bytes) -> bytes:
    return tlv(OCTET_STRING, data)


def integer(value: int) -> bytes:
    return core.Integer(value).dump()


def oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def generalized_time(when: datetime) -> bytes:
    """GeneralizedTime in UTC to the second (RFC 5280 / RFC 3161 profile)."""
    text = when.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode("ascii")
    return tlv(0x18, text)


def attribute(type_oid: bytes, *values: bytes) -> bytes:
    """CMS Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }."""
    return seq(type_oid, set_of(*values))


def read_header(data: bytes | memoryview, offset: int = 0) -> tuple[int, int, int]:
    """(tag, header length, content length) of the element at ``offset``."""
    tag = data[offset]
    first = data[offset + 1]
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    length = int.from_bytes(bytes(data[offset + 2 : offset + 2 + count]), "big")
    return tag, 2 + count, length
