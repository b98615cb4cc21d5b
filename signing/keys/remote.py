"""Keys held by a remote-signing service: the private key stays there, only a digest travels.

The protocol (JSON over HTTPS, optional bearer token):

``GET  {url}/certificate`` → ``{"certificate": PEM, "chain": [PEM, ...]}``: the signer's certificate
and the CA certificates up to the root, fetched once when the key is opened.

``POST {url}/sign`` with ``{"digest_algorithm": "sha256", "digest": base64, "padding": "pss" | "pkcs1v15"}``
→ ``{"signature": base64, "certificate": PEM}``: a raw signature over the digest of the CMS
signed attributes (RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest, or
PKCS#1 v1.5, for an RSA key; DER ECDSA for an EC key; ``padding`` is ignored then). The answer names
the certificate it signed with: one other than the opened key's (rotated meanwhile) is refused.

Every signature is checked against the certificate before it goes into a document. The bearer
token is never logged or put in errors.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import httpx
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from pyhanko.sign.signers import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.cms.cmsbuild import DIGESTS, RawSigner
from signing.errors import RemoteSignerInvalid, RemoteSignerUnavailable
from signing.keys.keys import ECDSA, RSA_PSS, SigningKey
from signing.keys.rawsign import signature_algorithm

log = logging.getLogger(__name__)

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
TIMEOUT_S = 30.0


def _load_pem(text: str) -> asn1_x509.Certificate:
    data = text.encode("ascii")
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_x509.Certificate.load(data)


class RemoteSigner(Signer):
    """A pyHanko ``Signer`` whose raw signatures come from a remote-signing service (see the module)."""

    def __init__(
        self,
        url: str,
        cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
        algorithm: str,
        *,
        token: str | None = None,
        timeout_s: float = TIMEOUT_S,
    ):
        super().__init__(
            prefer_pss=algorithm == RSA_PSS,
            signing_cert=cert,
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
        )
        self.url = url.rstrip("/")
        self.algorithm = algorithm
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout_s
        self._public = serialization.load_der_public_key(cert.public_key.dump())

    def get_signature_mechanism_for_digest(self, digest_algorithm: str | None) -> Any:
        return signature_algorithm(self.algorithm, digest_algorithm or "sha256")

    def _max_signature_length(self) -> int:
        cert = self.signing_cert
        assert cert is not None
        if self.algorithm == ECDSA:
            return 2 * ((cert.public_key.bit_size + 7) // 8 + 3) + 3
        return (cert.public_key.bit_size + 7) // 8

    def _request(self, digest_algorithm: str, digest: bytes) -> dict[str, Any]:
        return {
            "digest_algorithm": digest_algorithm,
            "digest": base64.b64encode(digest).decode("ascii"),
            "padding": "pss" if self.algorithm == RSA_PSS else "pkcs1v15",
        }

    def _checked(self, answer: httpx.Response, digest_algorithm: str, digest: bytes) -> bytes:
        if answer.status_code >= 500 or answer.status_code == 429:
            raise RemoteSignerUnavailable(f"{self.url}: HTTP {answer.status_code}")
        if answer.status_code != 200:
            raise RemoteSignerInvalid(f"{self.url}: HTTP {answer.status_code}")
        try:
            body = answer.json()
            signature = base64.b64decode(body["signature"], validate=True)
            cert = _load_pem(body["certificate"])
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteSignerInvalid(f"{self.url}: malformed answer ({type(exc).__name__})") from None
        assert self.signing_cert is not None
        if cert.sha256 != self.signing_cert.sha256:
            raise RemoteSignerInvalid(f"{self.url}: signed with another certificate")
        self._verify(signature, digest_algorithm, digest)
        return signature

    def _verify(self, signature: bytes, digest_algorithm: str, digest: bytes) -> None:
        algo = utils.Prehashed(_HASHES[digest_algorithm]())
        key = self._public
        try:
            if isinstance(key, rsa.RSAPublicKey):
                pad: padding.AsymmetricPadding = (
                    padding.PSS(mgf=padding.MGF1(_HASHES[digest_algorithm]()), salt_length=len(digest))
                    if self.algorithm == RSA_PSS
                    else padding.PKCS1v15()
                )
                key.verify(signature, digest, pad, algo)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, digest, ec.ECDSA(algo))
            else:
                raise RemoteSignerInvalid(f"{self.url}: unsupported key type")
        except InvalidSignature:
            raise RemoteSignerInvalid(f"{self.url}: the signature does not verify") from None

    def sign_digest(self, digest_algorithm: str, digest: bytes) -> bytes:
        """A raw signature over ``digest`` from the service (blocking)."""
        try:
            answer = httpx.post(
                f"{self.url}/sign",
                json=self._request(digest_algorithm, digest),
                headers=self._headers,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise RemoteSignerUnavailable(f"{self.url}: {type(exc).__name__}") from None
        return self._checked(answer, digest_algorithm, digest)

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(self._max_signature_length())
        digest = hashlib.new(digest_algorithm, data).digest()
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                answer = await client.post(
                    f"{self.url}/sign", json=self._request(digest_algorithm, digest), headers=self._headers
                )
        except httpx.HTTPError as exc:
            raise RemoteSignerUnavailable(f"{self.url}: {type(exc).__name__}") from None
        return self._checked(answer, digest_algorithm, digest)

    def raw_signer(self, digest: str) -> RawSigner:
        """The batch engine's signer: the same service, one request per signature."""
        if digest not in DIGESTS:
            raise ValueError(f"unsupported digest {digest}")
        cert = self.signing_cert
        assert cert is not None
        chain = tuple(c for c in self.cert_registry if c.sha256 != cert.sha256)

        def sign(data: bytes) -> bytes:
            return self.sign_digest(digest, hashlib.new(digest, data).digest())

        algorithm = signature_algorithm(self.algorithm, digest)
        return RawSigner(cert, chain, sign, algorithm, digest, self._max_signature_length())


def open_remote_key(url: str, *, token: str | None = None, timeout_s: float = TIMEOUT_S) -> SigningKey:
    """Fetch the remote key's certificate and chain and return it as a SigningKey (RSA keys sign with PSS)."""
    url = url.rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise RemoteSignerInvalid(f"{url}: not an HTTP(S) URL")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.get(f"{url}/certificate", headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise RemoteSignerUnavailable(f"{url}: {type(exc).__name__}") from None
    if answer.status_code != 200:
        error = RemoteSignerUnavailable if answer.status_code >= 500 else RemoteSignerInvalid
        raise error(f"{url}: HTTP {answer.status_code}")
    try:
        body = answer.json()
        cert = _load_pem(body["certificate"])
        chain = [_load_pem(c) for c in body.get("chain", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise RemoteSignerInvalid(f"{url}: malformed certificate answer ({type(exc).__name__})") from None
    key_algo = cert.public_key.algorithm
    if key_algo == "rsa":
        algorithm = RSA_PSS
    elif key_algo == "ec":
        algorithm = ECDSA
    else:
        raise RemoteSignerInvalid(f"{url}: unsupported key type {key_algo}")
    signer = RemoteSigner(url, cert, chain, algorithm, token=token, timeout_s=timeout_s)
    subject = cert.subject.native.get("common_name") or cert.subject.human_friendly
    log.info("Opened remote signing key at %s (%s, %s)", url, subject, algorithm)
    return SigningKey(signer=signer, cert=cert, subject_name=str(subject), algorithm=algorithm)


__all__ = ["RemoteSigner", "open_remote_key"]
