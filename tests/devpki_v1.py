"""A development PKI as versions before manifest version 2 wrote it, to test the upgrade.

No revocation pointers, the root and CA keys thrown away after use, a manifest without a version.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from signing.dev import draw_round_seal
from signing.dev.pki import AGENCY_NAME, OPERATOR_NAME, SEAL_TEXT, _issue, _name, _new_key, _p12, _pem


def write_v1_pki(directory: Path) -> None:
    directory.mkdir(parents=True)
    root = _issue(_name("sohoa DEV Root CA"), _new_key("rsa2048"), None, ca=True, years=10, path_length=1)
    ca = _issue(_name("sohoa DEV Issuing CA"), _new_key("rsa2048"), root, ca=True, years=10, path_length=0)
    leaves = {
        "agency": _issue(_name(AGENCY_NAME), _new_key("rsa2048"), ca, ca=False, years=2),
        "operator": _issue(_name(OPERATOR_NAME, title="Cán bộ số hóa"), _new_key("rsa2048"), ca, ca=False, years=2),
        "tsa": _issue(
            _name("sohoa DEV Time-Stamping Authority"), _new_key("rsa2048"), ca, ca=False, years=2, time_stamping=True
        ),
    }
    passphrase = secrets.token_urlsafe(32).encode("ascii")
    (directory / "passphrase.txt").write_bytes(passphrase + b"\n")
    (directory / "passphrase.txt").chmod(0o600)
    (directory / "README.txt").write_text("DEVELOPMENT ONLY - NOT FOR PRODUCTION\n", encoding="utf-8")
    (directory / "root.pem").write_bytes(_pem(root.cert))
    (directory / "ca.pem").write_bytes(_pem(ca.cert))
    for stem, leaf in leaves.items():
        (directory / f"{stem}.pem").write_bytes(_pem(leaf.cert))
        (directory / f"{stem}.p12").write_bytes(_p12(stem, leaf, [ca.cert, root.cert], passphrase))
        (directory / f"{stem}.p12").chmod(0o600)
    draw_round_seal(SEAL_TEXT, directory / "seal.png")
    manifest = {
        "development_only": True,
        "key_algorithm": "rsa2048",
        "created": dt.datetime.now(dt.UTC).isoformat(),
        "root_sha256": root.cert.fingerprint(hashes.SHA256()).hex(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
