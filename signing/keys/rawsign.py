"""Raw signature functions for the batch signer: one per loaded key, no per-call key parsing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from asn1crypto import algos
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from signing.cms.cmsbuild import DIGESTS, RawSigner
from signing.keys.keys import RSA_PKCS1V15, RSA_PSS, LoadedKeySigner, SigningKey

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def pss_algorithm(digest: str) -> algos.SignedDigestAlgorithm:
    """RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest (RFC 4055)."""
    return algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": algos.RSASSAPSSParams(
                {
                    "hash_algorithm": {"algorithm": digest},
                    "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
                    "salt_length": hashlib.new(digest).digest_size,
                }
            ),
        }
    )


def signature_algorithm(key_algorithm: str, digest: str) -> algos.SignedDigestAlgorithm:
    if key_algorithm == RSA_PSS:
        return pss_algorithm(digest)
    if key_algorithm == RSA_PKCS1V15:
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})
    return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})


def raw_signer(key: SigningKey, digest: str = "sha256") -> RawSigner:
    """A :class:`RawSigner` for a loaded key (PKCS#12/PEM) or an HSM key that provides one."""
    if digest not in DIGESTS:
        raise ValueError(f"unsupported digest {digest}")
    signer = key.signer
    factory = getattr(signer, "raw_signer", None)
    if factory is not None:
        result: RawSigner = factory(digest)
        return result
    if not isinstance(signer, LoadedKeySigner):
        raise TypeError(f"no raw signer for {type(signer).__name__}")
    private = signer.private_key
    hash_algo = _HASHES[digest]()
    chain = tuple(c for c in signer.cert_registry if c.sha256 != key.cert.sha256)
    if isinstance(private, rsa.RSAPrivateKey):
        size = (private.key_size + 7) // 8
        pad: padding.AsymmetricPadding
        if key.algorithm == RSA_PSS:
            pad = padding.PSS(mgf=padding.MGF1(hash_algo), salt_length=hash_algo.digest_size)
        else:
            pad = padding.PKCS1v15()

        def sign(data: bytes) -> bytes:
            return private.sign(data, pad, hash_algo)

    else:
        size = 2 * ((private.curve.key_size + 7) // 8 + 3) + 3
        scheme = ec.ECDSA(hash_algo)

        def sign(data: bytes) -> bytes:
            return private.sign(data, scheme)

    return RawSigner(
        cert=key.cert,
        chain=chain,
        sign=sign,
        algorithm=signature_algorithm(key.algorithm, digest),
        digest=digest,
        max_signature_size=size,
    )
