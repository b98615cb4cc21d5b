"""API credentials of stations, officers and agencies: random secrets, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, fields

from sqlalchemy import select

from storage.catalogue.db import Catalogue, DriverSQL
from storage.catalogue.models import ApiClient, ClientRole, utcnow

KEY_PREFIX = "sohoa"


@dataclass(frozen=True)
class StationLimits:
    """A station's own batch limits; None keeps the service-wide default."""

    batches_per_minute: float | None = None
    batch_burst: int | None = None
    max_batch_bytes: int | None = None


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: ClientRole
    agency_code: str | None
    limits: StationLimits = StationLimits()
    officer_id: int | None = None  # an officer's personal key: requests act as that officer
    centre_id: int | None = None  # a station's centre, or the officer's


_FIND_KEY = DriverSQL(
    "SELECT c.id, c.name, c.role, c.agency_code, c.key_hash, c.revoked_at, c.batches_per_minute, c.batch_burst, "
    "c.max_batch_bytes, c.officer_id, COALESCE(c.centre_id, o.centre_id) "
    "FROM api_clients c LEFT JOIN officers o ON o.id = c.officer_id WHERE c.key_prefix = :prefix"
)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_client(
    catalogue: Catalogue,
    name: str,
    role: ClientRole,
    agency_code: str | None = None,
    limits: StationLimits | None = None,
    *,
    officer_id: int | None = None,
    centre_id: int | None = None,
) -> str:
    """Create a credential and return the full API key; it is shown once and never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with catalogue.session(durable=True) as s:
        s.add(
            ApiClient(
                name=name,
                role=role,
                key_prefix=prefix,
                key_hash=_hash(secret),
                agency_code=agency_code,
                officer_id=officer_id,
                centre_id=centre_id,
                **asdict(limits or StationLimits()),  # its fields are the columns' names
            )
        )
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def set_limits(catalogue: Catalogue, prefix: str, limits: StationLimits) -> bool:
    """Replace a credential's own limits (None fields fall back to the service default)."""
    with catalogue.session(durable=True) as s:
        row = s.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if row is None:
            return False
        for column, value in asdict(limits).items():
            setattr(row, column, value)
        return True


def authenticate(catalogue: Catalogue, api_key: str) -> Principal | None:
    """Resolve an API key; None for unknown, malformed, forged or revoked keys."""
    parts = api_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _, prefix, secret = parts
    with catalogue.autocommit() as db:  # every request runs this: one statement on the driver
        row = db.read(_FIND_KEY, {"prefix": prefix}).fetchone()
    if row is None or row[5] is not None:
        _hash(secret)  # same work whether or not the prefix exists
        return None
    client_id, name, role, agency_code, key_hash, _revoked, per_minute, burst, max_bytes, officer_id, centre_id = row
    if not hmac.compare_digest(key_hash, _hash(secret)):
        return None
    limits = StationLimits(per_minute, burst, max_bytes)
    return Principal(client_id, name, ClientRole(role), agency_code, limits, officer_id, centre_id)


def revoke_client(catalogue: Catalogue, prefix: str) -> bool:
    with catalogue.session(durable=True) as s:  # a revoked key must stay revoked
        row = s.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True


def list_clients(catalogue: Catalogue) -> list[dict[str, object]]:
    with catalogue.reading() as s:
        return [
            {
                "name": c.name,
                "role": c.role,
                "prefix": c.key_prefix,
                "agency_code": c.agency_code,
                "revoked": c.revoked_at is not None,
                **{f.name: getattr(c, f.name) for f in fields(StationLimits)},
            }
            for c in s.scalars(select(ApiClient).order_by(ApiClient.id))
        ]
