"""Officers' server-side sessions: the cookie holds a random token, the catalogue only its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.catalogue.db import Catalogue
from storage.catalogue.models import OfficerSession, utcnow

# last_seen_at is written at most this often (each request need not write the catalogue).
TOUCH_EVERY = timedelta(seconds=30)


class Stage(StrEnum):
    ACTIVE = "active"
    TOTP = "totp"  # the password was accepted, the TOTP code not yet
    ENROL = "enrol"  # the password was accepted; TOTP must be set up first


@dataclass(frozen=True)
class SessionInfo:
    id: int
    officer_id: int
    stage: Stage
    csrf_token: str
    method: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie's value, known only to the browser
    csrf_token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(s: Session, officer_id: int, stage: Stage, method: str, ttl: timedelta) -> NewSession:
    """A new session in the caller's transaction (a fresh token: sign-in never reuses one)."""
    now = utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    s.add(
        OfficerSession(
            token_hash=token_hash(token),
            csrf_token=csrf,
            officer_id=officer_id,
            stage=stage,
            method=method,
            created_at=now,
            expires_at=now + ttl,
            last_seen_at=now,
        )
    )
    return NewSession(token, csrf, now + ttl)


def find(catalogue: Catalogue, token: str, idle_timeout: timedelta) -> SessionInfo | None:
    """The live session of this token: not revoked, not expired, used within ``idle_timeout``; touched."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    with catalogue.reading() as s:
        row = s.scalar(select(OfficerSession).where(OfficerSession.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        if row.last_seen_at + idle_timeout <= now:
            return None
        info = SessionInfo(row.id, row.officer_id, Stage(row.stage), row.csrf_token, row.method, row.expires_at)
        stale = row.last_seen_at + TOUCH_EVERY <= now
    if stale:
        with catalogue.session() as s:
            s.execute(update(OfficerSession).where(OfficerSession.id == info.id).values(last_seen_at=now))
    return info


def revoke(s: Session, session_id: int) -> None:
    s.execute(
        update(OfficerSession)
        .where(OfficerSession.id == session_id, OfficerSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all(s: Session, officer_id: int) -> int:
    """End every session of an officer (disabled, password or TOTP reset); how many were live."""
    result = s.execute(
        update(OfficerSession)
        .where(OfficerSession.officer_id == officer_id, OfficerSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_ended(catalogue: Catalogue, *, older_than: timedelta) -> int:
    """Delete sessions that expired, or were revoked, longer than ``older_than`` ago; how many."""
    cutoff = utcnow() - older_than
    with catalogue.session() as s:
        result = s.execute(
            delete(OfficerSession).where((OfficerSession.expires_at < cutoff) | (OfficerSession.revoked_at < cutoff))
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
