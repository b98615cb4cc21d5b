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
from pyhanko.sign.signers import SimpleSigner

from signing.errors import SigningKeyUnavailable

log = logging.getLogger(__name__)

RSA_PSS = "RSASSA-PSS"
RSA_PKCS1V15 = "RSASSA-PKCS1-v1_5"
ECDSA = "ECDSA"


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key with its certificate and chain, ready for pyHanko."""

    signer: SimpleSigner
    cert: x509.Certificate
    subject_name: str
    algorithm: str

    @property
    def key_size(self) -> int:
        return int(self.cert.public_key.bit_size)


_cache: dict[tuple[str, int, int, str, bool], SigningKey] = {}
_lock = threading.Lock()


def load_pkcs12_signer(p12: Path, passphrase: bytes, *, prefer_pss: bool = False) -> SigningKey:
    """Load a PKCS#12 key + chain as a pyHanko signer, cached per (path, mtime).

    RSA keys sign with PKCS#1 v1.5 unless ``prefer_pss`` (RSASSA-PSS, SHA-256, MGF1, salt 32);
    both validate in pyHanko and poppler's pdfsig 22.12 (NSS 3.87).
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


def clear_key_cache() -> None:
    with _lock:
        _cache.clear()


def _load(path: Path, passphrase: bytes, prefer_pss: bool) -> SigningKey:
    try:
        data = path.read_bytes()
        signer = SimpleSigner.load_pkcs12_data(data, other_certs=(), passphrase=passphrase)
    except OSError as exc:
        raise SigningKeyUnavailable(f"{path.name}: {exc.strerror}") from None
    except ValueError:
        # pyHanko's message is generic; the cause may quote PKCS#12 internals, so drop it.
        raise SigningKeyUnavailable(path.name) from None
    cert = signer.signing_cert
    key_algo = cert.public_key.algorithm
    if key_algo == "rsa":
        if cert.public_key.bit_size < 2048:
            raise SigningKeyUnavailable(f"{path.name}: RSA key shorter than 2048 bits")
        signer.prefer_pss = prefer_pss
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
