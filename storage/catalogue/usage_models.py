"""Catalogue tables of what each station used in a day: pipeline work taken in, reuse lookups made.

They live in the catalogue, not in memory, so that a restart or a second API process never
hands a station a fresh budget. Days are Vietnam's calendar days (UTC+7, no daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.catalogue.models import Base, utcnow


class StationUsage(Base):
    """The pipeline work one station's batches brought in on one day (each recorded batch adds its own)."""

    __tablename__ = "station_usage"

    station_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    batches: Mapped[int] = mapped_column(default=0)
    pages: Mapped[int] = mapped_column(BigInteger, default=0)
    expanded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class ReuseLookup(Base):
    """One station asking, at intake, which stored documents of an applicant it may reuse.

    Every lookup is kept, whatever it found: who asked about whom, and the counts that bound a
    station's day (distinct applicants; distinct birth dates given for one applicant).
    """

    __tablename__ = "reuse_lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    day: Mapped[date]
    applicant_id: Mapped[str] = mapped_column(String(12))
    birth_date: Mapped[date]  # as the manifest gave it (the dossier records it too)
    dossier_code: Mapped[str] = mapped_column(String(64))
    # disclosed | none (nothing reusable, or nothing the birth date opened) | mismatch | refused
    outcome: Mapped[str] = mapped_column(String(16))
    documents: Mapped[int] = mapped_column(default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_reuse_lookups_station_day", "station_id", "day", "applicant_id"),)
