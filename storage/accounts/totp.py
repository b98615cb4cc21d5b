"""TOTP second factor (RFC 6238 via pyotp): secrets encrypted at rest, each code accepted once.

The secret is stored AES-256-GCM encrypted under a key file of the service (``officer-totp-key``
under var_dir, made on first use like the portal's HMAC key), with the officer's id as associated
data: a copy of the catalogue alone yields no secret, and a ciphertext moved to another account
does not decrypt.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import SecretFileInvalid
from storage.objectstore.links import load_or_create_secret

_VERSION = "v1:"
INTERVAL = 30
WINDOW = 1  # a code of the step before or after the current one is accepted too (clock drift)


class TotpBox:
    """Encrypts and decrypts officers' TOTP secrets with the service's key."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("TOTP key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, path: Path) -> TotpBox:
        return cls(load_or_create_secret(path))

    def seal(self, officer_id: int, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), _aad(officer_id))
        return _VERSION + base64.b64encode(nonce + sealed).decode()

    def open(self, officer_id: int, stored: str) -> str:
        if not stored.startswith(_VERSION):
            raise SecretFileInvalid("TOTP secret: unknown format")
        raw = base64.b64decode(stored[len(_VERSION) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], _aad(officer_id)).decode()
        except InvalidTag:
            raise SecretFileInvalid("TOTP secret does not decrypt with this key") from None


def _aad(officer_id: int) -> bytes:
    return f"sohoa-officer-totp:{officer_id}".encode()


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=username, issuer_name=issuer)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // INTERVAL)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, interval=INTERVAL).at(step * INTERVAL)


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to, within the accepted window (None: it matches none)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    step = current_step(now)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if pyotp.utils.strings_equal(totp.at(candidate * INTERVAL), code):
            return candidate
    return None
