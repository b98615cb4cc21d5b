"""Signing keys: PKCS#12/PEM files loaded once per process, PKCS#11 tokens (HSMs), and raw signature functions.

Every signer and TSA takes a :class:`SigningKey`; where it came from (file or token) stops here.
"""

from __future__ import annotations

from signing.keys.hsm import HsmConfig, open_hsm_key
from signing.keys.keys import ECDSA, RSA_PSS, LoadedKeySigner, SigningKey, load_pem_signer, load_pkcs12_signer
from signing.keys.rawsign import raw_signer
from signing.keys.remote import RemoteSigner, open_remote_key

__all__ = [
    "ECDSA",
    "RSA_PSS",
    "HsmConfig",
    "LoadedKeySigner",
    "RemoteSigner",
    "SigningKey",
    "load_pem_signer",
    "load_pkcs12_signer",
    "open_hsm_key",
    "open_remote_key",
    "raw_signer",
]
