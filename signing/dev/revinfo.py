"""Building revocation data: certificate pointers, signed CRLs (RFC 5280) and OCSP responses (RFC 6960).

Shared by the development responder (``signing.dev.revocation``, served at ``/dev/pki``) and the
served test PKI (``testkit.pki``), so that both answer the way ``signing.validation.revocation`` and
pyHanko expect: issuer-signed, nonce echoed, thisUpdate/nextUpdate set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from asn1crypto import keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
OCSP_REQUEST_TYPE = "application/ocsp-request"
OCSP_RESPONSE_TYPE = "application/ocsp-response"
CRL_TYPE = "application/pkix-crl"


def crl_pointer(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)])


def ocsp_pointer(url: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]
    )


def revocation_pointers(crl_url: str, ocsp_url: str | None = None) -> tuple[x509.ExtensionType, ...]:
    """The extensions that tell relying parties where to ask: an OCSP AIA (if any) and a CRL DP."""
    return ((ocsp_pointer(ocsp_url),) if ocsp_url else ()) + (crl_pointer(crl_url),)


def build_crl(
    issuer: x509.Certificate,
    key: CaKey,
    revoked: Mapping[int, dt.datetime],
    *,
    this_update: dt.datetime,
    next_update: dt.datetime,
) -> bytes:
    """A DER CRL by ``issuer`` listing ``revoked`` (serial → revocation time)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        # RFC 5280 §5.2.3: conforming CAs number their CRLs, increasing; the issue time in
        # microseconds increases with each CRL a responder builds.
        .add_extension(x509.CRLNumber(int(this_update.timestamp() * 1_000_000)), critical=False)
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_refusal(status: ocsp.OCSPResponseStatus) -> bytes:
    """An unsuccessful OCSP response (malformedRequest, unauthorized, …): no signature, no status."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def parse_ocsp_request(der: bytes) -> ocsp.OCSPRequest | None:
    try:
        request = ocsp.load_der_ocsp_request(der)
        request.serial_number  # noqa: B018 - one CertID we can read, or malformed
    except ValueError:
        return None
    return request


def request_names(request: ocsp.OCSPRequest, issuer: x509.Certificate) -> bool:
    """Whether the request's CertID names ``issuer`` (both issuer hashes, in the request's algorithm)."""
    digest = hashes.Hash(request.hash_algorithm)
    digest.update(issuer.subject.public_bytes())
    name_hash = digest.finalize()
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(request.hash_algorithm)
    digest.update(bytes(keys.PublicKeyInfo.load(spki)["public_key"]))
    return request.issuer_name_hash == name_hash and request.issuer_key_hash == digest.finalize()


def build_ocsp(
    request: ocsp.OCSPRequest,
    issuer: x509.Certificate,
    key: CaKey,
    *,
    known: bool,
    revoked_at: dt.datetime | None,
    this_update: dt.datetime,
    next_update: dt.datetime,
) -> bytes:
    """A DER OCSP response about the request's CertID, signed by ``issuer`` itself, echoing its nonce.

    ``known`` False (a serial the issuer never issued, as far as the responder knows) answers
    ``unknown``; otherwise ``revoked`` (keyCompromise) when ``revoked_at`` is given, else ``good``.
    The answer repeats the request's CertID, so the responder needs no copy of the certificate.
    """
    if not known:
        status = ocsp.OCSPCertStatus.UNKNOWN
    else:
        status = ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD
    revoked = status == ocsp.OCSPCertStatus.REVOKED
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=request.hash_algorithm,
        cert_status=status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=revoked_at if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
    for ext in request.extensions:
        if isinstance(ext.value, x509.OCSPNonce):
            builder = builder.add_extension(ext.value, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
