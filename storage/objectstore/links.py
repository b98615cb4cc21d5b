"""Short-lived download links for the local store: ``/objects/<bucket>/<key>?exp=<unix>&sig=<hmac>``.

The API serves such a path after ``verify_local_link`` accepts it; S3 uses real presigned URLs.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from storage.errors import LinkInvalid, SecretFileInvalid

PATH_PREFIX = "/objects/"


SECRET_BYTES = 32


def _read_secret(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < SECRET_BYTES:  # an empty or short key would let anyone sign
        raise SecretFileInvalid(str(path))
    return key


def load_or_create_secret(path: Path) -> bytes:
    """An HMAC key kept in ``path`` (hex, mode 0600), made on first use.

    Several processes may start at once (``serve --processes``, API replicas sharing a volume):
    the key is written whole to a private temporary file and hard-linked into place, which fails
    if another process got there first, so every process reads the same complete key, never a
    half-written file.
    """
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(SECRET_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the key
            os.link(temp, path)
    finally:
        os.unlink(temp)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the new name is on disk: a key that vanished at a power cut would void every grant
    finally:
        os.close(folder)
    return _read_secret(path)


def _mac(secret: bytes, bucket: str, key: str, exp: int) -> str:
    return hmac.new(secret, f"{bucket}\n{key}\n{exp}".encode(), hashlib.sha256).hexdigest()


def sign_local_link(secret: bytes, bucket: str, key: str, expires_at: float) -> str:
    exp = int(expires_at)
    return f"{PATH_PREFIX}{bucket}/{quote(key)}?exp={exp}&sig={_mac(secret, bucket, key, exp)}"


def verify_local_link(secret: bytes, link: str, *, now: float | None = None) -> tuple[str, str]:
    """Return ``(bucket, key)`` of a valid, unexpired link; LinkInvalid otherwise."""
    parts = urlsplit(link)
    if not parts.path.startswith(PATH_PREFIX):
        raise LinkInvalid("path")
    bucket, _, key = parts.path[len(PATH_PREFIX) :].partition("/")
    query = parse_qs(parts.query)
    try:
        exp = int(query["exp"][0])
        sig = query["sig"][0]
    except (KeyError, ValueError, IndexError) as exc:
        raise LinkInvalid("query") from exc
    key = unquote(key)
    if not hmac.compare_digest(sig.encode(), _mac(secret, bucket, key, exp).encode()):
        raise LinkInvalid("signature")
    if exp < (time.time() if now is None else now):
        raise LinkInvalid("expired")
    return bucket, key
