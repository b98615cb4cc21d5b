"""CMS SignedData (RFC 5652) assembled from cached DER parts: the batch signer's hot path.

Everything that does not depend on the document (certificates, signer identifier, algorithm
identifiers, ESS signing-certificate-v2) is encoded once per key. Per document only the
message digest, the raw signature and optional unsigned attributes are wrapped. The result is
byte-for-byte the structure pyHanko produces for PAdES (content-type, message-digest and
signing-certificate-v2 signed attributes; no signing-time, which PAdES puts in /M).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.general import as_signing_certificate_v2

from signing.cms.der import attribute, integer, octets, oid, seq, set_of, tlv

ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CT_TSTINFO = "1.2.840.113549.1.9.16.1.4"
_ID_CONTENT_TYPE = oid("1.2.840.113549.1.9.3")
_ID_MESSAGE_DIGEST = oid("1.2.840.113549.1.9.4")
_ID_SIGNING_CERT_V2 = oid("1.2.840.113549.1.9.16.2.47")
ID_SIGNATURE_TIMESTAMP = oid("1.2.840.113549.1.9.16.2.14")

DIGESTS = ("sha256", "sha384", "sha512")


@dataclass(frozen=True)
class RawSigner:
    """Signs the DER of the signed attributes; ``algorithm`` is what goes in SignerInfo."""

    cert: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    sign: Callable[[bytes], bytes]
    algorithm: algos.SignedDigestAlgorithm
    digest: str
    max_signature_size: int


class CmsTemplate:
    """Pre-encoded SignedData pieces for one signer and one digest algorithm."""

    def __init__(self, signer: RawSigner, *, content_type: str = ID_DATA, include_chain: bool = True):
        if signer.digest not in DIGESTS:
            raise ValueError(f"unsupported digest {signer.digest}")
        self.signer = signer
        self.digest = signer.digest
        cert = signer.cert
        digest_alg = algos.DigestAlgorithm({"algorithm": signer.digest}).dump()
        self._digest_alg = digest_alg
        self._content_type_oid = oid(content_type)
        self._version = integer(1 if content_type == ID_DATA else 3)
        certs = [cert, *(c for c in signer.chain if c.sha256 != cert.sha256)] if include_chain else [cert]
        self._certs = tlv(0xA0, b"".join(c.dump() for c in certs))
        self._sid = seq(cert.issuer.dump(), integer(cert.serial_number))
        self._sig_alg = signer.algorithm.dump()
        self._static_attrs = [
            attribute(_ID_CONTENT_TYPE, self._content_type_oid),
            attribute(_ID_SIGNING_CERT_V2, as_signing_certificate_v2(cert, signer.digest).dump()),
        ]

    def signed_attrs(self, message_digest: bytes) -> bytes:
        """DER of the SET OF signed attributes: what the raw signature covers."""
        return set_of(*self._static_attrs, attribute(_ID_MESSAGE_DIGEST, octets(message_digest)))

    def build(
        self,
        message_digest: bytes,
        *,
        econtent: bytes | None = None,
        unsigned_attrs: Sequence[bytes] = (),
        signature: bytes | None = None,
    ) -> tuple[bytes, bytes]:
        """(ContentInfo DER, raw signature value); ``econtent`` embeds content (time-stamp tokens)."""
        attrs = self.signed_attrs(message_digest)
        if signature is None:
            signature = self.signer.sign(attrs)
        signer_info = [
            integer(1),
            self._sid,
            self._digest_alg,
            tlv(0xA0, attrs[_header_len(attrs) :]),
            self._sig_alg,
            octets(signature),
        ]
        if unsigned_attrs:
            unsigned = set_of(*unsigned_attrs)
            signer_info.append(tlv(0xA1, unsigned[_header_len(unsigned) :]))
        encap = [self._content_type_oid]
        if econtent is not None:
            encap.append(tlv(0xA0, octets(econtent)))
        signed_data = seq(
            self._version,
            set_of(self._digest_alg),
            seq(*encap),
            self._certs,
            set_of(seq(*signer_info)),
        )
        return seq(oid(ID_SIGNED_DATA), tlv(0xA0, signed_data)), signature

    def max_size(self, unsigned_extra: int = 0) -> int:
        """Upper bound of :meth:`build`'s output length with a zero digest (sizes are fixed per key)."""
        fake = bytes(hashlib.new(self.digest).digest_size)
        sig = bytes(self.signer.max_signature_size)
        der, _ = self.build(fake, signature=sig)
        return len(der) + unsigned_extra + (16 if unsigned_extra else 0)


def _header_len(der: bytes) -> int:
    first = der[1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)


def timestamp_attribute(token_der: bytes) -> bytes:
    """Unsigned attribute id-aa-signatureTimeStampToken carrying an RFC 3161 token."""
    return attribute(ID_SIGNATURE_TIMESTAMP, token_der)
