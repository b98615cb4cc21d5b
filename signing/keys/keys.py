"""Load signing keys once per process.

A key is cached per (file, modification time, passphrase digest), so a worker loading the same
PKCS#12 for every document pays the PBKDF2 + parsing cost once (DESIGN §5: 30 ms per signature
was going to re-loading the key). The passphrase itself is never kept, logged or put in errors.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from signing.errors import KeyCertMismatch, SigningKeyUnavailable

log = logging.getLogger(__name__)

RSA_PSS = "RSASSA-PSS"
RSA_PKCS1V15 = "RSASSA-PKCS1-v1_5"
ECDSA = "ECDSA"


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key with its certificate and chain, ready for pyHanko."""

    signer: Signer  # a LoadedKeySigner (PKCS#12/PEM) or signing.keys.hsm's HsmSigner
    cert: x509.Certificate
    subject_name: str
    algorithm: str

    @property
    def key_size(self) -> int:
        return int(self.cert.public_key.bit_size)


class LoadedKeySigner(SimpleSigner):
    """SimpleSigner that parses its private key once, not on every signature.

    pyHanko's SimpleSigner re-imports the key (with cryptography's RSA consistency checks, tens
    of ms) for each raw signature, and signs twice per document (size estimate + real). Here the
    key is imported once and the size-estimate pass gets a placeholder of the right length.
    """

    def __init__(self, base: SimpleSigner, prefer_pss: bool):
        super().__init__(
            signing_cert=base.signing_cert,
            signing_key=base.signing_key,
            cert_registry=base.cert_registry,
            prefer_pss=prefer_pss,
        )
        key = serialization.load_der_private_key(base.signing_key.dump(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningError("only RSA and ECDSA keys are supported")
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(self._max_signature_length())
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        name = mechanism["algorithm"].native
        key = self._key
        if isinstance(key, rsa.RSAPrivateKey):
            if name == "rsassa_pss":
                padding, hash_algo = process_pss_params(mechanism["parameters"])
                return key.sign(data, padding, hash_algo)
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))

    @property
    def private_key(self) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        return self._key

    def _max_signature_length(self) -> int:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return (self._key.key_size + 7) // 8
        coord = (self._key.curve.key_size + 7) // 8
        return 2 * (coord + 3) + 3  # DER SEQUENCE of two INTEGERs, worst case


_cache: dict[tuple[str, int, int, str, bool], SigningKey] = {}
_lock = threading.Lock()


def load_pkcs12_signer(p12: Path, passphrase: bytes, *, prefer_pss: bool = True) -> SigningKey:
    """Load a PKCS#12 key + chain as a pyHanko signer, cached per (path, mtime).

    RSA keys sign with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) as TT 15/2025 asks, or with
    PKCS#1 v1.5 when ``prefer_pss`` is False (for relying parties stuck on old verifiers). Both
    validate in pyHanko and in poppler's pdfsig 22.12 (NSS 3.87). ECDSA keys ignore the flag.
    """
    path = Path(p12).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise SigningKeyUnavailable(f"{path.name}: {exc.strerror}") from None
    pass_digest = hashlib.sha256(passphrase).hexdigest()
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size, pass_digest, prefer_pss)
    with _lock:
        cached = _cache.get(cache_key)
        if cached is not None:
            return cached
        key = _load(path, passphrase, prefer_pss)
        for stale in [k for k in _cache if k[0] == str(path)]:
            del _cache[stale]
        _cache[cache_key] = key
        return key


def _load(path: Path, passphrase: bytes, prefer_pss: bool) -> SigningKey:
    try:
        data = path.read_bytes()
        loaded = SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=passphrase)
        signer = LoadedKeySigner(loaded, prefer_pss=prefer_pss)
        check_key_matches(signer.private_key.public_key(), signer.signing_cert, path.name)
    except OSError as exc:
        raise SigningKeyUnavailable(f"{path.name}: {exc.strerror}") from None
    except KeyCertMismatch:
        raise
    except (ValueError, SigningError):
        # pyHanko's message is generic; the cause may quote PKCS#12 internals, so drop it.
        raise SigningKeyUnavailable(path.name) from None
    return _as_signing_key(signer, path.name, prefer_pss)


def load_pem_signer(
    key_pem: Path,
    cert_pem: Path,
    chain_pems: tuple[Path, ...] = (),
    passphrase: bytes | None = None,
    *,
    prefer_pss: bool = True,
) -> SigningKey:
    """Load a PEM/DER private key with its certificate (and chain), refusing a mismatched pair."""
    name = Path(key_pem).name
    try:
        loaded = SimpleSigner.load(
            str(key_pem), str(cert_pem), ca_chain_files=tuple(str(p) for p in chain_pems), key_passphrase=passphrase
        )
        if loaded is None:
            raise SigningKeyUnavailable(name)
        key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)
        check_key_matches(key.public_key(), loaded.signing_cert, name)
        signer = LoadedKeySigner(loaded, prefer_pss=prefer_pss)
    except OSError as exc:
        raise SigningKeyUnavailable(f"{name}: {exc.strerror}") from None
    except (ValueError, SigningError, TypeError):
        raise SigningKeyUnavailable(name) from None
    return _as_signing_key(signer, name, prefer_pss)


def check_key_matches(public_key: PublicKeyTypes, cert: x509.Certificate, name: str) -> None:
    """Raise KEY_CERT_MISMATCH unless ``public_key`` is the certificate's public key."""
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if public_key.public_bytes(der, spki) != cert.public_key.dump():
        raise KeyCertMismatch(name)


def _as_signing_key(signer: LoadedKeySigner, name: str, prefer_pss: bool) -> SigningKey:
    cert = signer.signing_cert
    path = Path(name)
    if cert is None:  # pyHanko's loaders always set it; a signer without a certificate cannot sign for us
        raise SigningKeyUnavailable(f"{path.name}: no signing certificate")
    key_algo = cert.public_key.algorithm
    if key_algo == "rsa":
        if cert.public_key.bit_size < 2048:
            raise SigningKeyUnavailable(f"{path.name}: RSA key shorter than 2048 bits")
        algorithm = RSA_PSS if prefer_pss else RSA_PKCS1V15
    elif key_algo == "ec":
        if cert.public_key.bit_size < 256:
            raise SigningKeyUnavailable(f"{path.name}: EC key shorter than 256 bits")
        algorithm = ECDSA
    else:
        raise SigningKeyUnavailable(f"{path.name}: unsupported key type {key_algo}")
    subject = cert.subject.native.get("common_name") or cert.subject.human_friendly
    log.info("Loaded signing key %s (%s, %s)", path.name, subject, algorithm)
    return SigningKey(signer=signer, cert=cert, subject_name=str(subject), algorithm=algorithm)
