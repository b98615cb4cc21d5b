"""Catalogue tables of telling the citizen: contact details given at intake, and the notices outbox.

``dossier_contacts``: the e-mail address and/or mobile number the applicant gave at intake, kept
only to tell them their result is ready (one row per dossier, none when nothing was given), and
purged ``notices.contact_retention_days`` after intake (``dossiers.notices.purge_contacts``).
``notices``: the outbox. One row per (e-result, channel), written in the transaction that records
the e-result, so a notice is never lost nor queued twice; the sender (``dossiers.notices``)
delivers it once the result is signed, retrying with backoff.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.catalogue.models import Base, utcnow


class NoticeState(StrEnum):
    PENDING = "pending"  # waiting for the result's signature, or for its next attempt
    SENDING = "sending"  # claimed by a sender until lease_until
    SENT = "sent"
    FAILED = "failed"  # gave up after notices.max_attempts (an officer may retry it)
    CANCELLED = "cancelled"  # the result's signing failed, or the contact was purged before sending


class NoticeChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DossierContact(Base):
    """How the applicant of a dossier asked to be told of its results (what they gave at intake)."""

    __tablename__ = "dossier_contacts"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Notice(Base):
    """One notice to send: an e-result's code and portal link, by one channel, to one recipient."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    eresult_id: Mapped[int] = mapped_column(ForeignKey("eresults.id"))
    channel: Mapped[str] = mapped_column(String(10))
    # The address or number; masked once the notice is settled and the retention period is over.
    recipient: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(20), default=NoticeState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("eresult_id", "channel", name="uq_notice_result_channel"),
        Index("ix_notices_due", "state", "next_attempt_at"),
    )
