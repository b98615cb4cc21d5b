"""OCSP (RFC 6960) and CRL (RFC 5280) retrieval with a cache kept within each response's validity.

The batch signer asks once per key for the material of its chain; responses are fetched
concurrently and reused until their nextUpdate (or a maximum age), so B-LT signing of a batch
costs no network round trip per document. A revoked certificate in the chain refuses signing.

An answer is only believed when it is authentic and current; otherwise signing is refused with
REVOCATION_UNAVAILABLE (retryable), exactly as for a responder that cannot be reached:

* OCSP: signed by the issuing CA itself or by a responder certificate that CA issued *for OCSP
  signing* (id-kp-OCSPSigning, RFC 6960 §4.2.2.2) and that is valid now; for the requested CertID
  (serial and issuer hashes); thisUpdate not in the future (beyond :data:`CLOCK_SKEW`), nextUpdate
  not passed; without nextUpdate, thisUpdate no older than the cache's ``max_age``. Each request
  carries a random nonce (RFC 8954); a responder that echoes one must echo ours, one that ignores
  it is judged by thisUpdate alone.
* CRL: signed by the issuer, thisUpdate/nextUpdate checked the same way.

Responders can also be asked in-process (:class:`LocalResponders`, by URL prefix): the development
PKI's certificates name the service's ``/dev/pki`` URLs, and a process without the service (the
CLI) must still get the answers. Only development wiring installs them (``dossiers.services`` for
its own cache, ``signing.dev.pki`` in :data:`PROCESS_RESPONDERS`, which :func:`default_cache` asks).

``material(..., not_before=t)`` refetches what was cached before ``t`` (a signature's time-stamp),
so that a DSS holds answers given after the time the signature is known to exist.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.errors import RevocationUnavailable, SignerCertExpired, SignerCertRevoked

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(hours=12)
# Tolerated difference between our clock and a responder's, for "issued in the future" only
# (the 5 minutes OpenSSL's ``ocsp -validity_period`` and most relying parties default to).
CLOCK_SKEW = timedelta(minutes=5)
NONCE_BYTES = 32  # RFC 8954 §2.1: 1..32 octets, 32 recommended


@dataclass(frozen=True)
class LtvMaterial:
    """What a DSS needs for one chain: certificates, OCSP responses and CRLs (all DER)."""

    certs: tuple[bytes, ...]
    ocsps: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    expires: datetime | None = None

    def merged(self, other: LtvMaterial) -> LtvMaterial:
        def uniq(a: tuple[bytes, ...], b: tuple[bytes, ...]) -> tuple[bytes, ...]:
            return tuple(dict.fromkeys(a + b))

        ends = [e for e in (self.expires, other.expires) if e is not None]
        return LtvMaterial(
            uniq(self.certs, other.certs),
            uniq(self.ocsps, other.ocsps),
            uniq(self.crls, other.crls),
            min(ends) if ends else None,
        )


@dataclass(frozen=True)
class _Entry:
    der: bytes
    revoked: bool
    expires: datetime
    fetched: datetime  # when the answer arrived

    def answers_since(self, not_before: datetime | None) -> bool:
        """Obtained after ``not_before`` (both on our own clock, full precision).

        The responder's own times (thisUpdate, producedAt) have whole seconds and another clock,
        so they cannot tell an answer asked for just before a time-stamp from one asked just after.
        """
        return not_before is None or self.fetched > not_before


# An in-process responder: (URL, POST body or None for GET) → the answer's DER, or None (not its own).
LocalResponder = Callable[[str, bytes | None], bytes | None]


class LocalResponders:
    """In-process responders by URL prefix, asked before the network for the URLs under their prefix.

    Several may share a prefix (development PKIs of one process): each is asked in turn and the
    first answer wins; when none answers, the URL is fetched over the network as usual.
    """

    def __init__(self, entries: Mapping[str, LocalResponder] | None = None):
        self._entries: dict[str, dict[object, LocalResponder]] = {}
        self._lock = threading.Lock()
        for prefix, responder in (entries or {}).items():
            self.add(prefix, responder)

    def add(self, prefix: str, responder: LocalResponder, *, key: object = None) -> None:
        """Answer URLs under ``prefix`` with ``responder`` (replacing an earlier one added with ``key``)."""
        with self._lock:
            self._entries.setdefault(prefix.rstrip("/"), {})[responder if key is None else key] = responder

    def remove(self, key: object) -> None:
        """Forget the responders added with ``key``, under every prefix."""
        with self._lock:
            for responders in self._entries.values():
                responders.pop(key, None)
            self._entries = {prefix: responders for prefix, responders in self._entries.items() if responders}

    def __bool__(self) -> bool:
        return bool(self._entries)

    def answer(self, url: str, body: bytes | None) -> bytes | None:
        return next(self.answers(url, body), None)

    def answers(self, url: str, body: bytes | None) -> Iterator[bytes]:
        """Every responder's answer under the longest matching prefixes first (several PKIs of one
        process may share a URL: a CRL request carries no issuer, so the caller picks the right one)."""
        with self._lock:
            candidates = [
                responder
                for prefix, responders in sorted(self._entries.items(), key=lambda item: -len(item[0]))
                if url.startswith(prefix + "/")
                for responder in responders.values()
            ]
        for responder in candidates:
            data = responder(url, body)
            if data is not None:
                yield data


def has_revocation_pointers(cert: asn1_x509.Certificate) -> bool:
    return bool(cert.ocsp_urls or _crl_urls(cert))


def _crl_urls(cert: asn1_x509.Certificate) -> list[str]:
    return [dp.url for dp in cert.crl_distribution_points if dp.url]


def check_validity_period(cert: asn1_x509.Certificate, at: datetime | None = None) -> None:
    """Refuse a certificate outside its validity period (SIGNER_CERT_EXPIRED)."""
    now = at or datetime.now(UTC)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if not not_before <= now <= not_after:
        subject = cert.subject.human_friendly
        raise SignerCertExpired(f"{subject}: valid {not_before:%Y-%m-%d} .. {not_after:%Y-%m-%d}")


def order_chain(leaf: asn1_x509.Certificate, pool: Sequence[asn1_x509.Certificate]) -> list[asn1_x509.Certificate]:
    """leaf, issuer, issuer's issuer … as far as ``pool`` goes (by name and key identifier)."""
    chain = [leaf]
    current = leaf
    while current.self_signed == "no":
        issuer = next(
            (
                c
                for c in pool
                if c.subject == current.issuer
                and (current.authority_key_identifier is None or c.key_identifier == current.authority_key_identifier)
                and c.sha256 not in {x.sha256 for x in chain}
            ),
            None,
        )
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


class RevocationCache:
    """Fetches and caches OCSP responses and CRLs for certificate chains; thread-safe."""

    def __init__(
        self,
        *,
        timeout_s: float = 5,
        max_age: timedelta = DEFAULT_MAX_AGE,
        workers: int = 4,
        clock: Callable[[], datetime] | None = None,
        local: LocalResponders | Mapping[str, LocalResponder] | None = None,
    ):
        """``max_age`` bounds how old revocation information may be when it is used: how long an
        answer is reused, and the oldest thisUpdate accepted from an answer without nextUpdate
        (whose responder promises fresh data at any time, so only our own bound applies).

        ``local`` answers some URLs in-process (development only; see :class:`LocalResponders`).
        Their answers are checked exactly like fetched ones."""
        self.timeout_s = timeout_s
        self.max_age = max_age
        self.workers = workers
        self._clock = clock or (lambda: datetime.now(UTC))
        self.local = local if isinstance(local, LocalResponders) or local is None else LocalResponders(local)
        self._ocsp: dict[bytes, _Entry] = {}
        # By URL and issuer: two CAs naming one URL (development PKIs of one process) never share a CRL.
        self._crl: dict[tuple[str, bytes], _Entry] = {}
        self._crl_revoked: dict[tuple[str, bytes, int], bool] = {}
        self._lock = threading.Lock()
        self.fetches = 0
        self.local_answers = 0

    def now(self) -> datetime:
        return self._clock()

    def material(
        self,
        chain: Sequence[asn1_x509.Certificate],
        *,
        refuse_revoked: bool = True,
        not_before: datetime | None = None,
    ) -> LtvMaterial:
        """Certificates of ``chain`` plus fresh revocation data for each non-root certificate.

        ``not_before`` (on our clock, e.g. when the signature's time-stamp arrived): answers cached
        before it are fetched again, so that the material shows the status after that time.

        Raises SIGNER_CERT_REVOKED when any certificate of the chain is revoked, and
        REVOCATION_UNAVAILABLE when a certificate names a responder that cannot be reached.
        """
        if not_before is not None:
            not_before = not_before.astimezone(UTC)
        chain = order_chain(chain[0], chain)
        jobs: list[tuple[asn1_x509.Certificate, asn1_x509.Certificate]] = [
            (cert, chain[i + 1]) for i, cert in enumerate(chain[:-1]) if has_revocation_pointers(cert)
        ]
        results = [self._cached(cert, issuer, not_before) for cert, issuer in jobs]
        missing = [i for i, result in enumerate(results) if result is None]
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(missing))) as pool:
                fetched = list(pool.map(lambda i: self._status(*jobs[i], not_before), missing))
        else:
            fetched = [self._status(*jobs[i], not_before) for i in missing]
        for i, status in zip(missing, fetched, strict=True):
            results[i] = status
        ocsps: list[bytes] = []
        crls: list[bytes] = []
        expires: datetime | None = None
        for (cert, _), result in zip(jobs, results, strict=True):
            assert result is not None
            kind, entry = result
            if entry.revoked and refuse_revoked:
                raise SignerCertRevoked(f"{cert.subject.human_friendly} serial {cert.serial_number:x}")
            (ocsps if kind == "ocsp" else crls).append(entry.der)
            expires = entry.expires if expires is None else min(expires, entry.expires)
        return LtvMaterial(
            tuple(c.dump() for c in chain), tuple(dict.fromkeys(ocsps)), tuple(dict.fromkeys(crls)), expires
        )

    def _cached(
        self, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate, not_before: datetime | None
    ) -> tuple[str, _Entry] | None:
        """The cached status of ``cert`` if still fresh (no network)."""
        now = self._clock()
        with self._lock:
            if cert.ocsp_urls:
                entry = self._ocsp.get(cert.sha256)
                usable = entry is not None and entry.expires > now and entry.answers_since(not_before)
                return ("ocsp", entry) if usable and entry is not None else None
            key = (_crl_urls(cert)[0], issuer.sha256)
            crl_entry = self._crl.get(key)
            if crl_entry is None or crl_entry.expires <= now or not crl_entry.answers_since(not_before):
                return None
            revoked = self._crl_revoked.get((*key, cert.serial_number))
        if revoked is None:
            revoked = (
                x509.load_der_x509_crl(crl_entry.der).get_revoked_certificate_by_serial_number(cert.serial_number)
                is not None
            )
            with self._lock:
                self._crl_revoked[(*key, cert.serial_number)] = revoked
        return "crl", replace(crl_entry, revoked=revoked)

    def _status(
        self, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate, not_before: datetime | None = None
    ) -> tuple[str, _Entry]:
        now = self._clock()
        if cert.ocsp_urls:
            with self._lock:
                cached = self._ocsp.get(cert.sha256)
            if cached is None or cached.expires <= now or not cached.answers_since(not_before):
                cached = self._fetch_ocsp(cert, issuer, cert.ocsp_urls[0], now)
                with self._lock:
                    self._ocsp[cert.sha256] = cached
            return "ocsp", cached
        url = _crl_urls(cert)[0]
        key = (url, issuer.sha256)
        with self._lock:
            crl_entry = self._crl.get(key)
        if crl_entry is None or crl_entry.expires <= now or not crl_entry.answers_since(not_before):
            crl_entry = self._fetch_crl(url, issuer, now)
            with self._lock:
                self._crl[key] = crl_entry
                self._crl_revoked = {k: v for k, v in self._crl_revoked.items() if k[:2] != key}
        crl = x509.load_der_x509_crl(crl_entry.der)
        revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
        return "crl", replace(crl_entry, revoked=revoked)

    def _http(self, url: str, body: bytes | None, content_type: str | None, fits: Callable[[bytes], bool]) -> bytes:
        """The answer at ``url``: from an in-process responder when one answers (development PKIs of one
        process may share a URL, so the answer that ``fits`` the request is taken), else over HTTP."""
        local = list(self.local.answers(url, body)) if self.local else []
        if local:
            self.fetches += 1
            self.local_answers += 1
            return next((d for d in local if fits(d)), local[0])
        req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                data: bytes = resp.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RevocationUnavailable(f"{url}: {type(exc).__name__}") from None
        self.fetches += 1
        return data

    def _fetch_ocsp(
        self, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate, url: str, now: datetime
    ) -> _Entry:
        c_cert = x509.load_der_x509_certificate(cert.dump())
        c_issuer = x509.load_der_x509_certificate(issuer.dump())
        nonce = os.urandom(NONCE_BYTES)
        # CertID with SHA-1: the RFC 6960 default every responder understands (not a signature hash).
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(c_cert, c_issuer, hashes.SHA1())
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        der = self._http(url, request.public_bytes(Encoding.DER), "application/ocsp-request", _successful_ocsp)
        try:
            resp = ocsp.load_der_ocsp_response(der)
        except ValueError:
            raise RevocationUnavailable(f"{url}: malformed OCSP response") from None
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise RevocationUnavailable(f"{url}: {resp.response_status.name}")
        try:
            single = next((r for r in resp.responses if _answers_for(r, cert, issuer)), None)
            echoed = _echoed_nonce(resp)
        except (ValueError, TypeError, KeyError, x509.DuplicateExtension):  # unparsable responses or extensions
            raise RevocationUnavailable(f"{url}: malformed OCSP response") from None
        if single is None:
            raise RevocationUnavailable(f"{url}: response for another certificate")
        _verify_ocsp_signature(resp, c_issuer, url, now)
        if echoed is not None and echoed != nonce:
            raise RevocationUnavailable(f"{url}: OCSP nonce mismatch (replayed response?)")
        self._check_times(single.this_update_utc, single.next_update_utc, now, f"{url}: OCSP response")
        if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
            raise RevocationUnavailable(f"{url}: status unknown")
        revoked = single.certificate_status == ocsp.OCSPCertStatus.REVOKED
        expires = self._expiry(single.this_update_utc, single.next_update_utc, now)
        return _Entry(der, revoked, expires, self._clock())

    def _fetch_crl(self, url: str, issuer: asn1_x509.Certificate, now: datetime) -> _Entry:
        c_issuer = x509.load_der_x509_certificate(issuer.dump())
        der = self._http(url, None, None, lambda answer: _crl_by(answer, c_issuer))
        try:
            crl = x509.load_der_x509_crl(der)
        except ValueError:
            raise RevocationUnavailable(f"{url}: malformed CRL") from None
        if not _crl_by(der, c_issuer):
            raise RevocationUnavailable(f"{url}: CRL signature invalid")
        self._check_times(crl.last_update_utc, crl.next_update_utc, now, f"{url}: CRL")
        expires = self._expiry(crl.last_update_utc, crl.next_update_utc, now)
        return _Entry(der, False, expires, self._clock())

    def _check_times(self, this_update: datetime, next_update: datetime | None, now: datetime, what: str) -> None:
        """Refuse revocation data not yet issued, past its nextUpdate, or (no nextUpdate) older than max_age."""
        if this_update > now + CLOCK_SKEW:
            raise RevocationUnavailable(f"{what} issued in the future ({this_update:%Y-%m-%dT%H:%M:%SZ})")
        if next_update is not None and next_update <= now:
            raise RevocationUnavailable(f"{what} stale (nextUpdate {next_update:%Y-%m-%dT%H:%M:%SZ})")
        if next_update is None and this_update < now - self.max_age:
            raise RevocationUnavailable(f"{what} too old (thisUpdate {this_update:%Y-%m-%dT%H:%M:%SZ})")

    def _expiry(self, this_update: datetime, next_update: datetime | None, now: datetime) -> datetime:
        if next_update is None:  # information never older than max_age, however long it was kept
            return min(now, this_update) + self.max_age
        return min(now + self.max_age, next_update - timedelta(seconds=30))


def _successful_ocsp(der: bytes) -> bool:
    try:
        return ocsp.load_der_ocsp_response(der).response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    except ValueError:
        return False


def _crl_by(der: bytes, issuer: x509.Certificate) -> bool:
    """Whether ``der`` is a CRL issued and signed by ``issuer``."""
    try:
        crl = x509.load_der_x509_crl(der)
        # A key type that cannot sign (X25519, ML-KEM) raises TypeError: not a CRL of this issuer.
        return crl.issuer == issuer.subject and crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


def _answers_for(single: ocsp.OCSPSingleResponse, cert: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    """Whether ``single`` is about ``cert`` issued by ``issuer`` (serial and both CertID issuer hashes)."""
    if single.serial_number != cert.serial_number:
        return False
    try:
        name_hash = hashlib.new(single.hash_algorithm.name, issuer.subject.dump()).digest()
        key_hash = hashlib.new(single.hash_algorithm.name, bytes(issuer.public_key["public_key"])).digest()
    except (ValueError, UnsupportedAlgorithm):  # a hash algorithm we do not know
        return False
    return single.issuer_name_hash == name_hash and single.issuer_key_hash == key_hash


def _echoed_nonce(resp: ocsp.OCSPResponse) -> bytes | None:
    """The nonce the responder echoed, None when it sent none (RFC 8954 wraps it in an OCTET STRING,
    some older responders echo it bare: cryptography reads both)."""
    try:
        return resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def _verify_ocsp_signature(resp: ocsp.OCSPResponse, issuer: x509.Certificate, url: str, now: datetime) -> None:
    """The response must be signed by the issuer, or by a delegated responder: a certificate the
    issuer signed for OCSP signing (EKU id-kp-OCSPSigning, RFC 6960 §4.2.2.2) and valid at ``now``.

    Any other certificate of the same CA (another agency's signing certificate) is not a responder:
    accepting it would let its holder forge "good" for every certificate of that CA.
    """
    signers = [issuer] + [c for c in resp.certificates if _is_delegated_responder(c, issuer, now)]
    algorithm = resp.signature_hash_algorithm  # None only for EdDSA, which no accepted key type verifies
    for candidate in signers:
        key = candidate.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
                key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
                key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(algorithm))
            else:
                continue
            return
        except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
            continue
    raise RevocationUnavailable(f"{url}: OCSP response signature invalid or signer not authorised")


def _is_delegated_responder(cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return (
        ExtendedKeyUsageOID.OCSP_SIGNING in eku
        and cert.not_valid_before_utc <= now <= cert.not_valid_after_utc
        and _signed_by(cert, issuer)
    )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# Development PKIs this process loaded (``signing.dev.pki.ensure_dev_pki``); empty in production.
PROCESS_RESPONDERS = LocalResponders()
_default: RevocationCache | None = None
_default_lock = threading.Lock()


def default_cache() -> RevocationCache:
    """The process-wide cache used when a caller does not bring its own (answers the development
    PKIs this process loaded in-process; a production process loads none)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = RevocationCache(local=PROCESS_RESPONDERS)
        return _default
