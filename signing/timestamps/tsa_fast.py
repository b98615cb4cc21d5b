"""RFC 3161 time-stamp tokens built in process from cached DER parts, and readers of tokens.

A token is a SignedData over TSTInfo (RFC 3161 §2.4.2) with ESS signing-certificate-v2
(RFC 5816). Building it costs one raw signature plus a few hundred bytes of concatenation.
``FastTsa`` is a :class:`signing.timestamps.TimestampSource` (the development TSA's engine).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509

from signing.cms.cmsbuild import ID_CT_TSTINFO, CmsTemplate
from signing.cms.der import generalized_time, integer, octets, oid, seq, tlv
from signing.keys.keys import SigningKey
from signing.keys.rawsign import raw_signer

# A UUID-derived OID (ITU-T X.667, arc 2.25): no registration needed, obviously not a real policy.
DEV_TSA_POLICY = "2.25.262563168406443127455118460919389066870"
_GRANTED = seq(integer(0))


def message_imprint(digest: bytes, md_algorithm: str) -> bytes:
    return seq(algos.DigestAlgorithm({"algorithm": md_algorithm}).dump(), octets(digest))


class FastTsa:
    """An in-process TSA: DER TimeStampReq in, DER TimeStampResp (or token) out."""

    def __init__(self, tsa_key: SigningKey, *, policy: str = DEV_TSA_POLICY, digest: str = "sha256"):
        self.key = tsa_key
        self.policy = policy
        self.template = CmsTemplate(raw_signer(tsa_key, digest), content_type=ID_CT_TSTINFO)
        self._policy = oid(policy)
        self._accuracy = seq(integer(1))
        self._tsa_name = tlv(0xA0, tlv(0xA4, tsa_key.cert.subject.dump()))

    def token_der(self, imprint_der: bytes, nonce_der: bytes | None = None, now: datetime | None = None) -> bytes:
        when = (now or datetime.now(UTC)).replace(microsecond=0)
        parts = [
            integer(1),
            self._policy,
            imprint_der,
            integer(secrets.randbits(63) | 1),
            generalized_time(when),
            self._accuracy,
        ]
        if nonce_der is not None:
            parts.append(nonce_der)
        parts.append(self._tsa_name)
        tst_info = seq(*parts)
        der, _ = self.template.build(hashlib.new(self.template.digest, tst_info).digest(), econtent=tst_info)
        return der

    def timestamp(self, digest: bytes, md_algorithm: str) -> bytes:
        return self.token_der(message_imprint(digest, md_algorithm))

    def response_der(self, token_der: bytes) -> bytes:
        return seq(_GRANTED, token_der)


def token_signer(token: cms.ContentInfo) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
    """The certificate that signed a time-stamp token (matched by the SignerInfo's issuer and serial,
    not guessed), and every certificate the token carries."""
    signed = token["content"]
    certs = [c.chosen for c in signed["certificates"]]
    sid = signed["signer_infos"][0]["sid"].chosen
    if isinstance(sid, cms.IssuerAndSerialNumber):
        match = (c for c in certs if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native)
    else:
        match = (c for c in certs if c.key_identifier == sid.native)
    return next(match, certs[0]), certs


def token_time(token: cms.ContentInfo) -> datetime:
    """The time a token certifies (TSTInfo genTime)."""
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
