"""Short-lived download links for the local store: ``/objects/<bucket>/<key>?exp=<unix>&sig=<hmac>``.

The API serves such a path after ``verify_local_link`` accepts it; S3 uses real presigned URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sohoa.errors import error

LinkInvalid = error(
    "LINK_INVALID",
    "Đường dẫn tải tài liệu không hợp lệ hoặc đã hết hạn. Vui lòng yêu cầu đường dẫn mới.",
    "The download link is invalid or has expired. Request a new link.",
)

PATH_PREFIX = "/objects/"


def load_or_create_secret(path: Path) -> bytes:
    """The HMAC key for local links, created (mode 0600) on first use."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())


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
