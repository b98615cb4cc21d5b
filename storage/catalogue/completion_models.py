"""Catalogue tables of completing a dossier: a component's scans sent again, a stored document reused.

``component_resends``: each time a station sent one component's scans again (the component had
failed), keyed by the station's Idempotency-Key, so that a repeat answers as the first did.
``component_reuses``: a component completed by reference to a document the warehouse holds
(signed and stored in another dossier of the applicant) instead of being scanned again; who
attached it and when. The figure the statistics count (``count_reused``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.catalogue.models import Base, utcnow


class ComponentResend(Base):
    """One component's scans sent again by the station that pushed its dossier."""

    __tablename__ = "component_resends"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("station_id", "idempotency_key", name="uq_component_resend_idempotency"),)


class ComponentReuse(Base):
    """A component completed by a stored document of the applicant, attached by an officer."""

    __tablename__ = "component_reuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id"), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_component_reuses_at", "at"),)


def count_reused(session: Session, start: datetime, end: datetime) -> int:
    """Components completed by reusing a stored document, attached in ``[start, end)``."""
    stmt = select(func.count()).select_from(ComponentReuse).where(ComponentReuse.at >= start, ComponentReuse.at < end)
    return int(session.scalar(stmt) or 0)
