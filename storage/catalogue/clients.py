"""API credentials of stations, officers and agencies: random secrets, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from storage.catalogue.db import Catalogue
from storage.catalogue.models import ApiClient, ClientRole, utcnow

KEY_PREFIX = "sohoa"


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: ClientRole
    agency_code: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_client(catalogue: Catalogue, name: str, role: ClientRole, agency_code: str | None = None) -> str:
    """Create a credential and return the full API key; it is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with catalogue.session() as s:
        s.add(ApiClient(name=name, role=role, key_prefix=prefix, key_hash=_hash(secret), agency_code=agency_code))
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def authenticate(catalogue: Catalogue, api_key: str) -> Principal | None:
    """Resolve an API key; None for unknown, malformed, forged or revoked keys."""
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, prefix, secret = parts
    with catalogue.session() as s:
        row = s.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if row is None or row.revoked_at is not None:
            _hash(secret)  # same work whether or not the prefix exists
            return None
        if not hmac.compare_digest(row.key_hash, _hash(secret)):
            return None
        return Principal(row.id, row.name, ClientRole(row.role), row.agency_code)


def revoke_client(catalogue: Catalogue, prefix: str) -> bool:
    with catalogue.session() as s:
        row = s.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True


def list_clients(catalogue: Catalogue) -> list[dict[str, object]]:
    with catalogue.session() as s:
        return [
            {
                "name": c.name,
                "role": c.role,
                "prefix": c.key_prefix,
                "agency_code": c.agency_code,
                "revoked": c.revoked_at is not None,
            }
            for c in s.scalars(select(ApiClient).order_by(ApiClient.id))
        ]
