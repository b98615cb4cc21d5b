"""One SoftHSM2 token per test process, keys generated inside it (non-extractable) on demand.

PKCS#11 initialises a module once per process and SoftHSM reads its token folder then, so every test
that needs a token shares this one (``SOFTHSM2_CONF`` is set for the whole process) and adds its own
keys under its own labels.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pkcs11.exceptions
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, KeyType

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "246810"
TOKEN_LABEL = "sohoa-test"


@dataclass(frozen=True)
class SoftHsmToken:
    module: Path
    label: str
    pin: str

    def generate_rsa(self, key_label: str, bits: int = 2048) -> rsa.RSAPublicKey:
        """A new RSA key pair inside the token (private part non-extractable, sensitive); its public key."""
        token = pkcs11.lib(str(self.module)).get_token(token_label=self.label)
        try:
            session = token.open(rw=True, user_pin=self.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:  # login is per process: a key opened earlier holds it
            session = token.open(rw=True)
        with session as s:
            public, _ = s.generate_keypair(
                KeyType.RSA,
                bits,
                label=key_label,
                store=True,
                private_template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.SIGN: True},
            )
            return rsa.RSAPublicNumbers(
                int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                int.from_bytes(public[Attribute.MODULUS], "big"),
            ).public_key()


def init_token(home: Path) -> SoftHsmToken:
    """Initialise the process's token under ``home`` (sets SOFTHSM2_CONF for the process)."""
    if not MODULE.is_file():
        raise RuntimeError("SoftHSM2 missing: apt-get install softhsm2")
    (home / "tokens").mkdir(parents=True, exist_ok=True)
    conf = home / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN, "--so-pin", "13579"],
        check=True,
        capture_output=True,
    )
    return SoftHsmToken(MODULE, TOKEN_LABEL, PIN)
