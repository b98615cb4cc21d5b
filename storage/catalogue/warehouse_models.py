"""Catalogue tables of the data warehouse: stored objects, agencies, grants and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.catalogue.models import Base, utcnow


class ObjectState(StrEnum):
    PENDING = "pending"  # staged under a temporary key, not yet at its content key
    STORED = "stored"


class ObjectRecord(Base):
    """One object the warehouse stored, and where its upload stands (crash-safe put)."""

    __tablename__ = "stored_objects"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(10), default=ObjectState.STORED)
    temp_key: Mapped[str | None] = mapped_column(String(200))
    # The version the warehouse wrote (versioned buckets); a read by key alone asks for the newest.
    version_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("bucket", "key", name="uq_stored_object"),
        Index("ix_stored_objects_state", "state"),
    )


class Agency(Base):
    """An agency that reuses documents, identified by its code (QĐ 20/2020, e.g. 000.00.12.H26)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Disabled: its grants and keys were revoked and no grant may be given until it is registered again.
    disabled_at: Mapped[datetime | None]


class Grant(Base):
    """Permission for an agency to fetch citizens' documents of some types, for one purpose."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    doc_types: Mapped[list[str]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One access (who, what, why, when, outcome), hash-chained to the entry before it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    # Whose documents the entry concerns (số định danh) and the centre whose dossier, document or
    # result it concerns, when one does (revision 0021; NULL before, or when none). Both are bound
    # by the entry's content hash (``storage.warehouse.audit.content_hash``).
    owner_id: Mapped[str | None] = mapped_column(String(12))
    centre_id: Mapped[int | None]

    __table_args__ = (
        Index("ix_audit_log_owner", "owner_id", "seq"),
        Index("ix_audit_log_centre", "centre_id", "seq"),
        Index("ix_audit_log_actor", "actor", "seq"),
        Index("ix_audit_log_action", "action", "seq"),
        Index("ix_audit_log_at", "at"),
    )


class AuditHead(Base):
    """The chain's newest entry (one row); detects entries removed from the end."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # the hash the last advance replaced
    note: Mapped[str] = mapped_column(Text, default="")


class AuditAnchor(Base):
    """The chain's head (seq, hash) time-stamped by a TSA (RFC 3161), the token kept in the locked results bucket.

    Rewriting the whole log (every hash recomputed) keeps the chain consistent, but not the entry
    an anchor names: ``sohoa audit verify`` checks each anchor's token and its (seq, hash).
    """

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    anchored_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    tsa_time: Mapped[datetime]
    object_key: Mapped[str] = mapped_column(String(200))
    object_sha256: Mapped[str] = mapped_column(String(64))
    object_version: Mapped[str | None] = mapped_column(String(200))
