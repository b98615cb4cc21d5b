"""PKCS#11 keys (production HSMs; SoftHSM2 in tests): the private key never leaves the token.

:func:`open_hsm_key` returns a :class:`~signing.keys.keys.SigningKey` whose signer is pyHanko's
``PKCS11Signer`` (staged path: appearances, remote completion) extended with a raw signer for
the batch engine. Failures to reach the module, token or key, or a wrong PIN, raise
HSM_UNAVAILABLE (retryable when the device itself failed); a certificate that does not belong
to the token's key raises KEY_CERT_MISMATCH. PINs are never logged or put in errors.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pkcs11
from asn1crypto import keys as asn1_keys
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pkcs11 import KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature
from pkcs11.util.rsa import encode_rsa_public_key
from pyhanko.sign.pkcs11 import PKCS11Signer

from signing.cms.cmsbuild import RawSigner
from signing.errors import HsmUnavailable, HsmUnavailableRetryable, KeyCertMismatch
from signing.keys.keys import ECDSA, RSA_PKCS1V15, RSA_PSS, SigningKey
from signing.keys.rawsign import signature_algorithm

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as Pkcs11Lib  # what pkcs11.lib() returns

log = logging.getLogger(__name__)

_TRANSIENT = (p11e.DeviceError, p11e.DeviceRemoved, p11e.DeviceMemory, p11e.SessionClosed, p11e.TokenNotPresent)
_PSS = {
    "sha256": Mechanism.SHA256_RSA_PKCS_PSS,
    "sha384": Mechanism.SHA384_RSA_PKCS_PSS,
    "sha512": Mechanism.SHA512_RSA_PKCS_PSS,
}
_V15 = {"sha256": Mechanism.SHA256_RSA_PKCS, "sha384": Mechanism.SHA384_RSA_PKCS, "sha512": Mechanism.SHA512_RSA_PKCS}
_DIGEST = {"sha256": Mechanism.SHA256, "sha384": Mechanism.SHA384, "sha512": Mechanism.SHA512}
_MGF = {"sha256": pkcs11.MGF.SHA256, "sha384": pkcs11.MGF.SHA384, "sha512": pkcs11.MGF.SHA512}


@dataclass(frozen=True)
class HsmConfig:
    """Where the key is: module, token, key label, and the certificate issued for it."""

    module: Path
    token_label: str
    key_label: str
    cert: Path
    pin: str = field(repr=False)
    chain: tuple[Path, ...] = ()
    prefer_pss: bool = True


class HsmSigner(PKCS11Signer):
    """pyHanko's PKCS11Signer plus a raw signer for the batch engine; one session, serialised."""

    def __init__(
        self,
        session: pkcs11.Session,
        key: pkcs11.SignMixin,
        algorithm: str,
        *,
        key_label: str,
        signing_cert: asn1_x509.Certificate,
        ca_chain: list[asn1_x509.Certificate],
        prefer_pss: bool,
    ):
        super().__init__(
            session, key_label=key_label, signing_cert=signing_cert, ca_chain=ca_chain, prefer_pss=prefer_pss
        )
        self._private = key
        self._algorithm = algorithm
        self._lock = threading.Lock()

    def raw_signer(self, digest: str) -> RawSigner:
        cert = self.signing_cert
        key, algorithm, lock = self._private, self._algorithm, self._lock
        if algorithm == ECDSA:
            size = 2 * ((cert.public_key.bit_size + 7) // 8 + 3) + 3

            def sign(data: bytes) -> bytes:
                with lock, _mapped():
                    raw = key.sign(hashlib.new(digest, data).digest(), mechanism=Mechanism.ECDSA)
                return bytes(encode_ecdsa_signature(raw))

        else:
            size = (cert.public_key.bit_size + 7) // 8
            if algorithm == RSA_PSS:
                salt = hashlib.new(digest).digest_size
                kwargs = {"mechanism": _PSS[digest], "mechanism_param": (_DIGEST[digest], _MGF[digest], salt)}
            else:
                kwargs = {"mechanism": _V15[digest]}

            def sign(data: bytes) -> bytes:
                with lock, _mapped():
                    return bytes(key.sign(data, **kwargs))

        chain = tuple(c for c in self.cert_registry if c.sha256 != cert.sha256)
        return RawSigner(cert, chain, sign, signature_algorithm(algorithm, digest), digest, size)


class _mapped:
    """Map PKCS#11 failures during signing to HSM_UNAVAILABLE."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None:
            return False
        if isinstance(exc, _TRANSIENT):
            raise HsmUnavailableRetryable(type(exc).__name__) from None
        if isinstance(exc, p11e.PKCS11Error):
            raise HsmUnavailable(type(exc).__name__) from None
        return False


_libs: dict[str, Pkcs11Lib] = {}
_lib_lock = threading.Lock()


def _lib(module: Path) -> Pkcs11Lib:
    with _lib_lock:
        lib = _libs.get(str(module))
        if lib is None:
            if not Path(module).is_file():
                raise HsmUnavailable(f"PKCS#11 module {module} not found")
            try:
                lib = pkcs11.lib(str(module))
            except (OSError, RuntimeError, p11e.PKCS11Error) as exc:
                raise HsmUnavailable(f"PKCS#11 module {Path(module).name}: {type(exc).__name__}") from None
            _libs[str(module)] = lib
        return lib


def _load_certs(paths: tuple[Path, ...]) -> list[asn1_x509.Certificate]:
    out: list[asn1_x509.Certificate] = []
    for path in paths:
        data = Path(path).read_bytes()
        if pem.detect(data):
            out += [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            out.append(asn1_x509.Certificate.load(data))
    return out


def open_hsm_key(config: HsmConfig) -> SigningKey:
    """Log in to the token and return its key as a SigningKey (checked against the certificate)."""
    lib = _lib(config.module)
    try:
        token = lib.get_token(token_label=config.token_label)
        try:
            session = token.open(user_pin=config.pin)
        except p11e.UserAlreadyLoggedIn:  # PKCS#11 login is per application: this process holds it
            session = token.open()
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=config.key_label)
        public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=config.key_label)
    except _TRANSIENT as exc:
        raise HsmUnavailableRetryable(f"token {config.token_label}: {type(exc).__name__}") from None
    except (p11e.PKCS11Error, RuntimeError) as exc:
        raise HsmUnavailable(f"token {config.token_label}: {type(exc).__name__}") from None
    cert, *chain = _load_certs((config.cert, *config.chain))
    # get_key answers a plain Key: the private one must be allowed to sign (CKA_SIGN), or every signature fails.
    if not isinstance(private, pkcs11.SignMixin) or not isinstance(public, pkcs11.PublicKey):
        session.close()
        raise HsmUnavailable(f"token {config.token_label} key {config.key_label}: not a key pair that can sign")
    if public.key_type == KeyType.RSA:
        spki = asn1_keys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "rsa"},
                "public_key": asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public)),
            }
        )
        algorithm = RSA_PSS if config.prefer_pss else RSA_PKCS1V15
    else:
        spki = asn1_keys.PublicKeyInfo.load(encode_ec_public_key(public))
        algorithm = ECDSA
    if spki["public_key"].dump() != cert.public_key["public_key"].dump():
        session.close()
        raise KeyCertMismatch(f"token {config.token_label} key {config.key_label}")
    signer = HsmSigner(
        session,
        private,
        algorithm,
        key_label=config.key_label,
        signing_cert=cert,
        ca_chain=chain,
        prefer_pss=config.prefer_pss,
    )
    subject = cert.subject.native.get("common_name") or cert.subject.human_friendly
    log.info("Opened HSM key %s on token %s (%s)", config.key_label, config.token_label, algorithm)
    return SigningKey(signer=signer, cert=cert, subject_name=str(subject), algorithm=algorithm)
